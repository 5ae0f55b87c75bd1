"""``leastsq``: SciPy's Levenberg-Marquardt interface on our Fortran MINPACK.

The marshalling lives here; the algorithm lives in ``minpack/`` (Fortran) and
is reached through the f2py extension ``minpack._minpack``.
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import numpy as np

from . import _compiled, _minpack
from ._checks import (
    F64,
    SUCCESS,
    Box,
    as_bounds,
    as_diag,
    as_maxfev,
    as_real,
    as_start,
    check_sizes,
    default_maxfev,
    first_point,
    free_covariance,
    held_parameters,
    machine_epsilon,
    residual_array,
    vectorized_residuals,
)
from ._compiled import (
    PLAIN,
    Compiled,
    as_compiled,
    compiled_route,
    python_route,
    run_lm,
    user_data_address,
)
from ._contexts import Iteration, jacobian_context, progress_context, residual_context
from ._nonfinite import (
    NONFINITE_JACOBIAN,
    NONFINITE_START,
    check_start,
    jacobian_message,
    nonfinite_start,
)
from ._optimize import warning_category

__all__ = ["leastsq"]

# ier when the iteration callback raised StopIteration (not a MINPACK value).
STOPPED = 9

# How the warning about parameters held on a bound names them: (names or
# None for x[i], the result it speaks of or None for no warning, extra stack
# levels). curve_fit, least_squares and leastsq_batch set it for the duration
# of their leastsq calls (a ContextVar: per thread and task).
HELD_REPORT: ContextVar[tuple] = ContextVar("minpack_held_report",
                                            default=(None, "cov_x", 0))


# SciPy's message for each ier, filled in with the tolerances by _message.
_MESSAGES = {
    0: "Improper input parameters.",
    1: "Both actual and predicted relative reductions "
       "in the sum of squares\n  are at most {ftol:f}",
    2: "The relative error between two consecutive "
       "iterates is at most {xtol:f}",
    3: "Both actual and predicted relative reductions in "
       "the sum of squares\n  are at most {ftol:f} and the "
       "relative error between two consecutive "
       "iterates is at \n  most {xtol:f}",
    4: "The cosine of the angle between func(x) and any "
       "column of the\n  Jacobian is at most {gtol:f} in "
       "absolute value",
    5: "Number of calls to function has reached "
       "maxfev = {maxfev}.",
    6: "ftol={ftol:f} is too small, no further reduction "
       "in the sum of squares\n  is possible.",
    7: "xtol={xtol:f} is too small, no further improvement in "
       "the approximate\n  solution is possible.",
    8: "gtol={gtol:f} is too small, func(x) is orthogonal to the "
       "columns of\n  the Jacobian to machine precision.",
    # not SciPy's (it has no such test); NONFINITE_START raises a ValueError
    NONFINITE_JACOBIAN: jacobian_message("the fit", "Dfun"),
}


def _message(info: int, ftol: float, xtol: float, gtol: float, maxfev: int,
             stopped: list) -> str:
    """The message for `info`: SciPy's, or ours for a stopped fit."""
    if info == STOPPED:
        return (f"Stopped by the callback (StopIteration) at iteration "
                f"{stopped[0]}.")
    if info < 0:
        return (f"The compiled func or Dfun returned a non-zero status; the fit "
                f"was stopped (ier = -|status| = {info}).")
    return _MESSAGES[info].format(ftol=ftol, xtol=xtol, gtol=gtol, maxfev=maxfev)


def leastsq(
    func: Callable[..., Any],
    x0: Any,
    args: Any = (),
    Dfun: Callable[..., Any] | None = None,
    full_output: bool = False,
    col_deriv: bool = False,
    ftol: float = 1.49012e-8,
    xtol: float = 1.49012e-8,
    gtol: float = 0.0,
    maxfev: int = 0,
    epsfcn: float | None = None,
    factor: float = 100,
    diag: Any = None,
    *,
    callback: Callable[[Iteration], Any] | None = None,
    m: int | None = None,
    vectorized: bool = False,
    bounds: Any = None,
) -> tuple:
    """Minimize the sum of squares of a set of equations.

    A drop-in replacement for `scipy.optimize.leastsq`, computed by this
    package's own Fortran implementation of MINPACK-1's ``lmdif`` and
    ``lmder``::

        x = arg min(sum(func(y)**2, axis=0))
                 y

    Parameters
    ----------
    func : callable
        Should take at least one (possibly length ``N`` vector) argument and
        return ``M`` floating point numbers. ``M`` must be greater than or
        equal to ``N``. Where it returns NaN or inf the model counts as
        undefined: see Notes.
    x0 : ndarray
        The starting estimate for the minimization.
    args : tuple, optional
        Any extra arguments to func are placed in this tuple.
    Dfun : callable, optional
        A function or method to compute the Jacobian of func with derivatives
        across the rows. If this is None, the Jacobian will be estimated.
    full_output : bool, optional
        If ``True``, return all optional outputs (not just `x` and `ier`).
    col_deriv : bool, optional
        If ``True``, specify that the Jacobian function computes derivatives
        down the columns (faster, because there is no transpose operation).
    ftol : float, optional
        Relative error desired in the sum of squares.
    xtol : float, optional
        Relative error desired in the approximate solution.
    gtol : float, optional
        Orthogonality desired between the function vector and the columns of
        the Jacobian.
    maxfev : int, optional
        The maximum number of calls to the function. If `Dfun` is provided,
        then the default `maxfev` is 100*(N+1) where N is the number of
        elements in x0, otherwise the default `maxfev` is 200*(N+1).
    epsfcn : float, optional
        A variable used in determining a suitable step length for the forward-
        difference approximation of the Jacobian (for Dfun=None). Normally the
        actual step length will be sqrt(epsfcn)*x. If epsfcn is less than the
        machine precision, it is assumed that the relative errors are of the
        order of the machine precision. The default is the machine precision
        of the dtype of `func`'s output.
    factor : float, optional
        A parameter determining the initial step bound
        (``factor * || diag * x||``). Should be in interval ``(0.1, 100)``.
    diag : sequence, optional
        N positive entries that serve as a scale factors for the variables.
    callback : callable, optional
        Beyond SciPy: called as ``callback(Iteration)`` at the start of each
        iteration (see `minpack.Iteration`); raise ``StopIteration`` to stop
        the fit (``ier`` 9).
    m : int, optional
        Beyond SciPy: the number of residuals; required for a compiled `func`.
    vectorized : bool, optional
        Beyond SciPy: `func` takes x of shape ``(N, k)`` and returns ``(M,
        k)``, so each difference Jacobian is one call.
    bounds : 2-tuple of array_like, optional
        Beyond SciPy: ``(lb, ub)``, lower and upper bounds on the variables,
        each a scalar or an array of length N; ``-np.inf``/``np.inf`` for
        no bound, ``lb[j] == ub[j]`` fixes ``x[j]``. The fit is the bounded
        Levenberg-Marquardt of this package's engine (see Notes); `func` and
        `Dfun` are never called outside the box, difference steps included.
        None (the default) or all-infinite bounds: MINPACK's own fit.

    Returns
    -------
    x : ndarray
        The solution (or the result of the last iteration for an unsuccessful
        call).
    cov_x : ndarray
        The inverse of the Hessian approximation ``J^T J``, or None if it is
        singular or `ier` is not in 1-4. Multiply by the residual variance to
        get the covariance of the estimates (see `scipy.optimize.curve_fit`).
        Only returned if `full_output` is ``True``. With `bounds`, when
        parameters end held on a bound (or fixed): the free parameters'
        ``inv(J_f^T J_f)``, with NaN in the rows and columns of the held
        ones.
    infodict : dict
        Only returned if `full_output` is ``True``; keys:

        ``nfev``
            The number of function calls.
        ``njev``
            The number of Jacobian calls (only when `Dfun` is given).
        ``fvec``
            The function evaluated at the output.
        ``fjac``
            A permutation of the R matrix of a QR factorization of the final
            approximate Jacobian matrix, stored column wise, shape ``(N, M)``.
        ``ipvt``
            An integer array of length N (int32, 0-based) which defines a
            permutation matrix, p, such that fjac*p = q*r.
        ``qtf``
            The vector (transpose(q) * fvec).
        ``active_mask``
            Only with `bounds`: -1 where ``x[j]`` ended on its lower bound (or
            is fixed), 1 on its upper bound, 0 elsewhere (as in
            `scipy.optimize.least_squares`). A parameter on a bound is exactly
            on it.
    mesg : str
        A string message giving information about the cause of failure.
        Only returned if `full_output` is ``True``.
    ier : int
        An integer flag. If it is equal to 1, 2, 3 or 4, the solution was
        found. Otherwise, the solution was not found. In either case, the
        optional output variable 'mesg' gives more information. Beyond
        SciPy's values: 9, stopped by `callback`; 11, the Jacobian is not
        finite at `x` (see Notes); negative, a compiled func or Dfun returned
        the non-zero status ``-ier``.

    Raises
    ------
    TypeError
        For improper input (``ier`` 0 without `full_output`), for N > M, and
        for a `Dfun` result of the wrong shape, with SciPy's messages; also
        when `x0` or a returned residual is not real-valued.
    ValueError
        When `func` returns a residual vector of the wrong shape, or
        residuals that are not finite (NaN or inf) at `x0`: the message says
        which. `func` has then been called once. For malformed `bounds` (not
        a pair, the wrong length, NaN, a lower bound above its upper one)
        and for `x0` outside them, before any call.
    Exception
        Any exception raised by `func` or `Dfun` stops the fit and is
        re-raised unchanged.

    Warns
    -----
    RuntimeWarning
        When ``ier`` is 5-8 or 11 and `full_output` is false.
    OptimizeWarning
        With `bounds` and `full_output`, when parameters end held on a bound:
        the warning names them (their `cov_x` rows are NaN).

    See Also
    --------
    scipy.optimize.leastsq : the SciPy function this one replaces.

    Notes
    -----
    Differences from SciPy, all deliberate:

    * `func` is evaluated exactly ``infodict['nfev']`` times. SciPy evaluates
      it three times at `x0`; here the one evaluation used to learn M is
      handed to MINPACK as its first. (For an `x0` of another float dtype
      than float64, such as float32, that evaluation is made in x0's dtype,
      as SciPy does to choose the default `epsfcn`, and MINPACK makes its
      own: nfev + 1 calls.) Likewise `Dfun` is called exactly ``njev``
      times (SciPy calls it once more, to check its shape).
    * The `x` handed to `func` and `Dfun` is a fresh array that the caller
      may keep; SciPy hands a view of solver memory that changes later.
    * `cov_x` is computed in Fortran from R and `ipvt`, as SciPy does with
      LAPACK, so SciPy is not needed.
    * Residuals that are not finite (NaN or inf) are never taken for a
      result. At `x0` they raise a `ValueError` at once (SciPy runs to
      `maxfev` or returns a false ``ier`` 4). At a trial point they make the
      step fail, as a step that increases the sum of squares does: the step
      bound shrinks and the fit goes on, so a model undefined in part of the
      space (the square root or logarithm of a parameter that a long step
      makes negative) still converges where it is defined. A Jacobian that
      is not finite (from `Dfun`, or a difference step that reached such a
      point) stops the fit at the current `x` with ``ier`` 11. While every
      value stays finite, iterates, ``nfev`` and ``ier`` are SciPy's.

    Bounds (not in SciPy's ``leastsq``) are handled inside the iteration, an
    active-set variant of MINPACK's after mpfit (Markwardt 2009): after each
    Jacobian, a parameter on a bound whose gradient points out of the box is
    held (its Jacobian column set to zero); a step that would leave the box
    is cut back to it. While no bound is reached the arithmetic is
    MINPACK's own, so a box that the fit never touches gives bit-identical
    results. A held parameter is not estimated by the data: its `cov_x` row
    and column are NaN (never zero) and the rest is the covariance of the
    free parameters. See the "Bounds" page of the documentation.

    Examples
    --------
    >>> import numpy as np
    >>> from minpack import leastsq
    >>> def func(x):
    ...     return 2*(x-3)**2+1
    >>> leastsq(func, 0)
    (array([2.99999999]), 1)

    Fit ``y = a exp(-b t)`` with the full output:

    >>> t = np.linspace(0, 4, 20)
    >>> y = 3.0 * np.exp(-1.3 * t)
    >>> x, cov_x, info, mesg, ier = leastsq(
    ...     lambda p: y - p[0] * np.exp(-p[1] * t), [1.0, 1.0], full_output=True)
    >>> np.round(x, 6), ier in (1, 2, 3, 4), info["nfev"] > 0
    (array([3. , 1.3]), True, True)

    The same fit with the amplitude capped at 2.5: it ends on that bound.

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # x[0] is held: its cov_x row is NaN
    ...     x, cov_x, info, mesg, ier = leastsq(
    ...         lambda p: y - p[0] * np.exp(-p[1] * t), [1.0, 1.0],
    ...         full_output=True, bounds=([0, 0], [2.5, np.inf]))
    >>> x[0], info["active_mask"], bool(np.isnan(cov_x[0]).all())
    (np.float64(2.5), array([1, 0]), True)
    """
    if (callback is None and bounds is None and type(func) not in PLAIN
            and not (vectorized or col_deriv)):
        # a compiled func, most likely: the lean entry takes the plain cases
        out = _compiled.lean_lm(func, x0, args, Dfun, m, ftol, xtol, gtol, maxfev,
                                epsfcn, factor, diag, full_output)
        if out is not NotImplemented:
            if not full_output and out[6] in SUCCESS:  # the usual end, at once
                return out[0], out[6]
            return _finish(out, full_output, Dfun is not None, ftol, xtol, gtol,
                           maxfev, [])
    try:
        x = as_start(x0)
    except TypeError:
        if full_output and _is_empty(x0) and _python_callables(func, Dfun):
            return _empty_start(func, args, Dfun is not None)  # SciPy's answer
        raise
    n = x.size
    ftol, xtol, gtol = as_real(ftol, "ftol"), as_real(xtol, "xtol"), as_real(gtol, "gtol")
    factor = as_real(factor, "factor")
    epsfcn = None if epsfcn is None else as_real(epsfcn, "epsfcn")
    maxfev = as_maxfev(maxfev)  # <= 0: MINPACK's default (SciPy takes < 0 so too)
    if not isinstance(args, tuple):
        args = (args,)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable; got {type(callback).__name__}")
    mode, diag_arr = as_diag(diag, n)
    box = as_bounds(bounds, x, n, outside="x0 is outside the bounds")
    errors: list = []
    stopped: list = []
    progress = (None if callback is None
                else progress_context(callback, errors, stopped))

    compiled = as_compiled(func, "func")
    compiled_jac = as_compiled(Dfun, "Dfun")
    if compiled is None and compiled_jac is None:
        # One evaluation at x0: gives M and the output dtype, and is handed to
        # MINPACK as its first evaluation (see first_point).
        xf, have_f0 = first_point(x, x0)
        if vectorized:
            f0 = vectorized_residuals(func(xf.reshape(-1, 1), *args), None, 1)[:, 0]
        else:
            f0 = residual_array(func(xf, *args), None, "func")
        m = _check_m(m, f0.shape[0], n)
        if not have_f0:  # MINPACK will not see f0: check it here
            check_start(f0)
        if epsfcn is None:
            epsfcn = machine_epsilon(f0.dtype)
        # (when not have_f0, MINPACK makes its own first evaluation; f0 only
        # fills fvec until then, which improper input returns as SciPy does)
        f0 = np.array(f0, dtype=np.float64)
        route = python_route(
            residual_context(func, args, m, errors, vectorized),
            None if Dfun is None else
            jacobian_context(Dfun, args, m, n, bool(col_deriv), errors))
    else:
        if vectorized:
            raise ValueError("vectorized applies to Python functions only; a "
                             "compiled func is called one point at a time")
        m = _check_compiled(compiled, compiled_jac, Dfun, col_deriv, m, n)
        if epsfcn is None:
            epsfcn = machine_epsilon(F64)
        f0, have_f0 = None, False
        user_data = user_data_address(args, compiled)
        route = compiled_route(compiled, compiled_jac, user_data)
    out = run_lm(route, progress, m, f0, x, ftol, xtol, gtol, maxfev, epsfcn, diag_arr,
                 mode, factor, full_output, have_f0, box)
    return _finish(out, full_output, Dfun is not None, ftol, xtol, gtol, maxfev, errors,
                   stopped, box)


def _finish(out: tuple, full_output: Any, use_jac: bool, ftol: float, xtol: float,
            gtol: float, maxfev: int, errors: list, stopped: list | None = None,
            box: Box | None = None) -> tuple:
    """leastsq's result from the solver's outputs `out` (see _minpack.pyi);
    with `box`, the bounded fit's (``active_mask``, the free parameters'
    covariance).
    """
    x, fvec, _, fjac, ipvt, qtf, info, nfev, njev = out
    if errors:
        raise errors[0]
    if info == NONFINITE_START:
        raise nonfinite_start(fvec)
    if info < 0 and stopped:
        info = STOPPED
    if not full_output and info in SUCCESS:
        return x, info
    if info == 5 and maxfev == 0:  # the limit in the message (SciPy shows a
        maxfev = default_maxfev(x.size, use_jac)  # negative one as it is)
    mesg = _message(info, ftol, xtol, gtol, maxfev, stopped)
    if full_output:
        cov_x = None
        if info in SUCCESS:
            cov_x = _covariance(fjac, ipvt, box)
        infodict = {"fvec": fvec, "nfev": nfev}
        if use_jac:
            infodict["njev"] = njev
        infodict["fjac"] = fjac.T
        infodict["ipvt"] = ipvt - 1
        infodict["qtf"] = qtf
        if box is not None:
            infodict["active_mask"] = box.active.astype(np.int_)
        return (x, cov_x, infodict, mesg, info)
    if info in (5, 6, 7, 8, NONFINITE_JACOBIAN):
        warnings.warn(mesg, RuntimeWarning, stacklevel=3)  # leastsq -> _finish
    elif info == 0:
        raise TypeError(mesg)
    elif info < 0:
        raise RuntimeError(mesg)
    return x, info


def _is_empty(x0: Any) -> bool:
    """True when `x0` holds no variable at all (N = 0)."""
    try:
        return np.size(x0) == 0
    except Exception:  # noqa: BLE001 - whatever NumPy cannot size is not empty
        return False


def _python_callables(*functions: Any) -> bool:
    """True when none of `functions` is a compiled function (SciPy's case)."""
    try:
        return all(as_compiled(f, "func") is None for f in functions)
    except TypeError:
        return False


def _empty_start(func: Callable[..., Any], args: Any, use_jac: bool) -> tuple:
    """leastsq's full output for N = 0, MINPACK's improper input, as SciPy's.

    `func` is called once at the empty x0 (its residuals are ``fvec``); MINPACK
    rejects the problem before any evaluation, so ``nfev`` is 0 and `Dfun` is
    never called.
    """
    x = np.zeros(0)
    fvec = np.array(residual_array(func(x.copy(), *(
        args if isinstance(args, tuple) else (args,))), None, "func"), dtype=np.float64)
    infodict = {"fvec": fvec, "nfev": 0}
    if use_jac:
        infodict["njev"] = 0
    infodict["fjac"] = np.zeros((0, fvec.shape[0]))
    infodict["ipvt"] = np.zeros(0, dtype=np.int32)
    infodict["qtf"] = np.zeros(0)
    return x, None, infodict, _MESSAGES[0], 0


def _covariance(fjac: np.ndarray, ipvt: np.ndarray, box: Box | None) -> np.ndarray | None:
    """cov_x: inv(J^T J), or None when singular. For a bounded fit that ended
    with parameters held on a bound (or fixed), the free parameters'
    inv(J^T J) with NaN in the held rows and columns, and an OptimizeWarning
    that names them.
    """
    if box is not None:
        held = held_parameters(box, fjac, ipvt)
        names, what, deeper = HELD_REPORT.get()
        if held.any() and what is not None:
            which = ", ".join(f"x[{i}]" if names is None else names[i]
                              for i in np.flatnonzero(held))
            warnings.warn(f"Parameters held on a bound at the end of the fit: {which}. "
                          f"Their rows and columns of {what} are NaN; the others "
                          "are the free parameters' covariance.",
                          warning_category(), stacklevel=4 + deeper)
        if held.any():
            return free_covariance(fjac, ipvt, held)
    cov, cinfo = _minpack.covar(fjac, ipvt)
    return cov if cinfo == 0 else None


def _check_m(m: int | None, found: int, n: int) -> int:
    """The number of residuals: as found, which a given `m` must agree with."""
    if m is not None and m != found:
        raise ValueError(f"m={m} was given, but func returned {found} residuals")
    check_sizes(n, found)
    return found


def _check_compiled(compiled: Compiled | None, compiled_jac: Compiled | None,
                    Dfun: Any, col_deriv: bool, m: int | None, n: int) -> int:
    """Check a compiled func/Dfun pair and return the number of residuals."""
    if compiled is None:
        raise TypeError("Dfun is a compiled function but func is not: give a "
                        "compiled func too, or a Python Dfun")
    if Dfun is not None and compiled_jac is None:
        raise TypeError("func is a compiled function but Dfun is a Python "
                        "callable: give a compiled Dfun too, or Dfun=None")
    if col_deriv:
        raise ValueError("col_deriv does not apply to a compiled Dfun: it always "
                         "fills fjac column by column (Fortran order)")
    if compiled_jac is not None and compiled_jac.user_data not in (
            None, compiled.user_data):
        raise TypeError("Dfun carries its own user_data, but func and Dfun share "
                        "one: give it to func (or pass the data as args)")
    if m is None:
        raise TypeError(
            "m (the number of residuals) is required with a compiled func: a C "
            "function cannot be asked how many residuals it writes")
    try:
        m = operator.index(m)
    except TypeError:
        raise TypeError(f"m must be an integer (the number of residuals); got "
                        f"{type(m).__name__} {m!r:.40}") from None
    check_sizes(n, m)
    if m > 2**31 - 1:
        raise OverflowError(f"m={m} does not fit in a C int (at most 2**31 - 1)")
    return m
