"""Bounds in the engine, through the C API of the installed library.

``minpack_lmdif_bounded`` and ``minpack_lmder_bounded`` (``minpack.h``) are
called through ctypes on ``libminpack`` from :func:`minpack.get_library_dir`,
with Python residuals behind a ``CFUNCTYPE`` callback that records every point
of evaluation (difference steps and Jacobians included).

- The bounded suite: the MGH cases with a box that cuts the way to the
  unconstrained solution, the MGH problems started in a corner of a box, and
  the curve fits of the registry with physical bounds (positive parameters)
  and a cut. Each is solved by our bounded lmdif and by SciPy's
  ``least_squares(method='trf')`` (2-point differences) in the same test:
  our final cost must be at most trf's times (1 + 1e-8) on at least 90 % of
  them, the projected gradient small on at least 90 % of the converged fits,
  and no evaluation may fall outside the box, ever (lmdif and lmder); lmder
  against trf with the analytic Jacobian must meet the same cost bound. The
  function-call counts, trf's difference calls included, are printed side by
  side (the ``report`` table).
- Loose boxes (around every point the unbounded fit evaluates) on the whole
  registry, MGH, curve and NIST: x, fvec, fjac, ipvt, qtf, nfev, njev and info
  bit-identical to the unbounded ``minpack_lmdif`` / ``minpack_lmder``.
- NULL bounds are the unbounded fit; x0 outside the box, lower > upper and NaN
  bounds give info 0 before any evaluation; lower == upper fixes a parameter.
"""

from __future__ import annotations

import ctypes
import sys
from ctypes import POINTER, c_double, c_int, c_void_p
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import least_squares

import minpack
from support.bounded import Boxed, bounded_suite
from support.problems import DATA_MISSING_REASON, PROBLEMS, Problem, problem_ids, select

_FUNC = ctypes.CFUNCTYPE(c_int, c_int, c_int, POINTER(c_double), POINTER(c_double), c_void_p)
_JAC = ctypes.CFUNCTYPE(
    c_int, c_int, c_int, POINTER(c_double), POINTER(c_double), c_int, c_void_p
)
_DP = POINTER(c_double)
_IP = POINTER(c_int)

# leastsq's defaults, what the Python layer will pass
FTOL = XTOL = 1.49012e-08
COST_RTOL = 1e-8  # ours <= trf * (1 + COST_RTOL)
COSINE_TOL = 1e-4  # projected gradient small: see projected_optimality


def _library() -> ctypes.CDLL:
    name = {"darwin": "libminpack.dylib", "win32": "libminpack.dll"}.get(
        sys.platform, "libminpack.so"
    )
    lib = ctypes.CDLL(str(Path(minpack.get_library_dir()) / name))
    lib.minpack_lmdif.restype = c_int
    lib.minpack_lmder.restype = c_int
    lib.minpack_lmdif_bounded.restype = c_int
    lib.minpack_lmder_bounded.restype = c_int
    return lib


LIB = _library()


@dataclass
class Run:
    """What one C call returned, and every point the callbacks saw."""

    x: np.ndarray
    fvec: np.ndarray
    fjac: np.ndarray
    ipvt: np.ndarray
    qtf: np.ndarray
    active: np.ndarray
    info: int
    nfev: int
    njev: int
    points: list = field(default_factory=list)

    def outside(self, lb, ub) -> int:
        """Number of points of evaluation outside [lb, ub]."""
        return sum(bool(np.any(p < lb) or np.any(p > ub)) for p in self.points)

    def same(self, other: Run) -> bool:
        """Bit-identical in everything MINPACK returns."""
        return (
            self.info == other.info
            and self.nfev == other.nfev
            and self.njev == other.njev
            and np.array_equal(self.x, other.x)
            and np.array_equal(self.fvec, other.fvec)
            and np.array_equal(self.fjac, other.fjac)
            and np.array_equal(self.ipvt, other.ipvt)
            and np.array_equal(self.qtf, other.qtf)
            and len(self.points) == len(other.points)
        )


def _ptr(a: np.ndarray | None):
    if a is None:
        return None
    return a.ctypes.data_as(_DP if a.dtype == np.float64 else _IP)


def solve(
    prob: Problem,
    lb=None,
    ub=None,
    *,
    x0=None,
    jac: bool = False,
    api: str = "bounded",
) -> Run:
    """Solve ``prob`` with leastsq's defaults through the C API.

    ``api``: ``"bounded"`` (``minpack_lmdif_bounded`` / ``_lmder_bounded``,
    ``lb``/``ub`` None meaning NULL) or ``"plain"`` (``minpack_lmdif`` /
    ``minpack_lmder``).
    """
    n, m = prob.n, prob.m
    points: list[np.ndarray] = []
    errors: list[BaseException] = []

    def func(m_, n_, xp, fp, _):
        try:
            x = np.ctypeslib.as_array(xp, (n_,)).copy()
            points.append(x)
            np.ctypeslib.as_array(fp, (m_,))[:] = prob.func(x, *prob.args)
            return 0
        except BaseException as exc:  # never unwind through Fortran
            errors.append(exc)
            return 1

    def jacobian(m_, n_, xp, jp, ld, _):
        try:
            x = np.ctypeslib.as_array(xp, (n_,)).copy()
            points.append(x)
            np.ctypeslib.as_array(jp, (n_, ld))[:, :m_] = np.asarray(
                prob.jac(x, *prob.args)
            ).T
            return 0
        except BaseException as exc:
            errors.append(exc)
            return 1

    cfunc = _FUNC(func)
    cjac = _JAC(jacobian)
    x = np.array(prob.x0 if x0 is None else x0, dtype=float)
    fvec = np.zeros(m)
    diag = np.zeros(n)
    fjac = np.zeros((n, m))  # column-major m by n
    ipvt = np.zeros(n, dtype=np.int32)
    qtf = np.zeros(n)
    active = np.full(n, 99, dtype=np.int32)
    nfev, njev = c_int(0), c_int(0)
    lo = None if lb is None else np.ascontiguousarray(lb, dtype=float)
    hi = None if ub is None else np.ascontiguousarray(ub, dtype=float)
    if jac:
        maxfev = 100 * (n + 1)
        head = (cfunc, cjac, m, n, _ptr(x), _ptr(fvec), _ptr(fjac), m)
        if api == "bounded":
            info = LIB.minpack_lmder_bounded(
                *head, _ptr(lo), _ptr(hi), c_double(FTOL), c_double(XTOL),
                c_double(0.0), maxfev, _ptr(diag), 1, c_double(100.0),
                ctypes.byref(nfev), ctypes.byref(njev), _ptr(ipvt), _ptr(qtf),
                _ptr(active), None,
            )  # fmt: skip
        else:
            info = LIB.minpack_lmder(
                *head, c_double(FTOL), c_double(XTOL), c_double(0.0), maxfev,
                _ptr(diag), 1, c_double(100.0), ctypes.byref(nfev), ctypes.byref(njev),
                _ptr(ipvt), _ptr(qtf), None,
            )  # fmt: skip
    else:
        maxfev = 200 * (n + 1)
        tail = (
            c_double(FTOL), c_double(XTOL), c_double(0.0), maxfev, c_double(0.0),
            _ptr(diag), 1, c_double(100.0), ctypes.byref(nfev), _ptr(fjac), m,
            _ptr(ipvt), _ptr(qtf),
        )  # fmt: skip
        if api == "bounded":
            info = LIB.minpack_lmdif_bounded(
                cfunc, m, n, _ptr(x), _ptr(fvec), _ptr(lo), _ptr(hi), *tail,
                _ptr(active), None,
            )  # fmt: skip
        else:
            info = LIB.minpack_lmdif(cfunc, m, n, _ptr(x), _ptr(fvec), *tail, None)
    if errors:
        raise errors[0]
    return Run(x, fvec, fjac, ipvt, qtf, active, info, nfev.value, njev.value, points)


def cost(prob: Problem, x) -> float:
    f = np.asarray(prob.func(np.asarray(x, dtype=float), *prob.args))
    return 0.5 * float(f @ f)


def projected_gradient(prob: Problem, x, lb, ub) -> tuple[np.ndarray, float]:
    """The projected gradient of 0.5 ||f||^2 at x (zero where a bound holds
    the parameter: on its lower bound with g_j >= 0, on its upper with
    g_j <= 0), and its largest scaled component |g_j| / (||J e_j|| ||f||)
    (MINPACK's gtol cosine, over the free directions)."""
    f = np.asarray(prob.func(x, *prob.args))
    jm = np.asarray(prob.jac(x, *prob.args))
    g = jm.T @ f
    held = ((x == lb) & (g >= 0)) | ((x == ub) & (g <= 0))
    pg = np.where(held, 0.0, g)
    fn = np.linalg.norm(f)
    cn = np.linalg.norm(jm, axis=0)
    use = (pg != 0) & (cn > 0)
    cosine = float(np.max(np.abs(pg[use]) / (cn[use] * fn))) if use.any() and fn else 0.0
    return pg, cosine


def projected_optimality(prob: Problem, x, x0, lb, ub) -> float:
    """How far from a first-order point: the smaller of the scaled cosine and
    ||pg(x)||_inf / ||pg(x0)||_inf (the projected gradient relative to the
    start's). The cosine alone misjudges degenerate fits whose Jacobian
    columns vanish (Bard from 10 x0: columns of 1e-16), the ratio alone
    fits whose start is near-stationary; a fit far from a first-order point
    is large in both."""
    pg, cosine = projected_gradient(prob, x, lb, ub)
    pg0, _ = projected_gradient(prob, np.asarray(x0, dtype=float), lb, ub)
    g0 = np.max(np.abs(pg0))
    rel = float(np.max(np.abs(pg)) / g0) if g0 > 0 else float(np.max(np.abs(pg)) > 0)
    return min(cosine, rel)


# ---------------------------------------------------------------------------
# The bounded suite
# ---------------------------------------------------------------------------


SUITE = bounded_suite(lambda prob: solve(prob, jac=True, api="plain").x)


@dataclass
class Outcome:
    name: str
    n: int
    m: int
    info: int
    nfev: int
    trf_calls: int
    trf_status: int
    cost: float
    trf_cost: float
    cosine: float
    outside: int
    outside_der: int
    trf_outside: int
    der_cost: float
    trf_jac_cost: float

    @property
    def cost_ok(self) -> bool:
        # "at most trf's": relative, or both at zero residual to 1e-30 of
        # the scale of the data (zero-residual problems end anywhere in the
        # rounding noise)
        return self.cost <= self.trf_cost * (1 + COST_RTOL) or self.cost <= 1e-30

    @property
    def der_cost_ok(self) -> bool:
        # the same for lmder against trf with the analytic Jacobian
        return self.der_cost <= self.trf_jac_cost * (1 + COST_RTOL) or self.der_cost <= 1e-30

    @property
    def converged(self) -> bool:
        return 1 <= self.info <= 4


def _run_boxed(case: Boxed) -> Outcome:
    prob, lb, ub = case.prob, case.lb, case.ub
    ours = solve(prob, lb, ub, x0=case.x0)
    der = solve(prob, lb, ub, x0=case.x0, jac=True)
    calls = []

    def fun(x):
        calls.append(np.array(x, dtype=float))
        return prob.func(x, *prob.args)

    trf = least_squares(fun, case.x0, bounds=(lb, ub), method="trf")
    trf_jac = least_squares(
        lambda x: prob.func(x, *prob.args), case.x0, jac=lambda x: prob.jac(x, *prob.args),
        bounds=(lb, ub), method="trf",
    )  # fmt: skip
    trf_outside = sum(bool(np.any(p < lb) or np.any(p > ub)) for p in calls)
    return Outcome(
        name=case.name,
        n=prob.n,
        m=prob.m,
        info=ours.info,
        nfev=ours.nfev,
        trf_calls=len(calls),
        trf_status=trf.status,
        cost=cost(prob, ours.x),
        trf_cost=cost(prob, trf.x),
        cosine=projected_optimality(prob, ours.x, case.x0, lb, ub),
        outside=ours.outside(lb, ub) + int(np.any(ours.x < lb) or np.any(ours.x > ub)),
        outside_der=der.outside(lb, ub),
        trf_outside=trf_outside,
        der_cost=cost(prob, der.x),
        trf_jac_cost=cost(prob, trf_jac.x),
    )


@pytest.fixture(scope="module")
def outcomes() -> list[Outcome]:
    return [_run_boxed(case) for case in SUITE]


@pytest.mark.skipif(bool(DATA_MISSING_REASON), reason=DATA_MISSING_REASON or "-")
def test_bounded_suite(outcomes, report):
    title = "bounds in the engine: bounded lmdif (C API) against least_squares(method='trf')"
    report(title, f"{len(outcomes)} problems; cost ratio = ours / trf (final 0.5 ||f||^2); "
                  "nfev, trf: every call of the residuals, difference steps included; "
                  "pg: projected gradient (see projected_optimality); out: evaluations "
                  "outside the box")  # fmt: skip
    report(title, f"{'problem':<46} {'n':>3} {'m':>3} {'info':>4} {'nfev':>5} "
                  f"{'trf':>5} {'calls':>6} {'cost ratio':>11} {'pg':>9} {'out':>4}")  # fmt: skip
    for o in outcomes:
        ratio = o.cost / o.trf_cost if o.trf_cost > 0 else float("nan")
        report(title, f"{o.name:<46} {o.n:>3} {o.m:>3} {o.info:>4} {o.nfev:>5} "
                      f"{o.trf_calls:>5} {o.nfev / o.trf_calls:>6.2f} {ratio:>11.3e} "
                      f"{o.cosine:>9.1e} {o.outside:>4}")  # fmt: skip
    solved = [o for o in outcomes if o.cost_ok]
    conv = [o for o in outcomes if o.converged]
    small = [o for o in conv if o.cosine <= COSINE_TOL]
    ratios = np.array([o.cost / o.trf_cost for o in outcomes if o.trf_cost > 1e-30])
    calls = np.array([o.nfev / o.trf_calls for o in outcomes])
    report(title, f"solved (cost <= trf x (1 + 1e-8)): {len(solved)}/{len(outcomes)}; "
                  f"converged (info 1-4): {len(conv)}; projected gradient (pg) <= "
                  f"{COSINE_TOL:g}: {len(small)}/{len(conv)}")  # fmt: skip
    report(title, f"cost ratio ours/trf: median {np.median(ratios):.6g}, "
                  f"min {ratios.min():.3g}, max {ratios.max():.3g}; below 1 - 1e-8 "
                  f"(ours lower): {int(np.sum(ratios < 1 - 1e-8))}")  # fmt: skip
    report(title, f"calls ratio ours/trf: median {np.median(calls):.3f}, geometric mean "
                  f"{np.exp(np.mean(np.log(calls))):.3f}; total {sum(o.nfev for o in outcomes)}"
                  f" vs {sum(o.trf_calls for o in outcomes)}")  # fmt: skip
    report(title, f"with analytic Jacobians, lmder against trf: solved "
                  f"{sum(o.der_cost_ok for o in outcomes)}/{len(outcomes)}")  # fmt: skip
    report(title, f"evaluations outside the box: ours {sum(o.outside for o in outcomes)} "
                  f"(lmdif), {sum(o.outside_der for o in outcomes)} (lmder); trf "
                  f"{sum(o.trf_outside for o in outcomes)}")  # fmt: skip
    assert len(outcomes) >= 30
    assert all(o.outside == 0 and o.outside_der == 0 for o in outcomes), [
        o.name for o in outcomes if o.outside or o.outside_der
    ]
    assert len(solved) >= 0.9 * len(outcomes), [o.name for o in outcomes if not o.cost_ok]
    assert len(small) >= 0.9 * len(conv), [o.name for o in conv if o.cosine > COSINE_TOL]
    assert sum(o.der_cost_ok for o in outcomes) >= 0.9 * len(outcomes), [
        o.name for o in outcomes if not o.der_cost_ok
    ]


# ---------------------------------------------------------------------------
# Loose boxes: bit-identical to the unbounded fit, on the whole registry
# ---------------------------------------------------------------------------


def _loose(points, n):
    lo = np.min(points, axis=0) if points else np.zeros(n)
    hi = np.max(points, axis=0) if points else np.zeros(n)
    lb = lo - (1 + np.abs(lo))
    ub = hi + (1 + np.abs(hi))
    lb[::3] = -np.inf  # every third component unbounded below
    return lb, ub


@pytest.mark.parametrize("prob", PROBLEMS, ids=problem_ids(PROBLEMS))
def test_loose_box_is_unbounded(prob):
    for jac in (False, True) if prob.jac is not None else (False,):
        plain = solve(prob, jac=jac, api="plain")
        # a box can hold the unbounded fit only if every point it tried is
        # finite: true of every registry problem (see test_bounds.py)
        assert all(np.all(np.isfinite(p)) for p in plain.points), (
            "the unbounded fit evaluates at non-finite points: no box holds them")
        lb, ub = _loose(plain.points, prob.n)
        boxed = solve(prob, lb, ub, jac=jac)
        assert boxed.same(plain), (jac, plain.info, boxed.info, plain.nfev, boxed.nfev)
        assert np.all(boxed.active == 0)
        assert boxed.outside(lb, ub) == 0
        # NULL bounds: the unbounded fit through the bounded entry point
        null = solve(prob, None, None, jac=jac)
        assert null.same(plain)
        assert np.all(null.active == 0)


# ---------------------------------------------------------------------------
# Improper boxes, fixed parameters
# ---------------------------------------------------------------------------


def _curve(name):
    return next(p for p in select("curve") if p.name == name)


@pytest.mark.parametrize("jac", [False, True])
@pytest.mark.parametrize(
    "which",
    ["x0 above upper", "x0 below lower", "lower > upper", "nan lower", "nan upper"],
)
def test_improper_box_refused(which, jac):
    prob = _curve("curve_exp_decay")
    x0 = prob.start()
    lb, ub = np.full(prob.n, -np.inf), np.full(prob.n, np.inf)
    if which == "x0 above upper":
        ub[1] = np.nextafter(x0[1], -np.inf)
    elif which == "x0 below lower":
        lb[0] = np.nextafter(x0[0], np.inf)
    elif which == "lower > upper":
        lb[2], ub[2] = 1.0, -1.0
    elif which == "nan lower":
        lb[1] = np.nan
    else:
        ub[0] = np.nan
    run = solve(prob, lb, ub, jac=jac)
    assert run.info == 0
    assert run.nfev == 0 and run.points == []
    assert np.array_equal(run.x, x0)


@pytest.mark.parametrize("jac", [False, True])
def test_fixed_parameter(jac):
    # exp_decay: a exp(-k t) + c with k fixed at 0.7 by lower == upper
    prob = _curve("curve_exp_decay")
    x0 = np.array([3.0, 0.7, 0.0])
    lb = np.array([-np.inf, 0.7, -np.inf])
    ub = np.array([np.inf, 0.7, np.inf])
    run = solve(prob, lb, ub, x0=x0, jac=jac)
    assert 1 <= run.info <= 4
    assert all(p[1] == 0.7 for p in run.points)
    assert run.x[1] == 0.7
    assert list(run.active) == [0, -1, 0]
    if not jac:  # no difference step for the fixed parameter
        assert run.nfev == len(run.points)
    # the same fit as the two-parameter problem
    t, y = prob.args
    a, c = np.linalg.lstsq(np.c_[np.exp(-0.7 * t), np.ones_like(t)], y, rcond=None)[0]
    np.testing.assert_allclose(run.x[[0, 2]], [a, c], rtol=1e-7, atol=1e-9)


def test_ids_unique():
    assert len({c.name for c in SUITE}) == len(SUITE)
