"""``curve_fit``: SciPy's curve-fitting interface on :func:`minpack.leastsq`.

The Levenberg-Marquardt method (SciPy's ``method='lm'``) runs here, with
bounds too (the engine's bounded LM); the data handling (``sigma``,
``nan_policy``, ``check_finite``), the covariance scaling and the messages
follow ``scipy.optimize.curve_fit``. ``method='trf'``/``'dogbox'``, string
``jac`` schemes and bounded fits given least_squares' own options are SciPy's
and are handed to SciPy's own implementation.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ._checks import SUCCESS, as_bounds, as_start
from ._contexts import ModelJacobian, ModelResidual
from ._leastsq import HELD_REPORT, leastsq
from ._optimize import OptimizeWarning, scipy_function, warning_category

__all__ = ["OptimizeWarning", "curve_fit"]


_NAN_POLICIES = (None, "raise", "omit")


def _number_of_parameters(f: Callable[..., Any]) -> int:
    """Count the fit parameters of ``f(x, p1, p2, ...)`` from its signature.

    Every parameter that can be passed by position, after the first (the
    independent variable), is a fit parameter; ``*args``, keyword-only
    parameters and ``**kwargs`` are not counted.
    """
    positional = (inspect.Parameter.POSITIONAL_ONLY,
                  inspect.Parameter.POSITIONAL_OR_KEYWORD)
    params = inspect.signature(f).parameters.values()
    n = sum(1 for p in params if p.kind in positional) - 1
    if n < 1:
        raise ValueError("Unable to determine number of fit parameters.")
    return n


_NO_BOUNDS = (-np.inf, np.inf)


# Keyword arguments of SciPy's least_squares that leastsq does not take: a
# bounded fit given any of them is SciPy's 'trf', which they configure.
_TRF_OPTIONS = frozenset(("max_nfev", "loss", "f_scale", "x_scale", "diff_step",
                          "tr_solver", "tr_options", "jac_sparsity", "verbose"))


def _goes_to_scipy(method: str | None, jac: Any, bounds: Any, kwargs: dict) -> bool:
    """Whether the fit is SciPy's: 'trf', 'dogbox', a string `jac`, or bounds
    with options of SciPy's least_squares (what SciPy picks 'trf' for and
    they configure).

    Bounds alone are not: with ``method`` None or 'lm' they run on this
    package's bounded Levenberg-Marquardt. Raises SciPy's ValueError for an
    unknown method.
    """
    if method is None and not isinstance(jac, str):
        return bounds is not _NO_BOUNDS and not _TRF_OPTIONS.isdisjoint(kwargs)
    if method in ("trf", "dogbox") or isinstance(jac, str):
        return True
    if method != "lm":
        raise ValueError("`method` must be 'trf', 'dogbox' or 'lm'.")
    return False


def _feasible_start(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """p0 when it is not given but bounds are (SciPy's choice, so the same fit
    starts at the same point): the middle of a finite interval, one inside
    a one-sided bound (lower + 1 or upper - 1), 1 where there is none.
    Element-wise, for one box or one per problem.
    """
    lo, hi = np.isfinite(lower), np.isfinite(upper)
    with np.errstate(invalid="ignore"):
        return np.where(lo & hi, 0.5 * (lower + upper), np.where(
            lo, lower + 1, np.where(hi, upper - 1, 1.0)))


def _nan_mask_of_x(xdata: Any, m: int) -> tuple[Any, np.ndarray | None]:
    """Find the data points whose independent variable holds a NaN.

    Returns ``(xdata, mask)``: `xdata` as a float array when it could be read
    as one, and a boolean mask over its last axis (the data points), or
    ``None`` when `xdata` is not array-like (then only `ydata` is checked).
    A 0-d `xdata` applies to every data point.
    """
    if not isinstance(xdata, np.ndarray):
        try:
            as_array = np.asarray(xdata)
        except (TypeError, ValueError):
            return xdata, None
        if as_array.dtype.kind not in "biuf":  # None, strings, other objects
            return xdata, None
        xdata = as_array.astype(np.float64)
    nan = np.isnan(xdata)
    if nan.ndim == 0:
        return xdata, np.full(m, bool(nan))
    return xdata, nan.any(axis=tuple(range(nan.ndim - 1)))


def _apply_nan_policy(
    nan_policy: str, xdata: Any, ydata: np.ndarray, sigma: Any
) -> tuple[Any, np.ndarray, Any]:
    """Raise on NaNs (``'raise'``) or drop the data points that hold them."""
    m = ydata.shape[0]
    y_nan = np.isnan(ydata)
    x_arr, x_nan = _nan_mask_of_x(xdata, m)
    found = bool(y_nan.any()) or (x_nan is not None and bool(x_nan.any()))
    if not found:
        return xdata, ydata, sigma
    if nan_policy == "raise":
        raise ValueError("The input contains nan values")

    # 'omit': drop every data point with a NaN in ydata or in xdata.
    if x_nan is None:
        raise TypeError(
            "nan_policy='omit' must drop data points from xdata, but xdata "
            f"({type(xdata).__name__}) is not an array; pass xdata as an array "
            "(data points along the last axis), a list or a tuple")
    if x_nan.shape != (m,):
        raise ValueError(
            "nan_policy='omit' needs one data point per entry of ydata along "
            f"the last axis of xdata; xdata has shape {x_arr.shape} and ydata "
            f"has {m} entries")
    keep = ~(y_nan | x_nan)
    if x_arr.ndim > 0:
        x_arr = x_arr[..., keep]
    ydata = ydata[keep]
    if sigma is not None:
        s = np.asarray(sigma)
        if s.shape == (m,):
            sigma = s[keep]
        elif s.shape == (m, m):
            sigma = s[np.ix_(keep, keep)]
    return x_arr, ydata, sigma


def _whitening(sigma: Any, m: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Return ``(w, Linv)``, the weights that whiten the residuals.

    `w` is ``1/sigma`` for a scalar or 1-D `sigma`; `Linv` is the inverse of
    the Cholesky factor of a 2-D `sigma`; the other one is None.

    With ``sigma = L @ L.T``, ``chisq = r.T @ inv(sigma) @ r`` equals the
    squared norm of ``inv(L) @ r``.
    """
    if sigma is None:
        return None, None
    s = np.asarray(sigma)
    if s.dtype.kind in "cUSV":
        raise TypeError(f"sigma must be real numbers; got an array of dtype {s.dtype}")
    s = np.asarray(s, dtype=np.float64)
    if s.ndim <= 1 and (s.size == 1 or s.shape == (m,)):
        return 1.0 / s.reshape(-1), None
    if s.shape == (m, m):
        s = np.asarray_chkfinite(s)
        try:
            L = np.linalg.cholesky(s)
        except np.linalg.LinAlgError as exc:
            raise ValueError("`sigma` must be positive definite.") from exc
        return None, np.linalg.inv(L)
    raise ValueError("`sigma` has incorrect shape.")


def curve_fit(
    f: Callable[..., Any],
    xdata: Any,
    ydata: Any,
    p0: Any = None,
    sigma: Any = None,
    absolute_sigma: bool = False,
    check_finite: bool | None = None,
    bounds: Any = _NO_BOUNDS,
    method: str | None = None,
    jac: Callable[..., Any] | None = None,
    *,
    full_output: bool = False,
    nan_policy: str | None = None,
    **kwargs: Any,
) -> tuple:
    """Use non-linear least squares to fit a function, f, to data.

    A drop-in replacement for `scipy.optimize.curve_fit`. ``method='lm'``
    (the default) runs on :func:`minpack.leastsq`, with `bounds` too: this
    package's Levenberg-Marquardt takes bounds (SciPy's picks 'trf' for
    them). ``method='trf'`` or ``'dogbox'`` and string `jac` schemes are
    handed to SciPy's own implementation (SciPy must be installed).
    Assumes ``ydata = f(xdata, *params) + eps``.

    Parameters
    ----------
    f : callable
        The model function, ``f(x, ...)``. It must take the independent
        variable as the first argument and the parameters to fit as separate
        remaining arguments, and return one value per data point.
    xdata : array_like or object
        The independent variable where the data is measured: usually an
        M-length sequence or a (k, M)-shaped array for functions with k
        predictors. A list, tuple or ndarray is converted to a float64 array
        (a tuple of k arrays becomes a (k, M) array); any other object is
        passed to `f` unchanged.
    ydata : array_like
        The dependent data, a length M array - nominally ``f(xdata, ...)``.
        A scalar is one value for every data point: it is broadcast against
        the model's output, which then sets M.
    p0 : array_like, optional
        Initial guess for the parameters (length N). If None, all initial
        values are 1 (with bounds: the middle of a finite interval, one inside
        a one-sided bound, as SciPy), with N taken from the signature of `f`
        (the number of positional parameters after the first); a ValueError
        is raised when that number cannot be determined.
    sigma : None or scalar or M-length sequence or MxM array, optional
        The uncertainty in `ydata`. With residuals ``r = ydata - f(xdata,
        *popt)``:

        - a scalar or 1-D `sigma` holds the standard deviations of the errors
          in `ydata`, and the fit minimizes ``chisq = sum((r / sigma) ** 2)``;
        - a 2-D `sigma` is the covariance matrix of the errors in `ydata`,
          and the fit minimizes ``chisq = r.T @ inv(sigma) @ r``.

        None (default) is equivalent to a 1-D `sigma` filled with ones.
    absolute_sigma : bool, optional
        If True, `sigma` is used in an absolute sense and `pcov` reflects
        these absolute values. If False (default), only the relative
        magnitudes of `sigma` matter: `pcov` is scaled so that the reduced
        chi-square at `popt` is one, i.e. ``pcov(absolute_sigma=False) =
        pcov(absolute_sigma=True) * chisq(popt) / (M - N)``.
    check_finite : bool, optional
        If True, raise a ValueError when `ydata`, or an array `xdata`,
        contains NaNs or infs. Setting it to False may silently produce
        nonsensical results if they do. Default is True if `nan_policy` is
        None, False otherwise.
    bounds : 2-tuple of array_like or `scipy.optimize.Bounds`, optional
        Lower and upper bounds on the parameters, each a scalar or an array
        of length N; none by default (bounds that are all infinite are
        none). ``lb[j] == ub[j]`` fixes parameter j. With method None or
        'lm' the fit is this package's bounded Levenberg-Marquardt: `f` is
        never evaluated outside the box, difference steps included, and a
        parameter that ends held on a bound has NaN in `pcov` (see Notes).
        With options of SciPy's least_squares in `kwargs` (``max_nfev``,
        ``loss``, ``x_scale``, ...) a bounded fit is SciPy's 'trf', which
        they configure.
    method : {None, 'lm', 'trf', 'dogbox'}, optional
        None and 'lm' (Levenberg-Marquardt, bounded or not) run here (SciPy
        picks 'trf' for bounds, and refuses bounds with 'lm'); 'trf' and
        'dogbox' are SciPy's.
    jac : callable, string or None, optional
        Function with signature ``jac(x, ...)`` which returns the Jacobian
        matrix of the model function with respect to the parameters, shape
        (M, N) (or (N, M) with ``col_deriv=True``). It is scaled according to
        `sigma`. If None (default), the Jacobian is estimated by forward
        differences. The strings '2-point', '3-point' and 'cs' select
        SciPy's finite-difference schemes and hand the fit to SciPy (where
        they apply to 'trf' and 'dogbox' only).
    full_output : bool, optional
        If True, also return `infodict`, `mesg` and `ier`.
    nan_policy : {None, 'raise', 'omit'}, optional
        How to handle NaNs in `xdata` and `ydata`:

        - None (default): no special handling, except what `check_finite`
          does;
        - 'raise': raise a ValueError if there are NaNs;
        - 'omit': drop every data point with a NaN in `ydata` or in `xdata`
          (along the last axis of `xdata`), with the matching entries of
          `sigma`.

        If it is not None, `check_finite` defaults to False.
    **kwargs
        Keyword arguments passed to :func:`minpack.leastsq`, e.g. `maxfev`,
        `epsfcn`, `ftol`, `xtol`, `gtol`, `factor`, `diag`, `col_deriv`,
        `callback`; for SciPy's methods, the keyword arguments of
        `scipy.optimize.least_squares`. With ``vectorized=True`` (beyond
        SciPy) the model is
        called with ``xdata[..., None]`` and each parameter an array of
        length k, and must return shape (m, k): a model written with numpy
        broadcasting then gets each finite-difference Jacobian in one call
        instead of n, with identical results.

    Returns
    -------
    popt : ndarray
        Optimal values for the parameters, minimizing the sum of the squared
        (weighted) residuals ``f(xdata, *popt) - ydata``.
    pcov : ndarray
        The estimated approximate covariance of `popt`, shape (N, N); one
        standard deviation errors are ``np.sqrt(np.diag(pcov))``. How `sigma`
        enters depends on `absolute_sigma`. If the Jacobian at the solution
        does not have full rank, or if ``M == N`` and `absolute_sigma` is
        False, `pcov` is filled with ``np.inf``. For a bounded fit that ends
        with parameters held on a bound (or fixed), `pcov` is the covariance
        of the free parameters, with NaN in the rows and columns of the held
        ones (see Notes).
    infodict : dict
        Only returned if `full_output` is True: the `infodict` of
        :func:`minpack.leastsq` (``nfev``, ``njev`` when `jac` is given,
        ``fvec``, ``fjac``, ``ipvt``, ``qtf``, and with bounds
        ``active_mask``: -1 on the lower bound, 1 on the upper, 0 free).
        ``fvec`` is the weighted
        residual, e.g. ``(f(xdata, *popt) - ydata) / sigma`` for a 1-D
        `sigma`.
    mesg : str
        Only returned if `full_output` is True: a message about the solution.
    ier : int
        Only returned if `full_output` is True: 1, 2, 3 or 4 (success; on
        failure a RuntimeError is raised instead).

    Raises
    ------
    ValueError
        If `ydata` or `xdata` contain NaNs or infs (see `check_finite` and
        `nan_policy`), if `ydata` is empty or not 1-D, if `sigma` has the
        wrong shape or is not positive definite, for malformed `bounds` (the
        wrong length, NaN, a lower bound above its upper one), when `p0` is
        outside the bounds ("Initial guess is outside of provided bounds",
        naming the parameters), for an unknown `method` or `nan_policy`, and for
        ``args`` in `kwargs`. Also when ``p0`` is None and the number of
        parameters cannot be determined from `f`, and when the (weighted)
        residuals are not finite at ``p0`` (NaN or inf where the model is
        undefined): the message says which, after one call of `f`.
    ImportError
        For a fit that is SciPy's ('trf', 'dogbox', a string `jac`) when
        SciPy is not installed.
    TypeError
        If there are more parameters than data points.
    RuntimeError
        If the least-squares minimization fails (``ier`` not in 1-4), with
        the message ``"Optimal parameters not found: " + mesg``.
    Exception
        Anything raised by `f` or `jac` stops the fit and is re-raised.

    Warns
    -----
    OptimizeWarning
        "Covariance of the parameters could not be estimated", when `pcov` is
        filled with ``np.inf``. The class is ``scipy.optimize.OptimizeWarning``
        when ``scipy.optimize`` has been imported, `minpack.OptimizeWarning`
        otherwise (both are `UserWarning` subclasses). Also, for a bounded
        fit, when parameters end held on a bound: the warning names them by
        the names of `f`'s arguments.

    See Also
    --------
    scipy.optimize.curve_fit : the SciPy function this one replaces.
    minpack.least_squares : the least-squares interface underneath SciPy's
        methods.
    minpack.leastsq : the solver underneath.

    Notes
    -----
    For a 2-D `sigma` with Cholesky factor ``sigma = L @ L.T`` the residuals
    and the Jacobian are multiplied by ``inv(L)``, computed once per call
    with `numpy.linalg` (SciPy solves a triangular system at every
    evaluation, so results agree to rounding, not bit for bit).

    `f` is called exactly ``infodict['nfev']`` times and `jac` exactly
    ``infodict['njev']`` times: no evaluation is repeated.

    SciPy's own implementation is reached through its private module
    (``scipy.optimize._minpack_py``), so a program that replaced
    ``scipy.optimize.curve_fit`` by this function still gets SciPy's 'trf'
    and 'dogbox' fits rather than a call of this function by itself.

    Bounded fits run on the bounded Levenberg-Marquardt of
    :func:`minpack.leastsq`, where SciPy uses 'trf'. Both reach the same
    optimum (a local one: on problems with several, not always the same),
    with different calls: our `nfev` counts every call of `f`, difference
    steps included; SciPy's 'trf' counts none of those. A parameter held on a
    bound at the end (its gradient pushing it out of the box) or fixed by
    ``lb == ub`` is not determined by the data, so its row and column of
    `pcov` are NaN, and the others are the covariance of the free
    parameters with the held ones fixed. The residual variance is
    ``chisq / (M - N_free)``, the degrees of freedom counting only the
    parameters the data determine (M - N when none is held, the unbounded
    value, so a box that the fit never reaches changes nothing). SciPy's
    'trf' instead computes `pcov` from the pseudo-inverse of the whole
    Jacobian and divides by ``M - N``: it gives a held parameter a finite
    variance, as if it were free, and the free ones the variance they would
    have if it were.

    Differences from SciPy in the 'lm' fits, all deliberate: a `ydata` with
    more than one dimension, or a model whose output does not have one value
    per data point, raises a ValueError saying so; a size-one 1-D `sigma`,
    a `jac` with ``col_deriv=True`` and a 1-D `jac` result for one parameter
    are weighted correctly where SciPy raises.

    Examples
    --------
    >>> import numpy as np
    >>> from minpack import curve_fit
    >>> def func(x, a, b, c):
    ...     return a * np.exp(-b * x) + c
    >>> xdata = np.linspace(0, 4, 50)
    >>> rng = np.random.default_rng(12345)
    >>> ydata = func(xdata, 2.5, 1.3, 0.5) + 0.02 * rng.normal(size=xdata.size)

    Fit for the parameters a, b, c of `func` (p0 defaults to ones):

    >>> popt, pcov = curve_fit(func, xdata, ydata)
    >>> np.round(popt, 1)
    array([2.5, 1.3, 0.5])
    >>> bool(np.all(np.sqrt(np.diag(pcov)) < 0.05))
    True

    With known measurement errors, an analytic Jacobian and the full output:

    >>> def jac(x, a, b, c):
    ...     e = np.exp(-b * x)
    ...     return np.column_stack([e, -a * x * e, np.ones_like(x)])
    >>> popt, pcov, info, mesg, ier = curve_fit(
    ...     func, xdata, ydata, p0=[2, 1, 0], sigma=np.full(50, 0.02),
    ...     absolute_sigma=True, jac=jac, full_output=True)
    >>> ier in (1, 2, 3, 4), info["njev"] > 0
    (True, True)

    A parameter the model ignores cannot be estimated: `pcov` is all inf,
    with an `OptimizeWarning` (SciPy's class if SciPy is imported, else
    ours; a `UserWarning` either way):

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     popt, pcov = curve_fit(lambda x, a, b: a * x + 0 * b, xdata, ydata)
    >>> pcov
    array([[inf, inf],
           [inf, inf]])
    >>> caught[0].category.__name__, str(caught[0].message)
    ('OptimizeWarning', 'Covariance of the parameters could not be estimated')

    Bounds: keep every parameter positive and ``a`` at most 2.2 (the data
    want 2.5). ``a`` ends on its bound, held there: its row of `pcov` is NaN
    and the warning names it.

    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     popt, pcov = curve_fit(func, xdata, ydata, bounds=(0, [2.2, 10, 10]))
    >>> popt[0], bool(np.isnan(pcov[0]).all()), bool(np.isfinite(pcov[1:, 1:]).all())
    (np.float64(2.2), True, True)
    >>> str(caught[0].message).split(".")[0]
    'Parameters held on a bound at the end of the fit: a'
    """
    if "args" in kwargs:
        raise ValueError("'args' is not a supported keyword argument.")
    if _goes_to_scipy(method, jac, bounds, kwargs):
        what = ("curve_fit with a string jac" if isinstance(jac, str) else
                f"curve_fit(method={method!r})" if method is not None else
                "curve_fit with bounds and least_squares options (" + ", ".join(
                    sorted(_TRF_OPTIONS.intersection(kwargs))) + ")")
        scipy_curve_fit = scipy_function("scipy.optimize._minpack_py", "curve_fit",
                                         what)
        return scipy_curve_fit(f, xdata, ydata, p0, sigma, absolute_sigma,
                               check_finite, bounds, method, jac,
                               full_output=full_output, nan_policy=nan_policy,
                               **kwargs)
    if nan_policy not in _NAN_POLICIES:
        if nan_policy == "propagate":
            raise ValueError(
                "`nan_policy='propagate'` is not supported by this function.")
        raise ValueError("nan_policy must be one of {None, 'raise', 'omit'}")

    box = None
    if p0 is None:
        n = _number_of_parameters(f)
        if bounds is not _NO_BOUNDS:
            box = as_bounds(bounds, None, n)
        p0 = np.ones(n) if box is None else _feasible_start(box.lower, box.upper)
    else:
        p0 = as_start(p0, "p0")
        n = p0.size
    if bounds is not _NO_BOUNDS:  # x0 inside the box, in SciPy's words
        box = as_bounds(bounds, p0, n, names=[f"p0[{i}]" for i in range(n)],
                        outside="Initial guess is outside of provided bounds")

    if check_finite is None:
        check_finite = nan_policy is None
    to_array = _finite_array if check_finite else np.asarray
    ydata = to_array(ydata, np.float64)
    if isinstance(xdata, (list, tuple, np.ndarray)):
        # Other objects go to f untouched (it may know how to use them).
        xdata = to_array(xdata, np.float64)
    if ydata.size == 0:
        raise ValueError("`ydata` must not be empty!")
    if ydata.ndim == 0:
        # one value for every data point: the model's output sets their number
        residual, Dfun = _broadcast_ydata(f, xdata, ydata, sigma, jac, nan_policy,
                                          kwargs)
    else:
        residual, Dfun = _residual_and_jacobian(f, xdata, ydata, sigma, jac, n,
                                                nan_policy, kwargs)

    if box is None:
        popt, cov_x, infodict, mesg, ier = leastsq(
            residual, p0, Dfun=Dfun, full_output=True, **kwargs)
        n_free = n
    else:
        # leastsq warns about parameters held on a bound, with their names
        # here, and for the caller of curve_fit
        token = HELD_REPORT.set((_parameter_names(f, n), "pcov", 1))
        try:
            popt, cov_x, infodict, mesg, ier = leastsq(
                residual, p0, Dfun=Dfun, full_output=True,
                bounds=(box.lower, box.upper), **kwargs)
        finally:
            HELD_REPORT.reset(token)
        # degrees of freedom: M minus the parameters the data determine
        n_free = n if cov_x is None else n - int(np.isnan(cov_x).all(axis=0).sum())
    if ier not in SUCCESS:
        raise RuntimeError("Optimal parameters not found: " + mesg)

    pcov = _scaled_covariance(cov_x, infodict["fvec"], n_free, absolute_sigma)
    if pcov is None:
        pcov = np.full((n, n), np.inf)
        warnings.warn("Covariance of the parameters could not be estimated",
                      warning_category(), stacklevel=2)
    if full_output:
        return popt, pcov, infodict, mesg, ier
    return popt, pcov


def _residual_and_jacobian(
    f: Callable[..., Any], xdata: Any, ydata: np.ndarray, sigma: Any, jac: Any,
    n: int, nan_policy: str | None, kwargs: dict,
) -> tuple[Callable[..., Any], Callable[..., Any] | None]:
    """Build the weighted residual and its Jacobian, one value per data point."""
    if ydata.ndim != 1:
        raise ValueError(
            f"ydata must be a 1-D array, one value per data point; got an "
            f"array of shape {ydata.shape}")
    if nan_policy is not None:
        xdata, ydata, sigma = _apply_nan_policy(nan_policy, xdata, ydata, sigma)

    m = ydata.shape[0]
    if m != 1 and n > m:
        raise TypeError(f"The number of func parameters={n} must not exceed "
                        f"the number of data points={m}")
    w, Linv = _whitening(sigma, m)

    if kwargs.get("vectorized", False):
        residual = _make_vectorized_residual(f, xdata, ydata, w, Linv)
    else:
        residual = _make_residual(f, xdata, ydata, w, Linv)
    Dfun = None
    if jac is not None:
        col_deriv = bool(kwargs.get("col_deriv", False))
        Dfun = _make_jacobian(jac, xdata, m, n, col_deriv, w, Linv)
    return residual, Dfun


def _broadcast_ydata(
    f: Callable[..., Any], xdata: Any, ydata: np.ndarray, sigma: Any, jac: Any,
    nan_policy: str | None, kwargs: dict,
) -> tuple[Callable[..., Any], Callable[..., Any] | None]:
    """Build the residual ``w * (f(xdata, *p) - ydata)`` for a scalar `ydata`.

    As in SciPy, the one value is broadcast against the model's output, and
    `sigma` must then be a single value too.
    """
    if nan_policy is not None and np.isnan(ydata):
        raise ValueError("The input contains nan values")
    if kwargs.get("vectorized", False):
        raise ValueError("vectorized=True needs ydata with one value per data "
                         "point; got a scalar")
    w = None
    if sigma is not None:
        s = np.asarray(sigma, dtype=np.float64)
        if s.size != 1:
            raise ValueError("`sigma` has incorrect shape.")
        w = 1.0 / s.reshape(())

    def residual(p: np.ndarray) -> Any:
        d = np.asarray(f(xdata, *p)) - ydata
        return d if w is None else w * d

    if jac is None:
        return residual, None

    def jacobian(p: np.ndarray) -> Any:
        J = jac(xdata, *p)
        return J if w is None else w * np.asarray(J)

    jacobian.__name__ = getattr(jac, "__name__", "jac")
    return residual, jacobian


def _finite_array(value: Any, dtype: Any) -> np.ndarray:
    """``np.asarray_chkfinite(value, dtype)``, quicker when all is finite.

    The dot product of the values with themselves is finite exactly when
    every value is and their squares do not overflow; only otherwise does
    NumPy's element-wise check run (and raise its ValueError).
    """
    a = np.asarray(value, dtype)
    if not math.isfinite(np.vdot(a, a)):
        np.asarray_chkfinite(a)
    return a


def _make_residual(
    f: Callable[..., Any], xdata: Any, ydata: np.ndarray,
    w: np.ndarray | None, Linv: np.ndarray | None,
) -> Callable[[np.ndarray], np.ndarray]:
    """Build the weighted residual ``leastsq`` minimizes, one `f` call each."""
    if Linv is None:
        # computed in C by the trampoline when the model's output is plain
        return ModelResidual(f, xdata, ydata, w)
    difference = ModelResidual(f, xdata, ydata, None)

    def residual(p: np.ndarray) -> np.ndarray:
        return Linv @ difference(p)

    return residual


def _make_vectorized_residual(
    f: Callable[..., Any], xdata: Any, ydata: np.ndarray,
    w: np.ndarray | None, Linv: np.ndarray | None,
) -> Callable[[np.ndarray], np.ndarray]:
    """The weighted residual for ``leastsq(..., vectorized=True)``.

    ``p`` has shape (n, k); the model is called once with each parameter a
    row of length k and `xdata` given a trailing axis, so a model that
    broadcasts returns shape (m, k).
    """
    if not isinstance(xdata, np.ndarray):
        raise TypeError("vectorized=True needs xdata as an array (or a sequence of "
                        "arrays) so that it can be broadcast against the parameters")
    xb = xdata[..., np.newaxis]
    yb = ydata[:, np.newaxis]

    def residual(p: np.ndarray) -> np.ndarray:
        d = np.asarray(f(xb, *p)) - yb
        if d.shape != (ydata.shape[0], p.shape[1]):
            raise ValueError(
                f"with vectorized=True the model must broadcast: f(xdata[..., None], "
                f"*params) with params of shape ({p.shape[1]},) must give shape "
                f"({ydata.shape[0]}, {p.shape[1]}); f(xdata, *params) - ydata has "
                f"shape {d.shape}")
        if w is not None:
            return w[:, np.newaxis] * d
        if Linv is not None:
            return Linv @ d
        return d

    return residual


def _make_jacobian(
    jac: Callable[..., Any], xdata: Any, m: int, n: int, col_deriv: bool,
    w: np.ndarray | None, Linv: np.ndarray | None,
) -> Callable[[np.ndarray], Any]:
    """Build the Jacobian of the weighted residual from the model's `jac`.

    A result of the wrong shape or type is handed to ``leastsq`` unweighted,
    so that its check reports it.
    """
    if w is None and Linv is None:
        # called by the trampoline without a Python frame
        return ModelJacobian(jac, xdata)
    expected = (n, m) if col_deriv else (m, n)

    def weighted(p: np.ndarray) -> Any:
        J = jac(xdata, *p)
        try:
            J = np.asarray(J)
        except ValueError:  # ragged nested lists: leastsq says so
            return J
        if J.dtype.kind not in "biuf":  # None, complex, strings: leastsq says so
            return J
        if J.shape != expected:
            if 1 not in expected or J.size != m * n:
                return J
            J = J.reshape(expected)  # leastsq's rule for a single row/column
        if w is not None:
            return J * w if col_deriv else w[:, np.newaxis] * J
        return J @ Linv.T if col_deriv else Linv @ J

    # leastsq names the function in its shape-mismatch message.
    weighted.__name__ = getattr(jac, "__name__", "jac")
    return weighted


def _parameter_names(f: Callable[..., Any], n: int) -> list[str]:
    """The names of the n fit parameters from the model's signature, or
    p[0], p[1], ... when it does not give them.
    """
    try:
        params = list(inspect.signature(f).parameters.values())[1:]
    except (TypeError, ValueError):
        params = []
    positional = (inspect.Parameter.POSITIONAL_ONLY,
                  inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [p.name for p in params if p.kind in positional]
    return names if len(names) == n else [f"p[{i}]" for i in range(n)]


def _nan_rows_only(nan: np.ndarray) -> bool:
    """NaN exactly in some whole rows and the same columns (held parameters)."""
    rows = nan.all(axis=1)
    return bool(np.array_equal(nan, rows[:, None] | rows[None, :]))


def _scaled_covariance(
    cov_x: np.ndarray | None, fvec: np.ndarray, n: int, absolute_sigma: bool
) -> np.ndarray | None:
    """Turn leastsq's ``inv(J.T @ J)`` into `pcov`; None when unknown.

    `n` is the number of free parameters: all of them, or for a bounded fit
    those not held on a bound, whose rows and columns of `cov_x` are NaN
    (and stay NaN).
    """
    if cov_x is None:
        return None
    if any(map(math.isnan, cov_x.ravel().tolist())) and (
            n == cov_x.shape[0] or not _nan_rows_only(np.isnan(cov_x))):
        return None
    if absolute_sigma:
        return cov_x
    m = fvec.shape[0]
    if m <= n:
        return None
    # SciPy's np.sum(fvec**2) (fvec**2 is np.square), without the wrappers
    s_sq = np.add.reduce(np.square(fvec)) / (m - n)
    return cov_x * s_sq
