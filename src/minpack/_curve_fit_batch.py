"""``curve_fit_batch``: one model fitted to many data sets at once.

The problems run in lockstep on the reverse-communication engine
(``_points.py``): the model is called once per round for every point the
running fits need, with each parameter as a (P, 1) column, so a model written
with NumPy operations is evaluated for thousands of points per call.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ._batch import _as_batch_bounds, _as_batch_start, batch_options
from ._chunks import as_workers
from ._checks import SUCCESS, describe
from ._curve_fit import _feasible_start, _number_of_parameters
from ._leastsq import _message
from ._nonfinite import NONFINITE_JACOBIAN, NONFINITE_START
from ._optimize import warning_category
from ._points import as_block, run_points

__all__ = ["CurveFitBatchResult", "curve_fit_batch"]

_LEASTSQ_OPTIONS = ("ftol", "xtol", "gtol", "maxfev", "epsfcn", "factor", "diag")

_BROADCAST_RULE = (
    "With vectorized=True the model is called once for many points: "
    "f(xdata, *params) with each parameter a column of shape (P, 1), so that "
    "NumPy broadcasting gives one row of m values per point, shape (P, m). "
    "Write the model with operations that broadcast (np.exp, +, *, "
    "np.where, ...; not math.exp, float() or an if on a parameter), or pass "
    "vectorized=False to call it once per point.")


# the codes that a single fit reports another way (curve_fit raises)
_BATCH_MESSAGES = {
    NONFINITE_START: "The residuals are not finite at p0 (NaN in the data, or a model "
                     "not defined there): no fit can start there.",
    NONFINITE_JACOBIAN: "The Jacobian at x is not finite: a forward-difference step "
                        "from x reached a point where the model is NaN or inf, so the "
                        "fit stopped at x, the last iterate.",
}


class CurveFitBatchResult:
    """Results of `curve_fit_batch`, one row per problem.

    Attributes
    ----------
    popt : ndarray, shape (K, n)
        The fitted parameters; for a problem that failed (`success` False),
        the last iterate (its p0 when it was improper input).
    pcov : ndarray, shape (K, n, n)
        The covariance of each row of `popt`, as `curve_fit` computes it:
        ``inf`` where it cannot be estimated, NaN for failed problems and in
        the rows and columns of parameters that end held on a bound.
    perr : ndarray, shape (K, n)
        One-standard-deviation errors, ``sqrt(diag(pcov))``.
    ier : ndarray of int32, shape (K,)
        MINPACK's code per problem: 1-4 success, 5 too many evaluations,
        6-8 tolerances too small, 0 improper input (fewer points than
        parameters, p0 outside the bounds), 10 the residuals are not finite
        at p0 (NaN data without ``nan_policy='omit'``), 11 the Jacobian is
        not finite.
    nfev : ndarray of int32, shape (K,)
        Model evaluations (points) per problem.
    success : ndarray of bool, shape (K,)
        ``ier`` in 1-4.
    fvec : ndarray, shape (K, m)
        With `full_output`: the weighted residuals at `popt` (0 at points
        left out by ``nan_policy='omit'``).
    mesg : list of str
        With `full_output`: MINPACK's message per problem.
    active_mask : ndarray of int, shape (K, n)
        With bounds: -1 on the lower bound (or fixed), 1 on the upper, 0 free.
    """

    def __init__(self, popt: np.ndarray, pcov: np.ndarray, ier: np.ndarray,
                 nfev: np.ndarray, fvec: np.ndarray | None = None,
                 mesg: list[str] | None = None,
                 active_mask: np.ndarray | None = None) -> None:
        self.popt = popt
        self.pcov = pcov
        with np.errstate(invalid="ignore"):
            self.perr = np.sqrt(np.diagonal(pcov, axis1=1, axis2=2))
        self.ier = ier
        self.nfev = nfev
        self.success = np.isin(ier, SUCCESS)
        self.fvec = fvec
        self.mesg = mesg
        self.active_mask = active_mask

    def __len__(self) -> int:
        return self.popt.shape[0]

    def __repr__(self) -> str:
        K, n = self.popt.shape
        return (f"CurveFitBatchResult(K={K}, n={n}, "
                f"converged={int(self.success.sum())})")


def curve_fit_batch(
    f: Callable[..., Any],
    xdata: Any,
    ydata: Any,
    p0: Any = None,
    sigma: Any = None,
    absolute_sigma: bool = False,
    bounds: Any = (-np.inf, np.inf),
    nan_policy: str | None = None,
    workers: int | None = None,
    full_output: bool = False,
    vectorized: bool = True,
    **leastsq_options: Any,
) -> CurveFitBatchResult:
    """Fit one model to K data sets at once, each as `curve_fit` would alone.

    The K problems advance in lockstep, and each round `f` is called once
    for every point that the running fits need (trial points and the points
    of their difference Jacobians alike), with each parameter as a column
    of shape (P, 1). A model written with NumPy operations, such as
    ``a * np.exp(-k * t) + c``, then returns shape (P, m) by broadcasting
    and is evaluated for thousands of points per call: many fits run at
    close to compiled speed with the model you already have.

    Parameters
    ----------
    f : callable
        The model, ``f(xdata, *params)``, as for `curve_fit`.
    xdata : array_like
        The independent variable: shared by every problem, shape (m,) (or
        (k, m) for k variables, or any object `f` understands); or one per
        problem, shape (K, m) or (K, k, m). An array with at least two
        dimensions whose first is K is taken per problem; `f` then gets the
        rows of the points it evaluates, shape (P, m), or (k, P, m) so that
        ``xdata[0]`` is still the first variable. A shared (k, m) `xdata`
        with k equal to K would be read per problem: give it as
        ``xdata[np.newaxis]``, shape (1, k, m), which is always shared.
    ydata : array_like, shape (K, m)
        The data, one problem per row.
    p0 : array_like, shape (n,) or (K, n), optional
        Starting parameters, shared or per problem. Default: ones (n from
        the signature of `f`), or with bounds the starting point `curve_fit`
        would choose.
    sigma : array_like, shape (m,) or (K, m), optional
        Uncertainties of `ydata` (shared or per problem): the residuals are
        ``(f - ydata) / sigma``.
    absolute_sigma : bool, optional
        As in `curve_fit`: `pcov` is not scaled by the reduced chi-square.
    bounds : 2-tuple of array_like, optional
        ``(lb, ub)``, each a scalar, shape (n,) (shared) or (K, n) (per
        problem), handled inside the Levenberg-Marquardt iteration as in
        `curve_fit`. A problem whose p0 is outside its box, or whose box is
        not proper, gets ``ier`` 0; the others run.
    nan_policy : {None, 'omit'}, optional
        ``'omit'``: the NaN points of each row (NaN in `ydata`, or in a
        per-problem `xdata`) are left out of that row's fit alone; a point
        whose shared `xdata` holds a NaN is left out of every fit. None: a
        row with NaN data fails with ``ier`` 10 (its residuals are not finite
        at p0); the others run.
    workers : int, optional
        Threads sharing the problems (default: all cores). NumPy releases the
        GIL in its element-wise operations and the solver runs without it.
    full_output : bool, optional
        Also return `fvec` and `mesg`.
    vectorized : bool, optional
        True (default): `f` broadcasts as described above. False: `f` is
        called once per point, with scalar parameters (slower; for models
        that do not broadcast).
    **leastsq_options
        ``ftol``, ``xtol``, ``gtol``, ``maxfev``, ``epsfcn``, ``factor``,
        ``diag``: as for `leastsq`, shared by every problem.

    Returns
    -------
    CurveFitBatchResult
        ``popt`` (K, n), ``pcov`` (K, n, n), ``perr``, ``ier``, ``nfev``,
        ``success``; with `full_output` ``fvec`` and ``mesg``; with bounds
        ``active_mask``.

    Raises
    ------
    TypeError, ValueError
        For arguments of the wrong type or shape, and for a model that does
        not broadcast (the message explains the rule).

    Warns
    -----
    OptimizeWarning
        When the covariance of some converged problems cannot be estimated
        (their `pcov` is inf), once for the batch.

    See Also
    --------
    curve_fit : one fit.
    leastsq_batch : many fits of a residual function, or of compiled code.

    Notes
    -----
    Row ``k`` is what ``curve_fit(f, xdata, ydata[k], p0[k], sigma[k], ...)``
    returns for that problem alone: the same iterates (``popt`` to rounding),
    ``nfev`` and ``ier``, as long as `f` computes each point's values the
    same way in a block as alone (NumPy's element-wise operations do).
    Unlike `curve_fit`, a problem that fails does not raise: its ``ier``
    and ``success`` say so, and the other problems are unaffected.

    Examples
    --------
    Fit an exponential decay to 1,000 noisy curves:

    >>> import numpy as np
    >>> from minpack import curve_fit_batch
    >>> def decay(t, a, k, c):
    ...     return a * np.exp(-k * t) + c
    >>> rng = np.random.default_rng(0)
    >>> t = np.linspace(0, 4, 50)
    >>> truth = rng.uniform([1, 0.5, 0], [3, 2, 0.5], size=(1000, 3))
    >>> y = decay(t, *truth.T[:, :, None]) + 0.01 * rng.standard_normal((1000, 50))
    >>> res = curve_fit_batch(decay, t, y, p0=[1, 1, 0])
    >>> bool(res.success.all()), res.popt.shape, res.pcov.shape
    (True, (1000, 3), (1000, 3, 3))
    >>> bool(np.all(np.abs(res.popt - truth) < 10 * res.perr))
    True

    A NaN in a row is left out of that row's fit only:

    >>> y[3, 10] = np.nan
    >>> res = curve_fit_batch(decay, t, y, p0=[1, 1, 0], nan_policy="omit")
    >>> bool(res.success.all())
    True
    """
    unknown = set(leastsq_options).difference(_LEASTSQ_OPTIONS)
    if unknown:
        raise TypeError(
            f"curve_fit_batch got unexpected keyword argument(s) "
            f"{', '.join(sorted(unknown))}; it takes {', '.join(_LEASTSQ_OPTIONS)} "
            "besides its own")
    if not callable(f):
        raise TypeError(f"f must be callable; got {type(f).__name__}")
    if nan_policy not in (None, "omit"):
        raise ValueError(f"nan_policy must be None or 'omit'; got {nan_policy!r}")
    y = np.asarray(ydata)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"ydata must be real numbers; got {describe(ydata)}")
    if y.ndim != 2:
        raise ValueError(f"ydata must have shape (K, m): one problem per row; got "
                         f"shape {y.shape}")
    y = np.ascontiguousarray(y, dtype=np.float64)
    K, m = y.shape
    x, shared_x = _as_xdata(xdata, K, m)
    n = _number_of_parameters(f) if p0 is None else None
    x0, box = _start_and_box(p0, bounds, K, n)
    K, n = x0.shape
    if m < n:
        raise TypeError(f"The number of func parameters={n} must not exceed the "
                        f"number of data points={m}")
    w = _weights(sigma, K, m)
    omit = nan_policy == "omit"
    if omit and isinstance(x, np.ndarray) and x.ndim >= 1 and x.shape[-1] == m:
        # a point with NaN in xdata (in any of its variables) is left out too,
        # as curve_fit does: of its own problem, or of every problem
        nan_x = np.isnan(x).reshape((K, -1, m) if not shared_x else (-1, m)).any(axis=-2)
        if nan_x.any():
            y = np.where(nan_x, np.nan, y)
    options = batch_options(**leastsq_options)
    workers = as_workers(workers)

    model = _model_points(f, x, shared_x, n, m, vectorized)
    out = run_points(model, x0, m, options, box, workers, ydata=y, w=w, omit=omit)

    points = np.full(K, m) if not omit else np.count_nonzero(~np.isnan(y), axis=1)
    pcov = _scaled_covariance(out.cov, out.fvec, out.ier, out.active, points,
                              absolute_sigma)
    mesg = None
    if full_output:
        texts: dict[int, str] = {}
        maxfev = options["maxfev"] if options["maxfev"] > 0 else 200 * (n + 1)
        for i in set(out.ier.tolist()):
            texts[i] = _BATCH_MESSAGES.get(i) or _message(
                i, options["ftol"], options["xtol"], options["gtol"], maxfev, None)
        mesg = [texts[i] for i in out.ier.tolist()]
    return CurveFitBatchResult(out.x, pcov, out.ier, out.nfev,
                               out.fvec if full_output else None, mesg, out.active)


def _as_xdata(xdata: Any, K: int, m: int) -> tuple[Any, bool]:
    """(xdata, shared): a float array when it reads as one; per problem when
    it has at least two dimensions, the first being K (shared when that first
    one is 1)."""
    try:
        a = np.asarray(xdata)
    except (TypeError, ValueError):
        return xdata, True
    if a.dtype.kind not in "biuf":
        return xdata, True  # objects the model itself understands
    a = np.asarray(a, dtype=np.float64)
    if a.ndim >= 2 and a.shape[0] == 1 and K != 1:
        return a[0], True  # (1, ..., m): shared, said so
    if a.ndim >= 2 and a.shape[0] == K:
        if a.ndim > 3 or a.shape[-1] != m:
            raise ValueError(
                f"a per-problem xdata must have shape (K, m) = ({K}, {m}) or (K, k, "
                f"m); got shape {a.shape}")
        return np.ascontiguousarray(a), False
    return a, True


def _start_and_box(p0: Any, bounds: Any, K: int, n: int | None) -> tuple:
    """The (K, n) starting points and the glue's box."""
    if p0 is not None:
        given = np.asarray(p0)
        if given.ndim not in (1, 2) or (given.ndim == 2 and given.shape[0] != K):
            raise ValueError(f"p0 must have shape (n,) or (K, n) = ({K}, n); got "
                             f"shape {given.shape}")
        n = given.shape[-1]
    box = _as_batch_bounds(bounds, K, n)
    if p0 is None:
        bounded, lower, upper = box
        # curve_fit's start inside the box, per problem
        p0 = _feasible_start(lower, upper) if bounded else np.ones(n)
    x0 = _as_batch_start(np.broadcast_to(np.asarray(p0), (K, n)) if
                         np.ndim(p0) == 1 else p0)
    return x0, box


def _weights(sigma: Any, K: int, m: int) -> np.ndarray | None:
    """1/sigma, shape (m,) or (K, m); None without sigma."""
    if sigma is None:
        return None
    s = np.asarray(sigma)
    if s.dtype.kind not in "biuf":
        raise TypeError(f"sigma must be real numbers; got {describe(sigma)}")
    if s.shape not in ((m,), (K, m)):
        raise ValueError(f"sigma must have shape (m,) = ({m},) (shared) or (K, m) = "
                         f"({K}, {m}) (per problem): the uncertainties of ydata; got "
                         f"shape {s.shape}")
    return np.ascontiguousarray(1.0 / s.astype(np.float64))


def _model_points(f: Callable[..., Any], xdata: Any, shared: bool, n: int, m: int,
                  vectorized: bool) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The engine's function: the model's values at the points X of problems k."""

    def rows(k: np.ndarray) -> Any:
        if shared:
            return xdata
        block = xdata[k]
        return block if block.ndim == 2 else np.moveaxis(block, 0, 1)

    if vectorized:
        def block(X: np.ndarray, k: np.ndarray) -> np.ndarray:
            columns = np.ascontiguousarray(X.T)[:, :, np.newaxis]
            return as_block(f(rows(k), *columns), X.shape[0], m, "f", _BROADCAST_RULE)
    else:
        def block(X: np.ndarray, k: np.ndarray) -> np.ndarray:
            out = np.empty((X.shape[0], m))
            for i in range(X.shape[0]):
                xi = xdata if shared else xdata[k[i]]
                out[i] = as_block(np.reshape(f(xi, *X[i]), (1, -1)), 1, m, "f",
                                  "With vectorized=False, f(xdata, *params) must give "
                                  "one value per data point.")[0]
            return out
    return block


def _scaled_covariance(cov: np.ndarray, fvec: np.ndarray, ier: np.ndarray,
                       active: np.ndarray | None, points: np.ndarray,
                       absolute_sigma: bool) -> np.ndarray:
    """curve_fit's pcov from MINPACK's inv(J^T J), for every problem at once.

    NaN for failed problems; inf where curve_fit gives inf (a singular
    Jacobian, or no more points than free parameters); the rows and columns
    of parameters held on a bound stay NaN, and only the free ones count as
    parameters in the degrees of freedom.
    """
    K, n, _ = cov.shape
    ok = np.isin(ier, SUCCESS)
    nan = np.isnan(cov)
    if active is None:
        free = np.full(K, n)
        known = ok & ~nan.any(axis=(1, 2))
    else:
        held = nan.all(axis=1) & (active != 0)  # their NaN columns (and rows)
        free = n - held.sum(axis=1)
        known = ok & (nan == (held[:, :, None] | held[:, None, :])).all(axis=(1, 2))
    if absolute_sigma:
        pcov = cov.copy()
    else:
        known &= points > free
        # SciPy's np.sum(fvec**2) / (M - N), row by row
        with np.errstate(all="ignore"):  # the rows not known are replaced below
            s_sq = np.add.reduce(np.square(fvec), axis=1) / (points - free)
            pcov = cov * s_sq[:, None, None]
    if not known.all():
        pcov[~known] = np.where(ok[~known], np.inf, np.nan)[:, None, None]
    lost = int((ok & ~known).sum())
    if lost:
        warnings.warn(f"Covariance of the parameters could not be estimated for "
                      f"{lost} of {K} problems (their pcov is inf)",
                      warning_category(), stacklevel=3)
    return pcov
