"""``fsolve``: SciPy's interface to Powell's hybrid method, on our Fortran MINPACK.

The marshalling lives here; the algorithm (hybrd, hybrj) lives in
``minpack/minpack_hybrid.f90``.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ._checks import (
    F64,
    as_diag,
    as_maxfev,
    as_real,
    as_start,
    default_maxfev,
    first_point,
    machine_epsilon,
    residual_array,
    shape_mismatch,
)
from ._compiled import (
    as_compiled,
    compiled_route,
    python_route,
    run_hybrid,
    user_data_address,
)
from ._contexts import jacobian_context, residual_context
from ._nonfinite import (
    NONFINITE_JACOBIAN,
    NONFINITE_START,
    check_start,
    jacobian_message,
    nonfinite_start,
)
from ._leastsq import _is_empty, _python_callables

__all__ = ["fsolve"]


def _band(band: Any) -> tuple[int, int]:
    """The (ml, mu) of SciPy's `band` argument: its first two entries."""
    try:
        ml, mu = band[:2]
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"band must be a sequence (ml, mu) of two integers; got "
                        f"{band!r:.60} ({exc})") from None
    if not all(isinstance(b, numbers.Integral) for b in (ml, mu)):
        raise TypeError(f"band must be two integers (ml, mu); got {band!r:.60}")
    return ml, mu


def _messages(xtol: float, maxfev: int) -> dict:
    """SciPy's message for each status of hybrd/hybrj."""
    return {
        0: "Improper input parameters were entered.",
        1: "The solution converged.",
        2: "The number of calls to function has "
           f"reached maxfev = {maxfev}.",
        3: f"xtol={xtol:f} is too small, no further improvement "
           "in the approximate\n solution is possible.",
        4: "The iteration is not making good progress, as measured "
           "by the \n improvement from the last five "
           "Jacobian evaluations.",
        5: "The iteration is not making good progress, "
           "as measured by the \n improvement from the last "
           "ten iterations.",
        # not SciPy's; NONFINITE_START raises a ValueError
        NONFINITE_JACOBIAN: jacobian_message("the solver", "fprime"),
    }


def _empty_start(func: Callable[..., Any], args: Any, use_jac: bool) -> tuple:
    """fsolve's full output for N = 0, MINPACK's improper input, as SciPy's.

    `func` is called once at the empty x0 and must return no value; `fprime`
    is never called. MINPACK rejects the problem before it counts anything,
    so ``nfev`` is 0 as for any improper input (SciPy counts its two calls).
    """
    x = np.zeros(0)
    out = func(x.copy(), *(args if isinstance(args, tuple) else (args,)))
    fvec = np.array(residual_array(out, None, "func"), dtype=np.float64)
    if fvec.shape != (0,):
        exc = shape_mismatch("fsolve", "func", func, (0,), np.shape(np.atleast_1d(out)))
        raise TypeError(f"{exc} x0 is empty (N=0), so func must return no value")
    info: dict = {"nfev": 0, "njev": 0} if use_jac else {"nfev": 0}
    info.update(fjac=np.zeros((0, 0)), r=np.zeros(0), qtf=np.zeros(0), fvec=fvec)
    return x, info, 0, _messages(0.0, 0)[0]


def fsolve(
    func: Callable[..., Any],
    x0: Any,
    args: Any = (),
    fprime: Callable[..., Any] | None = None,
    full_output: bool = 0,
    col_deriv: bool = 0,
    xtol: float = 1.49012e-8,
    maxfev: int = 0,
    band: Any = None,
    epsfcn: float | None = None,
    factor: float = 100,
    diag: Any = None,
) -> Any:
    """Find the roots of a function.

    A drop-in replacement for `scipy.optimize.fsolve`, computed by this
    package's own Fortran implementation of MINPACK-1's ``hybrd`` and
    ``hybrj`` (Powell's hybrid method). Returns the roots of the
    (non-linear) equations defined by ``func(x) = 0`` given a starting
    estimate.

    Parameters
    ----------
    func : callable ``f(x, *args)``
        A function that takes at least one (possibly vector) argument,
        and returns a value of the same length.
    x0 : ndarray
        The starting estimate for the roots of ``func(x) = 0``.
    args : tuple, optional
        Any extra arguments to `func`.
    fprime : callable ``f(x, *args)``, optional
        A function to compute the Jacobian of `func` with derivatives
        across the rows. By default, the Jacobian will be estimated.
    full_output : bool, optional
        If True, return optional outputs.
    col_deriv : bool, optional
        Specify whether the Jacobian function computes derivatives down
        the columns (faster, because there is no transpose operation).
    xtol : float, optional
        The calculation will terminate if the relative error between two
        consecutive iterates is at most `xtol`.
    maxfev : int, optional
        The maximum number of calls to the function. If zero, then
        ``100*(N+1)`` is the maximum where N is the number of elements
        in `x0` (``200*(N+1)`` without `fprime`).
    band : tuple, optional
        If set to a two-sequence containing the number of sub- and
        super-diagonals within the band of the Jacobi matrix, the
        Jacobi matrix is considered banded (only for ``fprime=None``).
    epsfcn : float, optional
        A suitable step length for the forward-difference
        approximation of the Jacobian (for ``fprime=None``). If
        `epsfcn` is less than the machine precision, it is assumed
        that the relative errors in the functions are of the order of
        the machine precision.
    factor : float, optional
        A parameter determining the initial step bound
        (``factor * || diag * x||``). Should be in the interval
        ``(0.1, 100)``.
    diag : sequence, optional
        N positive entries that serve as a scale factors for the
        variables.

    Returns
    -------
    x : ndarray
        The solution (or the result of the last iteration for
        an unsuccessful call).
    infodict : dict
        A dictionary of optional outputs with the keys:

        ``nfev``
            number of function calls
        ``njev``
            number of Jacobian calls (only with `fprime`)
        ``fvec``
            function evaluated at the output
        ``fjac``
            the orthogonal matrix, q, produced by the QR
            factorization of the final approximate Jacobian
            matrix, stored column wise
        ``r``
            upper triangular matrix produced by QR factorization
            of the same matrix
        ``qtf``
            the vector ``(transpose(q) * fvec)``

    ier : int
        An integer flag.  Set to 1 if a solution was found, otherwise refer
        to `mesg` for more information. Beyond SciPy's values: 11, the
        Jacobian is not finite at `x` (see Notes); negative, a compiled func
        or fprime returned the non-zero status ``-ier``.
    mesg : str
        If no solution is found, `mesg` details the cause of failure.

    Raises
    ------
    TypeError
        For improper input (status 0) without `full_output`, and when `func`
        or `fprime` returns an array of the wrong shape (SciPy's messages).
    ValueError
        When `func` returns values that are not finite (NaN or inf) at `x0`:
        the message says which. `func` has then been called once.
    Exception
        Any exception raised by `func` or `fprime` stops the solver and is
        re-raised unchanged.

    Warns
    -----
    RuntimeWarning
        When the status is 2-5 or 11 and `full_output` is false.

    See Also
    --------
    scipy.optimize.fsolve : the SciPy function this one replaces.
    leastsq : nonlinear least squares, for more equations than unknowns.

    Notes
    -----
    `func` is evaluated exactly ``infodict['nfev']`` times, and `fprime`
    exactly ``infodict['njev']`` times (except for improper input, status 0,
    where MINPACK rejects the call before counting: `nfev` is then 0 though
    `func` ran once at `x0`). SciPy evaluates `func` three times at
    `x0` (a check, a sizing call, then MINPACK's first evaluation) and counts
    all of them, so for the same iterates its ``nfev`` is 2 higher (and it
    calls `fprime` once more, to check its shape). Here the one evaluation
    at `x0` is handed to MINPACK as its first. The `x` handed to `func` and
    `fprime` is a fresh array the caller may keep.

    Values of `func` that are not finite (NaN or inf) are never taken for a
    result. At `x0` they raise a `ValueError` at once (SciPy iterates until
    it reports no progress). At a trial point they make the step fail, as a
    step that increases ``|func(x)|`` does: the step bound shrinks and the
    solver goes on from the last point, so equations undefined in part of the
    space (the logarithm or square root of an unknown that a long step makes
    negative) are still solved where they are defined. A Jacobian that is
    not finite (from `fprime`, or a difference step that reached such a
    point) stops the solver at the current `x` with status 11. While every
    value stays finite, iterates, ``nfev`` and the status are SciPy's.

    Examples
    --------
    Find a solution to the system of equations:
    ``x0*cos(x1) = 4,  x1*x0 - x1 = 5``.

    >>> import numpy as np
    >>> from minpack import fsolve
    >>> def func(x):
    ...     return [x[0] * np.cos(x[1]) - 4,
    ...             x[1] * x[0] - x[1] - 5]
    >>> root = fsolve(func, [1, 1])
    >>> root
    array([6.50409711, 0.90841421])
    >>> np.isclose(func(root), [0.0, 0.0])  # func(root) should be almost 0.0.
    array([ True,  True])
    """
    try:
        x = as_start(x0)
    except TypeError:
        if full_output and _is_empty(x0) and _python_callables(func, fprime):
            return _empty_start(func, args, fprime is not None)  # SciPy's answer
        raise
    n = x.size
    xtol, factor = as_real(xtol, "xtol"), as_real(factor, "factor")
    epsfcn = None if epsfcn is None else as_real(epsfcn, "epsfcn")
    maxfev = as_maxfev(maxfev)  # <= 0: MINPACK's default (SciPy takes < 0 so too)
    if not isinstance(args, tuple):
        args = (args,)
    use_jac = fprime is not None
    mode, diag_arr = as_diag(diag, n)
    ml, mu = (-10, -10) if band is None else _band(band)
    # a negative band width means a dense Jacobian, as in SciPy
    ml = n - 1 if ml < 0 else ml
    mu = n - 1 if mu < 0 else mu

    errors: list = []
    compiled = as_compiled(func, "func")
    compiled_jac = as_compiled(fprime, "fprime")
    if compiled is None and compiled_jac is None:
        # One evaluation at x0: checks the shape, gives the output dtype, and
        # is handed to MINPACK as its first evaluation (see first_point).
        xf, have_f0 = first_point(x, x0)
        out = func(xf, *args)
        f0 = residual_array(out, None, "func")
        if f0.shape != (n,):
            if n != 1:
                raise shape_mismatch("fsolve", "func", func, (n,),
                                     np.shape(np.atleast_1d(out)))
            raise ValueError(f"func must return {n} value, one per unknown; "
                             f"it returned {f0.size}")
        if not have_f0:  # MINPACK will not see f0: check it here
            check_start(f0, what="values")
        if epsfcn is None:
            epsfcn = machine_epsilon(f0.dtype)
        # (when not have_f0, MINPACK makes its own first evaluation; f0 only
        # fills fvec until then, which improper input returns as SciPy does)
        f0 = np.array(f0, dtype=np.float64)
        route = python_route(
            residual_context(func, args, n, errors),
            None if fprime is None else
            jacobian_context(fprime, args, n, n, bool(col_deriv), errors,
                             checker="fsolve", argname="fprime"))
    else:
        if compiled is None or (use_jac and compiled_jac is None):
            raise TypeError("func and fprime must both be compiled functions, or "
                            "both Python callables")
        if col_deriv:
            raise ValueError("col_deriv does not apply to a compiled fprime: it "
                             "always fills fjac column by column (Fortran order)")
        if epsfcn is None:
            epsfcn = machine_epsilon(F64)
        f0, have_f0 = None, False
        user_data = user_data_address(args, compiled)
        route = compiled_route(compiled, compiled_jac, user_data)
    res = run_hybrid(route, f0, x, xtol, maxfev, ml, mu, epsfcn, diag_arr, mode, factor,
                     have_f0)
    x, fvec, _, fjac, r, qtf, status, nfev, njev = res
    if errors:
        raise errors[0]
    if status == NONFINITE_START:
        raise nonfinite_start(fvec, what="values")
    info: dict = {"nfev": nfev, "njev": njev} if use_jac else {"nfev": nfev}

    if status == 1 and not full_output:
        return x
    if status < 0:
        msg = (f"The compiled func or fprime returned a non-zero status; the "
               f"solver was stopped (ier = -|status| = {status}).")
    else:
        if status == 2 and maxfev == 0:  # the limit in the message (SciPy
            maxfev = default_maxfev(n, use_jac)  # shows a negative one as it is)
        msg = _messages(xtol, maxfev).get(status, "An error occurred.")
    if full_output:
        # SciPy hands out the Fortran matrix Q read in C order, i.e. Q^T.
        info["fjac"] = np.ascontiguousarray(fjac.T)
        info["r"] = r
        info["qtf"] = qtf
        info["fvec"] = fvec
        return x, info, status, msg
    if status in (2, 3, 4, 5, NONFINITE_JACOBIAN):
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    elif status < 0:
        raise RuntimeError(msg)
    elif status != 1:
        raise TypeError(msg)
    return x
