"""``leastsq_batch``: many independent least-squares fits in one call.

With compiled residuals (see ``_compiled.py``) the fits run in Fortran
(``minpack_glue_lm_batch`` in ``_glue.f90``) on several threads with the GIL
released; Python callables are accepted too and fitted one after another.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from ._chunks import as_workers, run_in_chunks
from ._checks import (
    SUCCESS,
    as_bounds,
    as_diag,
    as_maxfev,
    as_real,
    check_sizes,
    describe,
    split_bounds,
)
from ._compiled import _NO_ACTIVE, _NO_BOUND, as_compiled, compiled_route, run_lm_batch
from ._contexts import Iteration
from ._leastsq import HELD_REPORT, leastsq
from ._nonfinite import NONFINITE_START, NonFiniteStartError
from ._points import as_block, run_points

__all__ = ["BatchResult", "leastsq_batch"]


class BatchResult:
    """Results of `leastsq_batch`, one row per problem.

    Attributes
    ----------
    x : ndarray, shape (K, n)
        The solutions (or last iterates).
    ier : ndarray of int32, shape (K,)
        ``leastsq``'s `ier` for each problem: 1-4 success, 5-8 failure,
        0 improper input, 9 stopped by the callback, 10 residuals not finite
        at the problem's x0 (where `leastsq` raises a ValueError: its row of
        `x` is x0, `nfev` 1), 11 the Jacobian is not finite at the row's
        `x`, negative: the compiled function returned a non-zero status
        (``-|status|``).
    nfev : ndarray of int32, shape (K,)
        Residual evaluations per problem.
    njev : ndarray of int32, shape (K,)
        Jacobian evaluations per problem (0 without `Dfun`).
    fnorm : ndarray, shape (K,)
        The 2-norm of the final residuals (NaN for a problem whose box was
        refused, `ier` 0).
    cov_x : ndarray, shape (K, n, n)
        With ``full_output``: ``leastsq``'s `cov_x` per problem, NaN where
        ``leastsq`` gives None.
    fvec : ndarray, shape (K, m)
        With ``full_output``: the final residuals.
    active_mask : ndarray of int, shape (K, n), or None
        With `bounds`: -1 where a parameter ended on its lower bound (or is
        fixed), 1 on its upper bound, 0 free (as ``least_squares``); None
        without bounds.
    """

    def __init__(self, x: np.ndarray, ier: np.ndarray, nfev: np.ndarray,
                 njev: np.ndarray, fnorm: np.ndarray, cov_x: np.ndarray | None,
                 fvec: np.ndarray | None, active_mask: np.ndarray | None = None) -> None:
        self.x = x
        self.ier = ier
        self.nfev = nfev
        self.njev = njev
        self.fnorm = fnorm
        self.cov_x = cov_x
        self.fvec = fvec
        self.active_mask = active_mask

    @property
    def success(self) -> np.ndarray:
        """Boolean array: which fits converged (ier 1-4)."""
        return np.isin(self.ier, SUCCESS)

    def __len__(self) -> int:
        return self.x.shape[0]

    def __repr__(self) -> str:
        k, n = self.x.shape
        return (f"BatchResult(K={k}, n={n}, converged={int(self.success.sum())}, "
                f"full_output={self.cov_x is not None})")


def batch_options(ftol: Any = 1.49012e-8, xtol: Any = 1.49012e-8, gtol: Any = 0.0,
                  maxfev: Any = 0, epsfcn: Any = None, factor: Any = 100,
                  diag: Any = None) -> dict:
    """leastsq's options shared by every problem of a batch, checked (`diag`
    as given: ``as_diag`` reads it once n is known)."""
    return dict(ftol=as_real(ftol, "ftol"), xtol=as_real(xtol, "xtol"),
                gtol=as_real(gtol, "gtol"), maxfev=as_maxfev(maxfev),
                epsfcn=None if epsfcn is None else as_real(epsfcn, "epsfcn"),
                factor=as_real(factor, "factor"), diag=diag)


def _as_batch_start(x0: Any) -> np.ndarray:
    given = np.asarray(x0)
    if given.dtype.kind not in "biuf":
        raise TypeError(f"x0 must be real numbers; got an array of dtype {given.dtype}")
    x = np.array(given, dtype=np.float64, order="C", copy=True)
    if x.ndim != 2:
        raise ValueError(
            f"x0 must have shape (K, n): one starting point per problem; got an "
            f"array of shape {np.shape(x0)}")
    if x.shape[1] == 0:
        raise TypeError(f"Improper input: x0 has shape {x.shape}, no variables (n = 0)")
    finite = np.isfinite(x).all(axis=1)
    if not finite.all():  # as leastsq: no fit can start at NaN or inf
        rows = np.flatnonzero(~finite)
        raise ValueError(f"x0 must be finite; rows {rows[:10].tolist()}"
                         f"{' ...' if rows.size > 10 else ''} hold NaN or inf")
    return x


def _as_batch_args(args: Any, K: int) -> np.ndarray | None:
    if args is None:
        return None
    if not isinstance(args, np.ndarray):
        raise TypeError(
            "args must be None or a numpy array of shape (K, ...) whose row k is "
            f"problem k's data; got {type(args).__name__}")
    if args.ndim == 0 or args.shape[0] != K:
        raise ValueError(
            f"args must have one row per problem (shape ({K}, ...)); got shape "
            f"{args.shape}")
    return np.ascontiguousarray(args)


def _as_batch_bounds(bounds: Any, K: int, n: int) -> tuple[int, np.ndarray, np.ndarray]:
    """(bounded, lower, upper) for the glue: 0 without bounds (None, or all
    infinite); 1 with one box for every problem (lower, upper of shape
    (n,)); 2 with one box per problem ((K, n) each, C order).

    The shapes are checked here; a NaN bound or a lower bound above its
    upper one raises for a shared box, and for a per-problem box sets that
    problem's ier to 0 (the solver's improper input), as does an x0 outside
    its box.
    """
    if bounds is None:
        return 0, _NO_BOUND, _NO_BOUND
    lb, ub = split_bounds(bounds)
    sides = []
    for value, name in ((lb, "lower"), (ub, "upper")):
        given = np.asarray(value)
        if given.dtype.kind not in "biuf":
            raise TypeError(f"bounds: the {name} bounds must be real numbers; got "
                            f"{describe(value)}")
        if given.shape not in ((), (n,), (K, n)):
            raise ValueError(f"bounds: the {name} bounds must be a scalar, shape ({n},) "
                             f"(shared by every problem) or ({K}, {n}) (one row per "
                             f"problem); got shape {given.shape}")
        sides.append(given.astype(np.float64))
    lower, upper = sides
    if lower.ndim < 2 and upper.ndim < 2:
        box = as_bounds((lower, upper), None, n)  # raises for NaN, lower > upper
        if box is None:
            return 0, _NO_BOUND, _NO_BOUND
        return 1, box.lower, box.upper
    lower = np.ascontiguousarray(np.broadcast_to(lower, (K, n)))
    upper = np.ascontiguousarray(np.broadcast_to(upper, (K, n)))
    if not (np.any(lower > -np.inf) or np.any(upper < np.inf)):
        return 0, _NO_BOUND, _NO_BOUND
    return 2, lower, upper


def _proper_rows(bounded: int, lower: np.ndarray, upper: np.ndarray,
                 x: np.ndarray) -> np.ndarray:
    """Which problems have a proper box that holds their x0 (the solver's
    own test; used by the Python loop, which cannot leave it to Fortran).
    """
    if bounded == 0:
        return np.ones(x.shape[0], dtype=bool)
    with np.errstate(invalid="ignore"):
        ok = (lower <= upper) & (lower <= x) & (x <= upper)
    return ok.all(axis=1)


def leastsq_batch(
    func: Any,
    x0: Any,
    args: Any = None,
    Dfun: Any = None,
    *,
    m: int | None = None,
    ftol: float = 1.49012e-8,
    xtol: float = 1.49012e-8,
    gtol: float = 0.0,
    maxfev: int = 0,
    epsfcn: float | None = None,
    factor: float = 100,
    diag: Any = None,
    workers: int | None = None,
    full_output: bool = False,
    callback: Callable[[Iteration], Any] | None = None,
    bounds: Any = None,
    vectorized: bool = False,
) -> BatchResult:
    """Fit K independent least-squares problems of the same size in one call.

    Each problem ``k`` is the `leastsq` fit of `func` from ``x0[k]`` with
    ``args[k]`` as its data; row ``k`` of the result equals what `leastsq`
    gives for that problem alone. With compiled `func` and `Dfun` the whole
    batch runs in Fortran on `workers` threads with the GIL released.

    Parameters
    ----------
    func : compiled function or callable
        The residuals. Compiled (numba ``cfunc``, ctypes or cffi function
        pointer, ``scipy.LowLevelCallable``, ``PyCapsule``) with the C
        signature ``int func(int m, int n, const double *x, double *fvec,
        void *user_data)``, where ``user_data`` points at ``args[k]``; or a
        Python callable ``func(x, args[k])`` (``func(x)`` when `args` is
        None), run one problem after another.
    x0 : array_like, shape (K, n)
        One starting point per problem.
    args : ndarray, shape (K, ...), optional
        Per-problem data: row ``k`` (made C-contiguous) is problem ``k``'s.
    Dfun : compiled function or callable, optional
        The Jacobian: compiled as ``int jac(int m, int n, const double *x,
        double *fjac, int ldfjac, void *user_data)`` (column-major), or a
        Python callable returning shape (m, n). Estimated by forward
        differences when None.
    m : int, optional
        Number of residuals per problem. Required with a compiled `func`.
    ftol, xtol, gtol, maxfev, epsfcn, factor, diag
        As in `leastsq`, shared by all problems (`diag` of shape (n,)).
    workers : int, optional
        Threads for compiled fits (default: all cores). Python callables
        always run in the calling thread.
    full_output : bool, optional
        Also return `cov_x` (NaN where `leastsq` gives None) and `fvec`.
    callback : callable, optional
        Called once per iteration of every fit with an `Iteration` whose
        ``k`` is the problem index; ``StopIteration`` stops that fit only
        (its `ier` becomes 9). Makes compiled batches run one problem after
        another, holding the GIL.
    vectorized : bool, optional
        True: `func` is a Python function of many points of many problems
        at once, ``func(X, k)`` with `X` of shape (P, n) (one point per row)
        and `k` (P,) the problem of each row, returning the residuals, shape
        (P, m); with `args`, ``func(X, args[k])`` (the rows of `args` for
        those problems). The problems then advance in lockstep, and `func`
        is called once per round for every point they need (trial points
        and difference Jacobians alike), with the GIL released in between;
        see `curve_fit_batch`. Without `m`, `func` is called once more, at
        the first problem's x0, to learn it. Not with `Dfun` or `callback`.
    bounds : 2-tuple of array_like, optional
        ``(lb, ub)``: each a scalar, shape (n,) (one box for every problem)
        or (K, n) (one box per problem); ``-inf``/``inf`` for no bound and
        ``lb == ub`` to fix a parameter, as in `leastsq`. A problem whose x0
        is outside its box, or whose box has a NaN bound or a lower bound
        above its upper bound, gets `ier` 0 and is not evaluated; the
        others run. `cov_x` then has NaN rows and columns for the parameters
        held on a bound (no warning; see ``active_mask``).

    Returns
    -------
    BatchResult
        ``x`` (K, n), ``ier``, ``nfev``, ``njev``, ``fnorm`` (K,), with
        `full_output` ``cov_x`` (K, n, n) and ``fvec`` (K, m), and with
        `bounds` ``active_mask`` (K, n).

    Raises
    ------
    TypeError, ValueError
        For inputs of the wrong type or shape (the message says which).
    KeyboardInterrupt
        Ctrl-C is honoured between chunks of problems (a few milliseconds
        each); no thread is left running.

    See Also
    --------
    leastsq : one fit.

    Notes
    -----
    One bad problem never spoils the others: NaN data (residuals that are
    not finite at its x0: `ier` 10), a Jacobian that is not finite (11), a
    failure to converge or a compiled function returning non-zero only set
    that problem's `ier`.

    Examples
    --------
    Fit ``y = a exp(-b t)`` to three data sets with a Python residual:

    >>> import numpy as np
    >>> from minpack import leastsq_batch
    >>> t = np.linspace(0, 3, 12)
    >>> data = np.array([a * np.exp(-b * t) for a, b in [(1, 1), (2, .5), (3, 2)]])
    >>> res = leastsq_batch(lambda p, y: y - p[0] * np.exp(-p[1] * t),
    ...                     np.ones((3, 2)), args=data)
    >>> np.round(res.x, 6)
    array([[1. , 1. ],
           [2. , 0.5],
           [3. , 2. ]])
    >>> bool(res.success.all()), res.nfev.shape
    (True, (3,))

    With one box for all (the rate at most 1.5) and a per-problem box whose
    lower bound is above its upper one: that problem alone gets ier 0.

    >>> lb = np.array([[0, 0], [5, 0], [0, 0]])
    >>> ub = np.array([[10, 1.5], [1, 1.5], [10, 1.5]])
    >>> res = leastsq_batch(lambda p, y: y - p[0] * np.exp(-p[1] * t),
    ...                     np.ones((3, 2)), args=data, bounds=(lb, ub))
    >>> res.ier[1], res.active_mask[2]
    (np.int32(0), array([0, 1]))

    The same fits with a residual that takes many points at once (each row
    of ``X`` a point, ``y`` the data rows of their problems):

    >>> res = leastsq_batch(lambda X, y: y - X[:, :1] * np.exp(-X[:, 1:] * t),
    ...                     np.ones((3, 2)), args=data, vectorized=True)
    >>> np.round(res.x, 6)
    array([[1. , 1. ],
           [2. , 0.5],
           [3. , 2. ]])
    """
    x = _as_batch_start(x0)
    K, n = x.shape
    options = batch_options(ftol, xtol, gtol, maxfev, epsfcn, factor, diag)
    ftol, xtol, gtol = options["ftol"], options["xtol"], options["gtol"]
    maxfev, epsfcn, factor = options["maxfev"], options["epsfcn"], options["factor"]
    if m is not None:
        try:
            m = operator.index(m)
        except TypeError:
            raise TypeError(f"m must be an integer (the number of residuals per "
                            f"problem); got {type(m).__name__} {m!r:.40}") from None
    data = _as_batch_args(args, K)
    bounded, lower, upper = _as_batch_bounds(bounds, K, n)
    workers = as_workers(workers)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable; got {type(callback).__name__}")
    compiled = as_compiled(func, "func")
    compiled_jac = as_compiled(Dfun, "Dfun")
    box = (bounded, lower, upper)

    if vectorized:
        return _vectorized_batch(func, Dfun, callback, x, data, m, full_output, options,
                                 box, workers)
    if compiled is None and compiled_jac is None:
        if not callable(func):
            raise TypeError(f"func must be callable or a compiled function; got "
                            f"{type(func).__name__}")
        return _python_batch(func, Dfun, x, data, m, full_output, callback, options,
                             box)
    if compiled is None or (Dfun is not None and compiled_jac is None):
        raise TypeError("func and Dfun must both be compiled functions, or both "
                        "Python callables")
    if m is None:
        raise TypeError("m (the number of residuals per problem) is required with "
                        "a compiled func")
    m = operator.index(m)
    check_sizes(n, m)
    if data is not None and compiled.user_data is not None:
        raise TypeError("func carries its own user_data (a LowLevelCallable or a "
                        "PyCapsule with a context); args must then be None")
    if callback is not None:
        return _python_batch(func, Dfun, x, data, m, full_output, callback, options,
                             box)

    if epsfcn is None:
        epsfcn = np.finfo(np.float64).eps
    maxfev = maxfev if maxfev > 0 else 0  # any <= 0: the default (fits a C int)
    mode, diag_arr = as_diag(diag, n)
    ier = np.zeros(K, dtype=np.int32)
    nfev = np.zeros(K, dtype=np.int32)
    njev = np.zeros(K, dtype=np.int32)
    fnorm = np.zeros(K)
    fvec = np.zeros((K, m)) if full_output else None
    cov = np.zeros((K, n, n)) if full_output else None
    dummy = np.zeros(1)
    active = np.zeros((K, n), dtype=np.int32) if bounded else None
    ubase = 0 if data is None else data.ctypes.data
    ustride = 0 if data is None else data.strides[0]
    if data is None and compiled.user_data is not None:
        ubase = compiled.user_data
    route = compiled_route(compiled, compiled_jac, ubase)

    def run(k0: int, k1: int) -> None:  # maxfev <= 0: MINPACK's default
        run_lm_batch(
            route, ubase + k0 * ustride, ustride, m, n, k1 - k0,
            x[k0:k1].reshape(-1), ftol, xtol, gtol, maxfev, epsfcn, diag_arr, mode,
            factor, int(full_output), dummy if fvec is None else fvec[k0:k1].reshape(-1),
            int(full_output), dummy if cov is None else cov[k0:k1].reshape(-1),
            fnorm[k0:k1], ier[k0:k1], nfev[k0:k1], njev[k0:k1], bounded,
            lower[k0:k1].reshape(-1) if bounded == 2 else lower,
            upper[k0:k1].reshape(-1) if bounded == 2 else upper,
            _NO_ACTIVE if active is None else active[k0:k1].reshape(-1))

    run_in_chunks(run, K, workers)
    return BatchResult(x, ier, nfev, njev, fnorm, cov, fvec,
                       None if active is None else active.astype(np.int_))


def _python_batch(func: Any, Dfun: Any, x: np.ndarray, data: np.ndarray | None,
                  m: int | None, full_output: bool, callback: Any,
                  options: dict, box: tuple) -> BatchResult:
    """The batch as a loop over `leastsq`, in the calling thread."""
    K, n = x.shape
    bounded, lower, upper = box
    proper = _proper_rows(bounded, lower, upper, x)
    active = np.zeros((K, n), dtype=np.int_) if bounded else None
    ier = np.zeros(K, dtype=np.int32)
    nfev = np.zeros(K, dtype=np.int32)
    njev = np.zeros(K, dtype=np.int32)
    fnorm = np.zeros(K)
    fvecs: list = []
    cov = np.full((K, n, n), np.nan) if full_output else None
    # data[k, ...] is an array even when a row is a single number, as a
    # compiled func needs; a Python func gets data[k] itself
    compiled = as_compiled(func, "func") is not None
    for k in range(K):
        kargs = () if data is None else (data[k, ...] if compiled else data[k],)
        kcallback = None if callback is None else _with_index(callback, k)
        kbounds = None if not bounded else (lower, upper) if bounded == 1 else (
            lower[k], upper[k])
        if not proper[k]:  # the solver's improper input, before any evaluation
            ier[k] = 0
            fnorm[k] = np.nan
            if full_output:
                fvecs.append(np.full(m if m is not None else 0, np.nan))
            continue
        token = HELD_REPORT.set((None, None, 0))  # held parameters: see active_mask
        try:
            xk, cov_k, info, _, ier[k] = leastsq(
                func, x[k], args=kargs, Dfun=Dfun, full_output=True, m=m,
                callback=kcallback, bounds=kbounds, **options)
        except NonFiniteStartError as exc:  # this problem's ier, as compiled
            ier[k] = NONFINITE_START
            xk, cov_k, info = x[k], None, {"fvec": exc.fvec, "nfev": 1}
        finally:
            HELD_REPORT.reset(token)
        if active is not None and "active_mask" in info:
            active[k] = info["active_mask"]
        x[k] = xk
        nfev[k] = info["nfev"]
        njev[k] = info.get("njev", 0)
        fnorm[k] = np.sqrt(np.dot(info["fvec"], info["fvec"]))
        if full_output:
            fvecs.append(info["fvec"])
            if cov_k is not None:
                cov[k] = cov_k
    fvec = None
    if full_output:
        fvec = _stack_fvecs(fvecs, m)
    return BatchResult(x, ier, nfev, njev, fnorm, cov, fvec, active)


def _vectorized_batch(func: Any, Dfun: Any, callback: Any, x: np.ndarray,
                      data: np.ndarray | None, m: int | None, full_output: bool,
                      options: dict, box: tuple, workers: int) -> BatchResult:
    """The batch on the reverse-communication engine (see _points.py)."""
    if not callable(func) or as_compiled(func, "func") is not None:
        raise TypeError("vectorized=True takes a Python function func(X, k) of many "
                        f"points at once; got {describe(func)}")
    if Dfun is not None or callback is not None:
        raise TypeError("vectorized=True takes neither Dfun nor callback: the "
                        "Jacobians are forward differences evaluated with the points")
    K, n = x.shape

    def block(X: np.ndarray, k: np.ndarray) -> Any:
        return func(X, k) if data is None else func(X, data[k])

    if m is None:
        if K == 0:
            raise ValueError("m (the number of residuals) is needed for an empty "
                             "batch: there is no problem to ask")
        first = np.asarray(block(x[:1].copy(), np.zeros(1, dtype=np.intp)))
        if first.ndim != 2 or first.shape[0] != 1:
            raise ValueError(f"with vectorized=True, func(X, k) must return shape (P, "
                             f"m) for X of shape (P, n); for one point it returned "
                             f"shape {first.shape}")
        m = first.shape[1]
    check_sizes(n, m)
    rule = ("With vectorized=True, func(X, k) gets one point per row of X, shape "
            "(P, n), and must return one row of residuals per point, shape (P, m).")

    def checked(X: np.ndarray, k: np.ndarray) -> np.ndarray:
        return as_block(block(X, k), X.shape[0], m, "func", rule)

    out = run_points(checked, x, m, options, box, workers,
                     want_cov=full_output)
    return BatchResult(out.x, out.ier, out.nfev, np.zeros(K, dtype=np.int32), out.fnorm,
                       out.cov, out.fvec if full_output else None, out.active)


def _stack_fvecs(fvecs: list, m: int | None) -> np.ndarray:
    """The rows of fvec; a problem refused before any evaluation (when m was
    not given) gets NaN of the others' length.
    """
    if not fvecs:
        return np.zeros((0, 0 if m is None else m))
    size = max(f.size for f in fvecs)
    return np.array([f if f.size == size else np.full(size, np.nan) for f in fvecs])


def _with_index(callback: Callable[[Iteration], Any], k: int) -> Callable:
    def indexed(it: Iteration) -> Any:
        it.k = k
        return callback(it)

    return indexed
