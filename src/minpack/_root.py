"""``root``: SciPy's root-finding interface, 'hybr' and 'lm' on our MINPACK.

``method='hybr'`` is :func:`minpack.fsolve` (MINPACK's hybrd/hybrj),
``method='lm'`` is :func:`minpack.leastsq` (lmdif/lmder), with the options
and result fields of ``scipy.optimize.root``. The other methods are SciPy's
and are handed to it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ._fsolve import fsolve
from ._leastsq import leastsq
from ._optimize import result_class, scipy_function, warning_category

__all__ = ["root"]

# SciPy's methods; all but the first two are SciPy's own code.
_METHODS = ("hybr", "lm", "broyden1", "broyden2", "anderson", "linearmixing",
            "diagbroyden", "excitingmixing", "krylov", "df-sane")


def root(
    fun: Callable[..., Any],
    x0: Any,
    args: Any = (),
    method: str = "hybr",
    jac: Any = None,
    tol: float | None = None,
    callback: Callable[..., Any] | None = None,
    options: dict | None = None,
) -> Any:
    """Find a root of a vector function.

    A drop-in replacement for `scipy.optimize.root`. The MINPACK methods run
    on this package's own Fortran: 'hybr' (Powell's hybrid method, as
    :func:`minpack.fsolve`) and 'lm' (Levenberg-Marquardt in the
    least-squares sense, as :func:`minpack.leastsq`). The other methods
    ('broyden1', 'broyden2', 'anderson', 'linearmixing', 'diagbroyden',
    'excitingmixing', 'krylov', 'df-sane') are SciPy's and are handed to it
    (SciPy must be installed).

    Parameters
    ----------
    fun : callable
        A vector function ``fun(x, *args)`` whose root is sought.
    x0 : ndarray
        Initial guess.
    args : tuple, optional
        Extra arguments passed to `fun` and its Jacobian.
    method : str, optional
        The solver, 'hybr' by default (case-insensitive).
    jac : bool or callable, optional
        If True, `fun` returns the pair ``(f, J)``, the value and the
        Jacobian. If callable, it returns the Jacobian of `fun`, with the
        same arguments. If False or None, the Jacobian is estimated by
        forward differences.
    tol : float, optional
        Tolerance for termination; for 'hybr' and 'lm' it is the default of
        the `xtol` option.
    callback : function, optional
        Called at each iteration of SciPy's methods; 'hybr' and 'lm' do not
        take it and warn (a RuntimeWarning), as in SciPy.
    options : dict, optional
        Solver options. For 'hybr': ``col_deriv``, ``xtol``, ``maxfev``,
        ``band``, ``eps`` (fsolve's `epsfcn`), ``factor``, ``diag``. For
        'lm': ``col_deriv``, ``xtol``, ``ftol``, ``gtol``, ``maxiter``
        (leastsq's `maxfev`), ``eps`` (`epsfcn`), ``factor``, ``diag``. An
        unknown option warns (``OptimizeWarning``, "Unknown solver
        options").

    Returns
    -------
    sol : OptimizeResult
        ``x``, ``success``, ``status`` (MINPACK's `info` or `ier`),
        ``message``, ``method``, ``fun`` (the function at `x`), ``nfev``
        (the calls of `fun`), and for 'hybr' ``fjac``, ``r``, ``qtf`` (and
        ``njev`` with a Jacobian), for 'lm' ``cov_x``, ``fjac``, ``ipvt``,
        ``qtf`` (and ``njev``), as in SciPy. Its class is SciPy's
        ``OptimizeResult`` when ``scipy.optimize`` is imported, else
        `minpack.OptimizeResult`.

    Raises
    ------
    ValueError
        For an unknown method.
    ImportError
        For SciPy's own methods when SciPy is not installed.

    See Also
    --------
    scipy.optimize.root : the SciPy function this one replaces.
    minpack.fsolve, minpack.leastsq : the solvers underneath.

    Notes
    -----
    ``nfev`` is the number of calls of `fun`, as in SciPy; here they are all
    MINPACK's, while SciPy also counts the two calls it makes at `x0` before
    MINPACK's first evaluation (to check the shape of the result and to
    size it), so its ``nfev`` is 2 higher for the same iterates.

    Examples
    --------
    The system ``x0 + 0.5 (x0 - x1)**3 = 1``, ``0.5 (x1 - x0)**3 + x1 = 0``
    with its Jacobian:

    >>> import numpy as np
    >>> from minpack import root
    >>> def fun(x):
    ...     return [x[0] + 0.5 * (x[0] - x[1])**3 - 1.0,
    ...             0.5 * (x[1] - x[0])**3 + x[1]]
    >>> def jac(x):
    ...     d = 1.5 * (x[0] - x[1])**2
    ...     return np.array([[1 + d, -d], [-d, 1 + d]])
    >>> sol = root(fun, [0, 0], jac=jac, method="hybr")
    >>> sol.success, np.round(sol.x, 8)
    (True, array([0.8411639, 0.1588361]))

    The same in the least-squares sense, with an option (from ``[0, 0]``
    Levenberg-Marquardt stops at a local minimum of the sum of squares, in
    SciPy as here; from ``[1, 0]`` it finds the root):

    >>> sol = root(fun, [1, 0], method="lm", options={"xtol": 1e-10})
    >>> sol.status in (1, 2, 3, 4), np.round(sol.x, 8)
    (True, array([0.8411639, 0.1588361]))
    """
    if not isinstance(args, tuple):
        args = (args,)
    meth = method.lower()
    if meth not in ("hybr", "lm"):
        if meth not in _METHODS:
            raise ValueError(f"Unknown solver {method}")
        scipy_root = scipy_function("scipy.optimize._root", "root",
                                    f"root(method={method!r})")
        return scipy_root(fun, x0, args=args, method=method, jac=jac, tol=tol,
                          callback=callback, options=options)

    options = {} if options is None else options
    if callback is not None:
        warnings.warn(f"Method {method} does not accept callback.",
                      RuntimeWarning, stacklevel=2)
    if not callable(jac):
        if bool(jac):
            fun = _ValueAndJacobian(fun)
            jac = fun.derivative
        else:
            jac = None
    if tol is not None:
        options = dict(options)
        options.setdefault("xtol", tol)

    counted, calls = _counting(fun)
    solve = _hybr if meth == "hybr" else _lm
    sol = solve(counted, x0, args, jac, **options)
    sol["nfev"] = calls[0]
    return sol


def _counting(fun: Callable[..., Any]) -> tuple[Callable[..., Any], list]:
    """`fun` wrapped to count its calls (``root``'s ``nfev``), and the count."""
    calls = [0]

    def counted(*args: Any) -> Any:
        calls[0] += 1
        return fun(*args)

    counted.__name__ = getattr(fun, "__name__", "fun")
    return counted, calls


class _ValueAndJacobian:
    """A `fun` returning ``(f, J)`` split into a function and its Jacobian.

    Each pair is computed once: the Jacobian at the point of the latest
    value comes from the same call.
    """

    def __init__(self, fun: Callable[..., Any]) -> None:
        self.fun = fun
        self.x: np.ndarray | None = None
        self.value: Any = None
        self.jacobian: Any = None
        self.__name__ = getattr(fun, "__name__", "fun")

    def _at(self, x: Any, args: tuple) -> None:
        x = np.asarray(x)
        if self.x is None or not np.array_equal(x, self.x):
            self.x = x.copy()
            fg = self.fun(x, *args)
            self.value, self.jacobian = fg[0], fg[1]

    def __call__(self, x: Any, *args: Any) -> Any:
        self._at(x, args)
        return self.value

    def derivative(self, x: Any, *args: Any) -> Any:
        """Return the Jacobian at `x`."""
        self._at(x, args)
        return self.jacobian


def _unknown(options: dict) -> None:
    """Warn about options the method does not know, as SciPy does."""
    if options:
        warnings.warn(f"Unknown solver options: {', '.join(map(str, options))}",
                      warning_category(), stacklevel=4)


def _hybr(fun: Callable[..., Any], x0: Any, args: tuple, jac: Any,
          col_deriv: bool = False, xtol: float = 1.49012e-08, maxfev: int = 0,
          band: Any = None, eps: float | None = None, factor: float = 100,
          diag: Any = None, **unknown_options: Any) -> Any:
    """'hybr': MINPACK's hybrd (hybrj with `jac`), through fsolve."""
    _unknown(unknown_options)
    # band and eps apply to hybrd's differences only: SciPy ignores them
    # with a jac
    differences = jac is None
    x, info, status, msg = fsolve(fun, np.asarray(x0).flatten(), args=args,
                                  fprime=jac, full_output=True, col_deriv=col_deriv,
                                  xtol=xtol, maxfev=maxfev,
                                  band=band if differences else None,
                                  epsfcn=eps if differences else None,
                                  factor=factor, diag=diag)
    info["fun"] = info.pop("fvec")
    sol = result_class()(x=x, success=status == 1, status=status, method="hybr")
    sol.update(info)
    sol["message"] = msg
    return sol


def _lm(fun: Callable[..., Any], x0: Any, args: tuple, jac: Any,
        col_deriv: bool = False, xtol: float = 1.49012e-08,
        ftol: float = 1.49012e-08, gtol: float = 0.0, maxiter: int = 0,
        eps: float = 0.0, factor: float = 100, diag: Any = None,
        **unknown_options: Any) -> Any:
    """'lm': MINPACK's lmdif (lmder with `jac`), through leastsq."""
    _unknown(unknown_options)
    x, cov_x, info, msg, ier = leastsq(fun, x0, args=args, Dfun=jac, full_output=True,
                                       col_deriv=col_deriv, xtol=xtol, ftol=ftol,
                                       gtol=gtol, maxfev=maxiter, epsfcn=eps,
                                       factor=factor, diag=diag)
    sol = result_class()(x=x, message=msg, status=ier, success=ier in (1, 2, 3, 4),
                         cov_x=cov_x, fun=info.pop("fvec"), method="lm")
    sol.update(info)
    return sol
