"""Many fits of one vectorised Python function, by reverse communication.

The K fits run in Fortran (``lm_points`` in ``_glue.f90``) as K
Levenberg-Marquardt states that advance in lockstep, with the GIL released.
In each round every state that is still running asks for the residuals at
its trial point, or at the points of its difference Jacobian; the glue
gathers all of them into one (P, n) block and calls Python once, through
the trampoline (``minpack_tramp_points``), which takes the GIL for the call.
So a model written with NumPy is evaluated for thousands of points per call
and the solver's own arithmetic never runs in Python; each fit is still
``lmdif`` step for step, so its results are those of fitting it alone.

`curve_fit_batch` and ``leastsq_batch(..., vectorized=True)`` are built on
`run_points`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from . import _minpack
from ._checks import as_diag
from ._chunks import run_in_chunks
from ._compiled import _NO_ACTIVE
from ._contexts import TRAMPOLINE, PointsContext
from ._malloc import roomy_malloc

__all__ = ["PointsResult", "run_points"]

_NONE = np.zeros(1)


class PointsResult(NamedTuple):
    """The raw outputs of `run_points`, one row per problem."""

    x: np.ndarray
    fvec: np.ndarray
    cov: np.ndarray | None
    fnorm: np.ndarray
    ier: np.ndarray
    nfev: np.ndarray
    active: np.ndarray | None


def run_points(
    func: Callable[[np.ndarray, np.ndarray], np.ndarray],
    x: np.ndarray,
    m: int,
    options: dict,
    box: tuple,
    workers: int,
    *,
    ydata: np.ndarray | None = None,
    w: np.ndarray | None = None,
    omit: bool = False,
    want_cov: bool = True,
) -> PointsResult:
    """Fit K problems whose values at many points come from one call of `func`.

    Parameters
    ----------
    func : callable
        ``func(X, k)`` with `X` of shape (P, n) and `k` (P,) the problem
        (from 0) of each row; returns a C-contiguous float64 array of shape
        (P, m): the residuals, or with `ydata` the model values. It must
        check what the user's function returns (the C side only copies).
    x : ndarray, shape (K, n), C-contiguous float64
        The starting points; overwritten with the solutions.
    m : int
        Residuals per problem.
    options : dict
        From ``batch_options``: ftol, xtol, gtol, maxfev (<= 0: MINPACK's
        default), epsfcn (None: machine epsilon), factor, diag.
    box : tuple
        ``(bounded, lower, upper)`` from ``_as_batch_bounds``.
    workers : int
        Threads sharing the problems.
    ydata : ndarray, shape (K, m), optional
        The data the model values are fitted to: the residuals are then
        ``w * (f - ydata)``, curve_fit's.
    w : ndarray, shape (m,) or (K, m), optional
        The weights, 1/sigma.
    omit : bool
        A NaN in `ydata` leaves that point out of its problem's fit.
    want_cov : bool
        Compute MINPACK's ``inv(J^T J)`` per problem (NaN where undefined).
    """
    K, n = x.shape
    bounded, lower, upper = box
    fvec = np.zeros((K, m))
    cov = np.zeros((K, n, n)) if want_cov else None
    fnorm = np.zeros(K)
    ier = np.zeros(K, dtype=np.int32)
    nfev = np.zeros(K, dtype=np.int32)
    active = np.zeros((K, n), dtype=np.int32) if bounded else None
    have_y = ydata is not None
    nw = 0 if w is None else (1 if w.ndim == 1 else 2)
    eps = options["epsfcn"]
    eps = float(np.finfo(np.float64).eps) if eps is None else eps
    maxfev = options["maxfev"] if options["maxfev"] > 0 else 0
    mode, diag = as_diag(options["diag"], n)

    def run(k0: int, k1: int) -> None:
        errors: list = []

        def call(X: np.ndarray, k: np.ndarray) -> np.ndarray:
            return func(X, k + k0 if k0 else k)

        context = PointsContext(call, errors)
        _minpack.lm_points(
            TRAMPOLINE["points"], id(context), m, n, k1 - k0, x[k0:k1].reshape(-1),
            options["ftol"], options["xtol"], options["gtol"], maxfev, eps,
            diag, mode, options["factor"], int(have_y),
            ydata[k0:k1].reshape(-1) if have_y else _NONE, nw,
            _NONE if nw == 0 else w if nw == 1 else w[k0:k1].reshape(-1), int(omit),
            fvec[k0:k1].reshape(-1), int(want_cov),
            _NONE if cov is None else cov[k0:k1].reshape(-1), fnorm[k0:k1], ier[k0:k1],
            nfev[k0:k1], bounded,
            lower[k0:k1].reshape(-1) if bounded == 2 else lower,
            upper[k0:k1].reshape(-1) if bounded == 2 else upper,
            _NO_ACTIVE if active is None else active[k0:k1].reshape(-1))
        if errors:
            raise errors[0]

    with roomy_malloc():  # NumPy's temporaries, under Dask's workers' malloc
        run_in_chunks(run, K, workers, fixed=chunk_size(m, n))
    return PointsResult(x, fvec, cov, fnorm, ier, nfev,
                        None if active is None else active.astype(np.int_))


def chunk_size(m: int, n: int) -> int:
    """Problems per call of lm_points: as many as make one round's values
    (about n + 1 points of m values per problem) near _ROUND_VALUES, so that
    NumPy's temporaries stay in the cache while each call of the model
    covers many problems; at least 8, for the rounds' fixed cost.
    (Measured on 20,000 fits with m = 50, n = 3 on a quiet machine,
    interleaved: 7.93 / 7.84 / 7.85 us a fit on one worker with 50,000 /
    100,000 / 200,000 values a round, 4.94 / 4.56 / 4.50 on two.)
    """
    return max(8, _ROUND_VALUES // ((n + 1) * max(m, 1)))


_ROUND_VALUES = 100_000


def as_block(value: Any, P: int, m: int, what: str, rule: str) -> np.ndarray:
    """The values of P points as a C-contiguous float64 (P, m) array, or a
    ValueError/TypeError that says what the function returned and `rule`.
    """
    if type(value) is np.ndarray and value.dtype == np.float64 and \
            value.shape == (P, m) and value.flags.c_contiguous:
        return value
    try:
        a = np.asarray(value)
    except (TypeError, ValueError):  # ragged nested sequences
        raise ValueError(f"{what} returned {type(value).__name__} that is not an "
                         f"array of shape ({P}, {m}). {rule}") from None
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{what} must return real numbers; got "
                        f"{type(value).__name__} of dtype {a.dtype}. {rule}")
    if a.shape != (P, m):
        raise ValueError(f"{what} returned shape {a.shape}; expected ({P}, {m}). {rule}")
    return np.ascontiguousarray(a, dtype=np.float64)

