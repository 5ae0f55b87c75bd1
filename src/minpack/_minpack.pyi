"""Type stubs for the compiled extension ``minpack._minpack`` (see _minpack.pyf).

Hand-written from the signature file; tests/test_stubs.py checks that every
routine, argument name and result count here matches the built module.

Every callback is given as the address of a C function and its user data:
compiled functions as they are, Python functions as the C trampoline with
the id of a context built by minpack._contexts (no f2py callbacks).
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
    func: int,
    jac: int,
    udata: int,
    block: int,
    progress: int,
    pdata: int,
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
    bounded: int,
    lower: _F64,
    upper: _F64,
    active: _I32,
) -> _LmResult:
    """lmdif (jac 0) or lmder through the glue, holding the GIL: for callbacks
    that may run Python (the trampoline) and for a progress report.

    Callbacks are C function addresses with their user data; maxfev <= 0 is
    MINPACK's default; with have_f0 1, fvec holds f(x) on entry. bounded 1:
    the bounded fit in [lower, upper], the bounds reached written to active
    (-1 lower or fixed, 1 upper, 0 free); bounded 0: MINPACK's own fit
    (lower, upper, active not referenced).
    """

def lm_nogil(
    func: int,
    jac: int,
    udata: int,
    block: int,
    progress: int,
    pdata: int,
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
    bounded: int,
    lower: _F64,
    upper: _F64,
    active: _I32,
) -> _LmResult:
    """lm without the GIL: compiled callbacks only (bounded compiled fits)."""

def lm_compiled(
    func: int,
    jac: int,
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
    """lmdif (jac 0) or lmder with compiled callbacks; releases the GIL.

    Written in C (_fastpath.c), over the same glue entry as lm. fvec, diag,
    fjac, ipvt and qtf are None unless `full` is true (fvec, the residuals
    at x0, is also returned when info is 10: not finite there). NotImplemented when
    an argument would need a conversion; minpack.leastsq then checks and
    converts the arguments and calls it again.
    """

def lm_batch(
    func: int,
    jac: int,
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
    bounded: int,
    lower: _F64,
    upper: _F64,
    active: _I32,
) -> None:
    """k compiled fits; x, fvec, cov, fnorm, ier, nfev, njev written in place.

    bounded 0: none; 1: one box (lower, upper of n); 2: one per problem
    ((k, n) each); active (k, n) written when bounded.
    """

def lm_points(
    points: int,
    pdata: int,
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
    have_y: int,
    ydata: _F64,
    nw: int,
    w: _F64,
    omit: int,
    fvec: _F64,
    want_cov: int,
    cov: _F64,
    fnorm: _F64,
    ier: _I32,
    nfev: _I32,
    bounded: int,
    lower: _F64,
    upper: _F64,
    active: _I32,
) -> None:
    """k fits of a vectorised Python function by reverse communication, GIL
    released; points is the trampoline's, pdata the id of a PointsContext.
    x, fvec, cov, fnorm, ier, nfev (and active when bounded) written in place.
    """

def hybrid(
    func: int,
    jac: int,
    udata: int,
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
    """hybrd (jac 0) or hybrj through the glue, holding the GIL (Python functions)."""

def hybrid_nogil(
    func: int,
    jac: int,
    udata: int,
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
    """As hybrid, with the GIL released: compiled callbacks only."""

def default_maxfev(n: int, with_jac: int) -> int:
    """MINPACK's default maxfev for n variables (with_jac 1: analytic Jacobian)."""

def trampoline() -> tuple[dict[str, int], dict[str, tuple[str, ...]]]:
    """The trampoline's callback addresses by name, and the fields of each
    context tuple it reads, in order (see minpack._contexts)."""

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
