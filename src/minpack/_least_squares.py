"""``least_squares``: SciPy's interface, with ``method='lm'`` on our MINPACK.

``method='lm'`` runs MINPACK's ``lmder`` through :func:`minpack.leastsq`,
with the Jacobian formed as the installed SciPy forms it (its finite
differences, or the user's `jac`), so the iterates, ``nfev`` and the status
are SciPy's own; with finite bounds (which SciPy refuses for 'lm') it is the
engine's bounded fit. The other methods ('trf', 'dogbox') are handed to SciPy.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ._checks import Box, as_bounds
from ._leastsq import HELD_REPORT, leastsq
from ._nonfinite import NONFINITE_JACOBIAN
from ._optimize import result_class, scipy_function

__all__ = ["least_squares"]

_EPS = np.finfo(np.float64).eps  # a NumPy scalar, as SciPy compares with
_SCHEMES = ("2-point", "3-point", "cs")
_LOSSES = ("linear", "huber", "soft_l1", "cauchy", "arctan")

# SciPy's status (and message) for each MINPACK ier. ier 6-8 (a tolerance
# too small) cannot occur: every tolerance is at least the machine epsilon.
# ier 11 (the Jacobian is not finite; not in SciPy, whose MINPACK goes on and
# may claim convergence) is status -2. ier 10 (residuals not finite at x0) is
# leastsq's ValueError.
_STATUS_OF_IER = {0: -1, 1: 2, 2: 3, 3: 4, 4: 1, 5: 0, NONFINITE_JACOBIAN: -2}
_MESSAGES = {
    -2: "The Jacobian at x is not finite (NaN or inf); the fit stopped at x, the "
        "last iterate.",
    -1: "Improper input parameters status returned from `leastsq`",
    0: "The maximum number of function evaluations is exceeded.",
    1: "`gtol` termination condition is satisfied.",
    2: "`ftol` termination condition is satisfied.",
    3: "`xtol` termination condition is satisfied.",
    4: "Both `ftol` and `xtol` termination conditions are satisfied.",
}


def least_squares(
    fun: Callable[..., Any],
    x0: Any,
    jac: Any = "2-point",
    bounds: Any = (-np.inf, np.inf),
    method: str = "trf",
    ftol: float | None = 1e-8,
    xtol: float | None = 1e-8,
    gtol: float | None = 1e-8,
    x_scale: Any = None,
    loss: Any = "linear",
    f_scale: float = 1.0,
    diff_step: Any = None,
    tr_solver: str | None = None,
    tr_options: dict | None = None,
    jac_sparsity: Any = None,
    max_nfev: int | None = None,
    verbose: int = 0,
    args: tuple = (),
    kwargs: dict | None = None,
    callback: Callable[..., Any] | None = None,
    workers: Any = None,
) -> Any:
    """Solve a nonlinear least-squares problem.

    A drop-in replacement for `scipy.optimize.least_squares`. Given the
    residuals ``f(x)`` (m real functions of n real variables) it finds a
    local minimum of ``F(x) = 0.5 * sum(f_i(x)**2)``. ``method='lm'`` runs
    on this package's own Fortran MINPACK (``lmder``), with the results of
    SciPy's ``method='lm'`` and, beyond SciPy, with `bounds`; the trust-region
    and robust methods ('trf', 'dogbox') are SciPy's and are handed to it
    (SciPy must be installed).

    Parameters
    ----------
    fun : callable
        The residuals, ``fun(x, *args, **kwargs)``, with `x` an ndarray of
        shape (n,); returns a 1-D array_like of shape (m,) or a scalar.
    x0 : array_like with shape (n,) or float
        Initial guess on the independent variables.
    jac : {'2-point', '3-point', 'cs', callable}, optional
        How the Jacobian (m-by-n) is computed: a finite-difference scheme
        ('2-point', the default; '3-point', twice the evaluations and more
        accurate; 'cs', complex steps, for a `fun` that accepts complex
        `x`), or a callable ``jac(x, *args, **kwargs)`` returning it.
    bounds : 2-tuple of array_like or `scipy.optimize.Bounds`, optional
        Lower and upper bounds on the variables (scalars or arrays of size
        n; ``np.inf`` with the right sign for none). Every method takes
        them: with 'lm' (where SciPy raises a ValueError) the fit is this
        package's bounded Levenberg-Marquardt, `fun` is never evaluated
        outside the box (difference steps included: taken backwards, or
        one-sided for '3-point', at a bound), and ``lb == ub`` fixes a
        variable.
    method : {'trf', 'dogbox', 'lm'}, optional
        The algorithm. 'lm' is MINPACK's Levenberg-Marquardt, on this
        package's engine; 'trf' (the default, as in SciPy) and 'dogbox'
        are SciPy's and need SciPy.
    ftol, xtol, gtol : float or None, optional
        Tolerances on the change of the cost, the change of `x` and the
        gradient, 1e-8 each by default. For 'lm' they are MINPACK's `ftol`,
        `xtol` and `gtol` and must not be below the machine epsilon.
    x_scale : {None, array_like, 'jac'}, optional
        The characteristic scale of each variable. For 'lm', None (the
        default) and 'jac' mean MINPACK's scaling by the column norms of the
        Jacobian; an array gives MINPACK's ``diag = 1 / x_scale``.
    loss : str or callable, optional
        The loss function, 'linear' (the default) for plain least squares;
        the robust losses ('soft_l1', 'huber', 'cauchy', 'arctan' or a
        callable) need 'trf' or 'dogbox'.
    f_scale : float, optional
        The soft margin between inlier and outlier residuals, for robust
        losses.
    diff_step : None or array_like, optional
        The relative step of the finite differences: the step for ``x[j]``
        is ``diff_step * |x[j]|`` (a conventional power of the machine
        epsilon times ``max(1, |x[j]|)`` if None).
    tr_solver : {None, 'exact', 'lsmr'}, optional
        The trust-region solver of 'trf' and 'dogbox'.
    tr_options : dict, optional
        Options of the trust-region solver of 'trf' and 'dogbox'.
    jac_sparsity : {None, array_like, sparse array}, optional
        The sparsity structure of the Jacobian, for 'trf' and 'dogbox'.
    max_nfev : None or int, optional
        The maximum number of evaluations of `fun`, not counting those of
        the finite differences; 100 * n if None.
    verbose : {0, 1, 2}, optional
        1 prints a termination report; 2 also the progress ('trf' and
        'dogbox' only).
    args, kwargs : tuple and dict, optional
        Extra arguments for `fun` and `jac`.
    callback : callable, optional
        Called at each iteration of 'trf' and 'dogbox'; 'lm' does not call
        it and warns, as in SciPy.
    workers : map-like callable, optional
        Used as ``workers(fun, iterable)`` for the finite-difference
        evaluations. An integer (a process pool) is SciPy's and needs it.

    Returns
    -------
    result : OptimizeResult
        With the fields ``x``, ``cost`` (half the sum of squares), ``fun``
        (the residuals), ``jac``, ``grad`` (``jac.T @ fun``),
        ``optimality`` (the uniform norm of `grad`; with bounds, of its
        components that do not push a variable on its bound outwards),
        ``active_mask`` (-1 where a variable ended on its lower bound, 1 on
        its upper, 0 free), ``nfev`` (the evaluations of `fun` counted by
        MINPACK, without the finite differences), ``njev`` (None for 'lm'
        with finite differences), ``status`` (-2 the Jacobian is not
        finite, a status SciPy has not; -1 improper input, 0 too many
        evaluations, 1 `gtol`, 2 `ftol`, 3 `xtol`, 4 `ftol` and `xtol`),
        ``message`` and ``success``. Its class is SciPy's
        ``OptimizeResult`` when ``scipy.optimize`` is imported, else
        `minpack.OptimizeResult`.

    Raises
    ------
    ValueError
        For invalid arguments, with SciPy's messages: an unknown method,
        scheme or loss, a robust loss with 'lm', malformed bounds or `x0`
        outside them, fewer
        residuals than variables with 'lm', a tolerance below the machine
        epsilon with 'lm', residuals that are not finite at `x0`, a `jac`
        result of the wrong shape or not dense with 'lm'.
    ImportError
        For 'trf', 'dogbox' or an integer `workers` when SciPy is not
        installed.

    See Also
    --------
    scipy.optimize.least_squares : the SciPy function this one replaces.
    minpack.leastsq : the solver underneath ``method='lm'``.
    minpack.curve_fit : least squares applied to curve fitting.

    Notes
    -----
    With ``method='lm'`` the result equals SciPy's bit for bit for what
    MINPACK computes (``x``, ``fun``, ``nfev``, ``njev``, ``status``);
    ``cost``, ``grad`` and ``optimality`` come from the same NumPy
    operations as SciPy's and agree to rounding. `fun` and `jac` are called
    at the same points, in the same order, as in SciPy: each once at `x0`,
    then wherever MINPACK asks at a new point.

    Examples
    --------
    Fit ``y = a exp(b t)`` to exact data with Levenberg-Marquardt:

    >>> import numpy as np
    >>> from minpack import least_squares
    >>> t = np.linspace(0, 1, 10)
    >>> y = 2.0 * np.exp(-1.5 * t)
    >>> def residuals(p):
    ...     return p[0] * np.exp(p[1] * t) - y
    >>> res = least_squares(residuals, [1.0, 0.0], method="lm")
    >>> res.success, np.round(res.x, 6)
    (True, array([ 2. , -1.5]))
    >>> bool(res.cost < 1e-20), res.active_mask
    (True, array([0, 0]))

    With an analytic Jacobian MINPACK also counts its evaluations:

    >>> def jacobian(p):
    ...     e = np.exp(p[1] * t)
    ...     return np.column_stack([e, p[0] * t * e])
    >>> res = least_squares(residuals, [1.0, 0.0], jac=jacobian, method="lm")
    >>> res.njev > 0, res.status in (1, 2, 3, 4)
    (True, True)

    Bounds with 'lm' (SciPy raises here): keep ``a`` at most 1.8.

    >>> res = least_squares(residuals, [1.0, 0.0], method="lm",
    ...                     bounds=([0, -np.inf], [1.8, np.inf]))
    >>> res.x[0], res.active_mask
    (np.float64(1.8), array([1, 0]))
    """
    if method not in ("trf", "dogbox", "lm"):
        raise ValueError("`method` must be 'trf', 'dogbox' or 'lm'.")
    if method != "lm" or not (workers is None or callable(workers)):
        what = (f"least_squares(method={method!r})" if method != "lm" else
                f"least_squares with workers={workers!r}")
        scipy_least_squares = scipy_function(
            "scipy.optimize._lsq.least_squares", "least_squares", what)
        return scipy_least_squares(
            fun, x0, jac=jac, bounds=bounds, method=method, ftol=ftol, xtol=xtol,
            gtol=gtol, x_scale=x_scale, loss=loss, f_scale=f_scale,
            diff_step=diff_step, tr_solver=tr_solver, tr_options=tr_options,
            jac_sparsity=jac_sparsity, max_nfev=max_nfev, verbose=verbose,
            args=args, kwargs=kwargs, callback=callback, workers=workers)

    # SciPy's checks, in SciPy's order, so that the same error comes first.
    if not (callable(jac) or (isinstance(jac, str) and jac in _SCHEMES)):
        raise ValueError("`jac` must be '2-point', '3-point', 'cs' or callable.")
    if tr_solver not in (None, "exact", "lsmr"):
        raise ValueError("`tr_solver` must be None, 'exact' or 'lsmr'.")
    if not (callable(loss) or (isinstance(loss, str) and loss in _LOSSES)):
        raise ValueError(
            "`loss` must be one of dict_keys(['linear', 'huber', 'soft_l1', "
            "'cauchy', 'arctan']) or a callable.")
    if loss != "linear":
        raise ValueError("method='lm' supports only 'linear' loss function.")
    if verbose not in (0, 1, 2):
        raise ValueError("`verbose` must be in [0, 1, 2].")
    if max_nfev is not None and max_nfev <= 0:
        raise ValueError("`max_nfev` must be None or positive integer.")
    if np.iscomplexobj(x0):
        raise ValueError("`x0` must be real.")
    x0 = np.atleast_1d(x0).astype(float)
    if x0.ndim > 1:
        raise ValueError("`x0` must have at most 1 dimension.")
    box = _check_bounds(bounds, x0)
    x_scale = _check_x_scale(x_scale, x0)
    ftol, xtol, gtol = (_check_tolerance(t, name) for t, name in
                        ((ftol, "ftol"), (xtol, "xtol"), (gtol, "gtol")))
    if min(ftol, xtol, gtol) < _EPS:
        raise ValueError("All tolerances must be higher than machine epsilon "
                         f"({_EPS:.2e}) for method 'lm'.")

    problem = _Residuals(fun, jac, args, {} if kwargs is None else kwargs,
                         diff_step, map if workers is None else workers, x0, box)
    f0, J0 = problem.f, problem.J
    if f0.ndim != 1:
        raise ValueError("`fun` must return at most 1-d array_like. "
                         f"f0.shape: {f0.shape}")
    if not np.all(np.isfinite(f0)):
        raise ValueError("Residuals are not finite in the initial point.")
    n, m = x0.size, f0.size
    if m < n:
        raise ValueError("Method 'lm' doesn't work when the number of "
                         "residuals is less than the number of variables.")
    if not callable(jac) and jac_sparsity is not None:
        raise ValueError("method='lm' does not support `jac_sparsity`.")
    if J0.shape != (m, n):
        raise ValueError("The return value of `jac` has wrong shape: expected "
                         f"{(m, n)}, actual {J0.shape}.")
    if not isinstance(J0, np.ndarray):
        raise ValueError("method='lm' works only with dense Jacobian matrices.")
    if callback is not None:
        warnings.warn("Callback function specified, but not supported with `lm` "
                      "method.", stacklevel=2)

    result = _lm(problem, x0, callable(jac), ftol, xtol, gtol, max_nfev, x_scale, box)
    if verbose >= 1:
        initial_cost = 0.5 * np.dot(f0, f0)
        print(result.message)
        print(f"Function evaluations {result.nfev}, initial cost "
              f"{initial_cost:.4e}, final cost {result.cost:.4e}, "
              f"first-order optimality {result.optimality:.2e}.")
    return result


def _lm(problem: _Residuals, x0: np.ndarray, analytic: bool, ftol: float,
        xtol: float, gtol: float, max_nfev: int | None, x_scale: Any,
        box: Box | None) -> Any:
    """Run MINPACK's lmder from `x0` (bounded when `box` is given) and build
    SciPy's result.
    """
    n = x0.size
    diag = None if isinstance(x_scale, str) else 1 / x_scale
    token = HELD_REPORT.set((None, None, 0))  # no covariance here: no warning
    try:
        x, _, info, _, ier = leastsq(
            problem.fun, x0.copy(), Dfun=problem.jac, full_output=True,
            col_deriv=False, ftol=ftol, xtol=xtol, gtol=gtol,
            maxfev=100 * n if max_nfev is None else max_nfev, factor=100.0, diag=diag,
            bounds=None if box is None else (box.lower, box.upper))
    finally:
        HELD_REPORT.reset(token)
    f = info["fvec"]
    J = problem.jac(x)
    cost = 0.5 * np.dot(f, f)
    g = J.T.dot(f)
    active = info.get("active_mask", np.zeros_like(x0, dtype=int))
    # first-order optimality over the directions the box allows: a gradient
    # component that pushes a parameter on its bound outwards counts zero
    # (SciPy's 'trf' measure vanishes there too)
    held = ((active == -1) & (g > 0)) | ((active == 1) & (g < 0))
    if box is not None:
        held |= box.lower == box.upper
    status = _STATUS_OF_IER[ier]
    return result_class()(
        x=x, cost=cost, fun=f, jac=J, grad=g,
        optimality=np.linalg.norm(np.where(held, 0.0, g), ord=np.inf),
        active_mask=active, nfev=info["nfev"],
        njev=info.get("njev") if analytic else None, status=status,
        message=_MESSAGES[status], success=status > 0)


def _check_bounds(bounds: Any, x0: np.ndarray) -> Box | None:
    """The bounds of method 'lm', which SciPy refuses and the engine takes.

    All infinite: SciPy's own checks and messages, and None (the unbounded
    fit). With a finite bound: the bounded fit's checks (lb == ub fixes a
    parameter; SciPy's message for x0 outside the box).
    """
    if (not isinstance(bounds, (tuple, list)) and hasattr(bounds, "lb")
            and hasattr(bounds, "ub")):  # scipy.optimize.Bounds
        lb, ub = (np.asarray(b, dtype=float) for b in (bounds.lb, bounds.ub))
    elif len(bounds) == 2:
        lb, ub = (np.asarray(b, dtype=float) for b in bounds)
        lb = np.resize(lb, x0.shape[0]) if lb.ndim == 0 else lb
        ub = np.resize(ub, x0.shape[0]) if ub.ndim == 0 else ub
    else:
        raise ValueError("`bounds` must contain 2 elements.")
    if np.all((lb == -np.inf) & (ub == np.inf)):  # (SciPy's test, and errors)
        if lb.shape != x0.shape or ub.shape != x0.shape:
            raise ValueError("Inconsistent shapes between bounds and `x0`.")
        if not np.all((x0 >= lb) & (x0 <= ub)):  # a NaN in x0
            raise ValueError("Initial guess is outside of provided bounds")
        return None
    if lb.shape != x0.shape or ub.shape != x0.shape:
        raise ValueError("Inconsistent shapes between bounds and `x0`.")
    if not np.all(np.isfinite(x0)):
        raise ValueError("Initial guess is outside of provided bounds")
    return as_bounds((lb, ub), x0, x0.size,
                     outside="Initial guess is outside of provided bounds")


def _check_x_scale(x_scale: Any, x0: np.ndarray) -> Any:
    """'jac' (also for None, 'lm''s default) or an array of positive scales."""
    if x_scale is None or (isinstance(x_scale, str) and x_scale == "jac"):
        return "jac"
    try:
        x_scale = np.asarray(x_scale, dtype=float)
        valid = bool(np.all(np.isfinite(x_scale)) and np.all(x_scale > 0))
    except (ValueError, TypeError):
        valid = False
    if not valid:
        raise ValueError("`x_scale` must be 'jac' or array_like with "
                         "positive numbers.")
    if x_scale.ndim == 0:
        x_scale = np.resize(x_scale, x0.shape)
    if x_scale.shape != x0.shape:
        raise ValueError("Inconsistent shapes between `x_scale` and `x0`.")
    return x_scale


def _check_tolerance(tol: float | None, name: str) -> float:
    """None means 0; a tolerance below the machine epsilon warns (as SciPy)."""
    if tol is None:
        return 0
    if tol < _EPS:
        warnings.warn(f"Setting `{name}` below the machine epsilon ({_EPS:.2e}) "
                      "effectively disables the corresponding termination "
                      "condition.", stacklevel=4)
    return tol


def _relative_step(f_dtype: np.dtype, scheme: str) -> Any:
    """Return the default relative difference step for residuals of `f_dtype`.

    The square root (cube root for '3-point') of the machine epsilon of
    float64, or of the residuals' own floating type when it is narrower,
    computed in that type as SciPy does.
    """
    eps = np.finfo(np.float64).eps
    if np.issubdtype(f_dtype, np.inexact) and np.dtype(f_dtype).itemsize < 8:
        eps = np.finfo(f_dtype).eps
    return eps ** (1 / 3) if scheme == "3-point" else eps ** 0.5


class _Residuals:
    """The residuals and their Jacobian, remembered at the latest point.

    Evaluates as SciPy's ``least_squares`` does: ``fun`` and the Jacobian at
    `x0` on creation, then each again only when asked at a new point, and the
    Jacobian by SciPy's finite-difference formulas (or the user's `jac`), so
    that MINPACK sees the same numbers as in SciPy.
    """

    def __init__(self, fun: Callable[..., Any], jac: Any, args: tuple, kwargs: dict,
                 rel_step: Any, workers: Callable[..., Iterable], x0: np.ndarray,
                 box: Box | None = None):
        self._evaluate = _Fun(fun, args, kwargs)
        self._box = box
        self._jac, self._args, self._kwargs = jac, args, kwargs
        self._rel_step, self._workers = rel_step, workers
        self.x = x0.copy()
        self.f = self._evaluate(self.x.copy())
        self.J = self._jacobian()

    def _move(self, x: np.ndarray) -> None:
        if not np.array_equal(x, self.x):
            self.x = np.atleast_1d(np.asarray(x)).astype(np.float64)
            self.f = self.J = None

    def fun(self, x: np.ndarray) -> np.ndarray:
        """Return the residuals at `x` (a copy)."""
        self._move(x)
        if self.f is None:
            self.f = self._evaluate(self.x.copy())
        return self.f.copy()

    def jac(self, x: np.ndarray) -> Any:
        """Return the Jacobian at `x` (a copy)."""
        self._move(x)
        if self.J is None:
            if not callable(self._jac) and self.f is None:
                self.f = self._evaluate(self.x.copy())
            self.J = self._jacobian()
        return self.J.astype(self.J.dtype) if hasattr(self.J, "astype") else self.J

    def _jacobian(self) -> Any:
        x = self.x
        if callable(self._jac):
            J = self._jac(x.copy(), *self._args, **self._kwargs)
            if hasattr(J, "toarray") or hasattr(J, "matvec"):
                return J  # sparse or a LinearOperator: refused by the caller
            return np.atleast_2d(J)
        f0 = self.f
        if f0.ndim > 1:
            raise ValueError("`f0` passed has more than 1 dimension.")
        return _difference(self._evaluate.point, x, f0, self._jac, self._rel_step,
                           self._workers, self._box)


class _Fun:
    """``fun(x, *args, **kwargs)`` as a 1-D array.

    Picklable, so that a process pool given as `workers` can run the
    finite differences.
    """

    def __init__(self, fun: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        self.fun, self.args, self.kwargs = fun, args, kwargs

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.atleast_1d(self.fun(x, *self.args, **self.kwargs))

    def point(self, x: np.ndarray) -> np.ndarray:
        """One finite-difference evaluation (x real or complex)."""
        f = np.atleast_1d(self(x))
        if f.ndim > 1:
            raise RuntimeError("`fun` return value has more than 1 dimension.")
        return f


def _difference(fun: Callable[[np.ndarray], np.ndarray], x0: np.ndarray,
                f0: np.ndarray, scheme: str, rel_step: Any,
                workers: Callable[..., Iterable], box: Box | None = None) -> np.ndarray:
    """Return the difference Jacobian (m, n) of `fun` at `x0`, ``f0 = fun(x0)``.

    One column per variable: forward differences ('2-point'), central
    differences ('3-point') or the imaginary part of a complex step ('cs'),
    with the steps and the operations of SciPy's ``approx_derivative`` for an
    unbounded problem. With a `box`, no point leaves it (see `_bounded_steps`).
    """
    n, m = x0.size, f0.size
    sign = (x0 >= 0).astype(float) * 2 - 1
    default = _relative_step(f0.dtype, scheme) * sign * np.maximum(1.0, np.abs(x0))
    if rel_step is None:
        h = default
    else:
        h = rel_step * sign * np.abs(x0)
        h = np.where((x0 + h) - x0 == 0, default, h)  # no step of zero
    if box is not None and scheme != "cs":  # complex steps keep x real
        return _bounded_difference(fun, x0, f0, scheme, h, workers, box)

    columns = np.empty((n, m))
    if scheme == "2-point":
        def forward() -> Iterable[np.ndarray]:
            for i in range(n):
                x = x0.copy()
                x[i] = x0[i] + h[i]
                yield x
        for i, f in enumerate(workers(fun, forward())):
            columns[i] = (f - f0) / ((x0[i] + h[i]) - x0[i])
    elif scheme == "3-point":
        h = np.abs(h)

        def central() -> Iterable[np.ndarray]:
            for i in range(n):
                for s in (-h[i], h[i]):
                    x = x0.copy()
                    x[i] = x0[i] + s
                    yield x
        values = iter(workers(fun, central()))
        for i in range(n):
            f_lower, f_upper = next(values), next(values)
            columns[i] = (f_upper - f_lower) / ((x0[i] + h[i]) - (x0[i] - h[i]))
    else:  # 'cs'
        def complex_steps() -> Iterable[np.ndarray]:
            for i in range(n):
                x = x0.astype(complex)
                x[i] += h[i] * 1.0j
                yield x
        for i, f in enumerate(workers(fun, complex_steps())):
            columns[i] = f.imag / h[i]
    return columns.T


def _bounded_difference(fun: Callable[[np.ndarray], np.ndarray], x0: np.ndarray,
                        f0: np.ndarray, scheme: str, h: np.ndarray,
                        workers: Callable[..., Iterable], box: Box) -> np.ndarray:
    """The difference Jacobian of a bounded fit, every point in the box.

    '2-point': the forward step, taken backwards when it would pass a bound
    (and shortened to the farther bound when the box is narrower than the
    step). '3-point': central differences where both points fit, otherwise
    the one-sided second-order formula (-3 f(x) + 4 f(x + h) - f(x + 2h)) / 2h
    towards the inside, h shortened to half the room when needed. A fixed
    parameter (lower == upper) gets a zero column and no evaluation: the
    engine holds it.
    """
    n, m = x0.size, f0.size
    lower, upper = box.lower, box.upper
    h = np.abs(h)
    room_up, room_down = upper - x0, x0 - lower
    columns = np.zeros((n, m))
    if scheme == "2-point":
        step = np.where(room_up >= h, h, np.where(room_down >= h, -h, np.where(
            room_up >= room_down, room_up, -room_down)))
        # (clipped: x0 + (upper - x0) may round an ulp past upper)
        target = np.clip(x0 + step, lower, upper)
        todo = [i for i in range(n) if target[i] != x0[i]]

        def forward() -> Iterable[np.ndarray]:
            for i in todo:
                x = x0.copy()
                x[i] = target[i]
                yield x
        for i, f in zip(todo, workers(fun, forward()), strict=True):
            columns[i] = (f - f0) / (target[i] - x0[i])
        return columns.T
    central = (room_up >= h) & (room_down >= h)
    up = room_up >= room_down  # one-sided: towards the larger room
    one = np.where(up, np.minimum(h, room_up / 2), -np.minimum(h, room_down / 2))
    todo = [i for i in range(n) if central[i] or x0[i] + one[i] != x0[i]]

    def points() -> Iterable[np.ndarray]:
        for i in todo:
            for s in ((-h[i], h[i]) if central[i] else (one[i], 2 * one[i])):
                x = x0.copy()
                x[i] = min(max(x0[i] + s, lower[i]), upper[i])
                yield x
    values = iter(workers(fun, points()))
    for i in todo:
        f1, f2 = next(values), next(values)
        if central[i]:
            columns[i] = (f2 - f1) / ((x0[i] + h[i]) - (x0[i] - h[i]))
        else:
            columns[i] = (-3 * f0 + 4 * f1 - f2) / (2 * one[i])
    return columns.T
