"""Type stubs for the compiled extension ``minpack._minpack`` (see _minpack.pyf).

Hand-written from the signature file; tests/test_stubs.py checks that every
routine, argument name and result count here matches the built module.

Python functions are reached through the C trampoline: the routines take the
ids of context tuples built by minpack._callbacks (no f2py callbacks).
"""

from types import NotImplementedType
from typing import Any

import numpy as np
import numpy.typing as npt

_F64 = npt.NDArray[np.float64]
_I32 = npt.NDArray[np.int32]

# (x, fvec, diag, fjac, ipvt, qtf, info, nfev, njev)
_LmResult = tuple[_F64, _F64, _F64, _F64, _I32, _F64, int, int, int]
# (x, fvec, diag, fjac, r, qtf, info, nfev, njev)
_HybridResult = tuple[_F64, _F64, _F64, _F64, _F64, _F64, int, int, int]

def lm(
    pyctx: int,
    pyjctx: int,
    progctx: int,
    use_block: int,
    have_f0: int,
    x: npt.ArrayLike,
    fvec: npt.ArrayLike,
    ftol: float,
    xtol: float,
    gtol: float,
    maxfev: int,
    epsfcn: float,
    diag: npt.ArrayLike,
    mode: int,
    factor: float,
) -> _LmResult:
    """lmdif (pyjctx 0) or lmder with Python functions, reached through the
    trampoline with the ids of their context tuples; fvec: f(x) on entry."""

def lm_compiled(
    faddr: int,
    jaddr: int,
    udefault: int | None,
    fargs: tuple,
    x0: Any,
    m: int,
    ftol: float,
    xtol: float,
    gtol: float,
    maxfev: int,
    epsfcn: float,
    factor: float,
    diag: _F64 | None,
    full: bool,
) -> _LmResult | NotImplementedType:
    """lmdif (jaddr 0) or lmder with compiled callbacks; releases the GIL.

    Written in C (_fastpath.c). fvec, diag, fjac, ipvt and qtf are None
    unless `full` is true (fvec, the residuals at x0, is also returned when
    info is 10: not finite there). NotImplemented when an argument is not of the
    plain kind it handles; minpack.leastsq then takes the general route.
    """

def lm_c_progress(
    progctx: int,
    faddr: int,
    jaddr: int,
    uaddr: int,
    x: npt.ArrayLike,
    fvec: npt.ArrayLike,
    ftol: float,
    xtol: float,
    gtol: float,
    maxfev: int,
    epsfcn: float,
    diag: npt.ArrayLike,
    mode: int,
    factor: float,
) -> _LmResult:
    """As lm_compiled, with a Python progress report every iteration (holds the GIL)."""

def lm_c_batch(
    faddr: int,
    jaddr: int,
    ubase: int,
    ustride: int,
    m: int,
    n: int,
    k: int,
    x: _F64,
    ftol: float,
    xtol: float,
    gtol: float,
    maxfev: int,
    epsfcn: float,
    diag: npt.ArrayLike,
    mode: int,
    factor: float,
    want_fvec: int,
    fvec: _F64,
    want_cov: int,
    cov: _F64,
    fnorm: _F64,
    ier: _I32,
    nfev: _I32,
    njev: _I32,
) -> None:
    """k compiled fits; x, fvec, cov, fnorm, ier, nfev, njev written in place."""

def hybrid(
    pyctx: int,
    pyjctx: int,
    have_f0: int,
    x: npt.ArrayLike,
    fvec: npt.ArrayLike,
    xtol: float,
    maxfev: int,
    ml: int,
    mu: int,
    epsfcn: float,
    diag: npt.ArrayLike,
    mode: int,
    factor: float,
) -> _HybridResult:
    """hybrd (pyjctx 0) or hybrj with Python functions, through the trampoline."""

def hybrid_c(
    faddr: int,
    jaddr: int,
    uaddr: int,
    x: npt.ArrayLike,
    fvec: npt.ArrayLike,
    xtol: float,
    maxfev: int,
    ml: int,
    mu: int,
    epsfcn: float,
    diag: npt.ArrayLike,
    mode: int,
    factor: float,
) -> _HybridResult:
    """hybrd (jaddr 0) or hybrj with compiled callbacks; releases the GIL."""

def chkder(
    x: npt.ArrayLike,
    fvec: npt.ArrayLike,
    fjac: npt.ArrayLike,
    xp: _F64,
    fvecp: npt.ArrayLike,
    mode: int,
    err: _F64,
) -> None:
    """chkder: mode 1 fills xp, mode 2 fills err (both in place)."""

def covar(r: npt.ArrayLike, ipvt: npt.ArrayLike) -> tuple[_F64, int]:
    """(J^T J)^-1 from lm's fjac and ipvt (1-based): (cov, info)."""
