"""Bounds through the Python API: leastsq, curve_fit, least_squares, leastsq_batch.

The engine's bounded iteration is tested through the C API in
``test_bounds_engine.py``; here the Python layers on top of it:

- loose boxes (never reached) leave every result bit-identical to the
  unbounded fit on the whole registry: leastsq (lmdif and lmder, with a
  plain, a vectorized func and a callback), curve_fit, and compiled
  functions (numba cfunc);
- the bounded suite (``support/bounded.py``) through ``leastsq(bounds=)``
  and ``least_squares(method='lm', bounds=)`` against
  ``least_squares(method='trf')``: the cost, the calls side by side (every
  call of the residuals, difference steps included), and every point the
  residuals see inside the box;
- x0 outside the box, lower == upper, active_mask, the covariance of a fit
  with held parameters (NaN rows, an OptimizeWarning naming them, the free
  parameters' covariance and curve_fit's degrees of freedom), batches with
  one bad box, compiled residuals, and malformed bounds.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.optimize
from support.bounded import bounded_suite
from support.compiled_models import BARD, EXP
from support.problems import (
    DATA_MISSING_REASON,
    PROBLEMS,
    Problem,
    curve_fits,
    problem_ids,
    select,
)

import minpack

COST_RTOL = 1e-8  # ours <= trf * (1 + COST_RTOL), as the engine's suite


class Recorder:
    """A residual function that records every point it is called at."""

    def __init__(self, func, args=()):
        self.func, self.args, self.points = func, args, []

    def __call__(self, x, *args):
        self.points.append(np.array(x, dtype=float))
        return self.func(x, *(args or self.args))

    def outside(self, lb, ub) -> int:
        return sum(bool(np.any(p < lb) or np.any(p > ub)) for p in self.points)


def _loose(points, n):
    """A box around every point the unbounded fit saw (as the engine's test),
    every third component unbounded below.
    """
    lo, hi = np.min(points, axis=0), np.max(points, axis=0)
    lb, ub = lo - (1 + np.abs(lo)), hi + (1 + np.abs(hi))
    lb[::3] = -np.inf
    return lb, ub


def _same_full(a, b):
    """Two leastsq full outputs bit-identical (cov_x included: the same
    Fortran covariance of the same R), the bounded one with active_mask 0.
    """
    x, cov, info, mesg, ier = a
    rx, rcov, rinfo, rmesg, rier = b
    assert (ier, mesg) == (rier, rmesg)
    assert np.array_equal(x, rx)
    assert (cov is None) == (rcov is None)
    if cov is not None:
        assert np.array_equal(cov, rcov)
    assert np.array_equal(info.pop("active_mask"), np.zeros(x.size, dtype=int))
    assert info.keys() == rinfo.keys()
    for k in info:
        assert np.array_equal(info[k], rinfo[k]), k


# ---------------------------------------------------------------------------
# Loose boxes: bit-identical to the unbounded fit
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("prob", PROBLEMS, ids=problem_ids(PROBLEMS))
def test_loose_box_leastsq_is_unbounded(prob: Problem):
    for dfun in (None, prob.jac) if prob.jac is not None else (None,):
        rec = Recorder(prob.func)
        with np.errstate(all="ignore"):
            plain = minpack.leastsq(rec, prob.start(), args=prob.args, Dfun=dfun,
                                    full_output=True)
        # a box can hold the unbounded fit only if every point it tried is
        # finite: true of every registry problem (a new one that is not must
        # be left out of PROBLEMS here, by name)
        assert all(np.isfinite(p).all() for p in rec.points), (
            "the unbounded fit evaluates at non-finite points: no box holds them")
        lb, ub = _loose(rec.points, prob.n)
        boxed_rec = Recorder(prob.func)
        with np.errstate(all="ignore"):
            boxed = minpack.leastsq(boxed_rec, prob.start(), args=prob.args, Dfun=dfun,
                                    full_output=True, bounds=(lb, ub))
        _same_full(boxed, plain)
        assert boxed_rec.outside(lb, ub) == 0
        assert len(boxed_rec.points) == len(rec.points)


@pytest.mark.parametrize("prob", select("curve"), ids=problem_ids(select("curve")))
def test_loose_box_vectorized_and_callback(prob: Problem):
    """The vectorized route (block callback) and the progress report take
    the bounds too, and leave a loose-box fit unbounded.
    """
    def vfunc(X):
        return np.stack([prob.func(X[:, k], *prob.args) for k in range(X.shape[1])],
                        axis=1)

    rec = Recorder(prob.func, prob.args)
    plain = minpack.leastsq(rec, prob.start(), full_output=True)
    lb, ub = _loose(rec.points, prob.n)
    seen = []
    for kw in ({"vectorized": True}, {"callback": seen.append}):
        func = vfunc if kw.get("vectorized") else prob.func
        args = () if kw.get("vectorized") else prob.args
        boxed = minpack.leastsq(func, prob.start(), args=args, full_output=True,
                                bounds=(lb, ub), **kw)
        _same_full(boxed, plain)
    assert seen  # the callback ran


@pytest.mark.parametrize("fit", curve_fits()[:11], ids=lambda c: c.name)
def test_loose_box_curve_fit_is_unbounded(fit):
    rec = Recorder(lambda p: fit.model(fit.t, *p))
    plain = minpack.curve_fit(lambda t, *p: rec(np.array(p)), fit.t, fit.y, p0=fit.p0,
                              full_output=True)
    lb, ub = _loose(rec.points, fit.p0.size)
    boxed = minpack.curve_fit(fit.model, fit.t, fit.y, p0=fit.p0, full_output=True,
                              bounds=(lb, ub))
    popt, pcov, info, mesg, ier = boxed
    assert np.array_equal(popt, plain[0])
    assert np.array_equal(pcov, plain[1])
    assert (mesg, ier) == plain[3:]
    assert np.array_equal(info.pop("active_mask"), np.zeros(popt.size, dtype=int))
    assert all(np.array_equal(info[k], plain[2][k]) for k in plain[2])


@pytest.mark.parametrize("jac", [False, True], ids=["lmdif", "lmder"])
@pytest.mark.parametrize("model", [EXP, BARD], ids=lambda m: m.name)
def test_loose_box_compiled_is_unbounded(model, jac):
    """A compiled func with bounds takes the checked route (the lean entry
    has none); with a loose box, the lean entry's numbers bit for bit.
    """
    kw = dict(m=model.m, full_output=True, Dfun=model.cjac if jac else None)
    plain = minpack.leastsq(model.cfunc, np.array(model.x0), args=(model.data,), **kw)
    far = 1e6 * (1 + np.abs(plain[0]))
    boxed = minpack.leastsq(model.cfunc, np.array(model.x0), args=(model.data,),
                            bounds=(plain[0] - far, plain[0] + far), **kw)
    _same_full(boxed, plain)


# ---------------------------------------------------------------------------
# The bounded suite through the Python API
# ---------------------------------------------------------------------------


def _unbounded_x(prob: Problem) -> np.ndarray:
    """x of the unbounded lmder fit (ier 5-8 too: the boxes only need x)."""
    with np.errstate(all="ignore"):
        return minpack.leastsq(prob.func, prob.start(), args=prob.args, Dfun=prob.jac,
                               full_output=True)[0]


SUITE = bounded_suite(_unbounded_x) if not DATA_MISSING_REASON else []


def _cost(prob, x):
    f = np.asarray(prob.func(np.asarray(x, dtype=float), *prob.args))
    return 0.5 * float(f @ f)


def _on_bounds(x, lb, ub):
    """-1 on the lower bound (or fixed), 1 on the upper, 0 elsewhere."""
    return np.where(x <= lb, -1, np.where((x >= ub) & (lb < ub), 1, 0))


def _run_suite_case(case):
    prob, lb, ub = case.prob, case.lb, case.ub
    ours = Recorder(prob.func, prob.args)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # held parameters
        x, _, info, _, ier = minpack.leastsq(ours, case.x0, full_output=True,
                                             bounds=(lb, ub))
    lm = Recorder(prob.func, prob.args)
    with np.errstate(all="ignore"):
        res = minpack.least_squares(lm, case.x0, bounds=(lb, ub), method="lm")
    trf = Recorder(prob.func, prob.args)
    with np.errstate(all="ignore"):
        ref = scipy.optimize.least_squares(trf, case.x0, bounds=(lb, ub), method="trf")
    return dict(
        name=case.name, n=prob.n, m=prob.m, ier=ier, nfev=info["nfev"],
        calls=len(ours.points), trf_calls=len(trf.points), lm_calls=len(lm.points),
        cost=_cost(prob, x), lm_cost=_cost(prob, res.x), trf_cost=_cost(prob, ref.x),
        outside=ours.outside(lb, ub) + lm.outside(lb, ub),
        mask_ok=np.array_equal(info["active_mask"], _on_bounds(x, lb, ub))
        and np.array_equal(res.active_mask, _on_bounds(res.x, lb, ub)),
        trf_mask=np.array_equal(ref.active_mask, info["active_mask"]),
    )


@pytest.fixture(scope="module")
def suite_outcomes():
    return [_run_suite_case(case) for case in SUITE]


def _solved(cost, trf_cost):
    return cost <= trf_cost * (1 + COST_RTOL) or cost <= 1e-30


@pytest.mark.skipif(bool(DATA_MISSING_REASON), reason=DATA_MISSING_REASON or "-")
def test_bounded_suite_through_python(suite_outcomes, report):
    title = ("bounds through Python: leastsq(bounds=) and least_squares(method='lm', "
             "bounds=) against least_squares(method='trf')")
    report(title, f"{len(suite_outcomes)} problems; cost ratio = ours / trf (final "
                  "0.5 ||f||^2); calls: every call of the residuals, difference steps "
                  "included; out: evaluations outside the box")  # fmt: skip
    report(title, f"{'problem':<46} {'n':>3} {'m':>3} {'ier':>3} {'calls':>5} "
                  f"{'trf':>5} {'ratio':>6} {'cost ratio':>11} {'lm calls':>8} "
                  f"{'lm cost ratio':>13} {'out':>4}")  # fmt: skip
    for o in suite_outcomes:
        ratio = o["cost"] / o["trf_cost"] if o["trf_cost"] > 0 else float("nan")
        lm_ratio = o["lm_cost"] / o["trf_cost"] if o["trf_cost"] > 0 else float("nan")
        report(title, f"{o['name']:<46} {o['n']:>3} {o['m']:>3} {o['ier']:>3} "
                      f"{o['calls']:>5} {o['trf_calls']:>5} "
                      f"{o['calls'] / o['trf_calls']:>6.2f} {ratio:>11.3e} "
                      f"{o['lm_calls']:>8} {lm_ratio:>13.3e} {o['outside']:>4}")  # fmt: skip
    solved = [o for o in suite_outcomes if _solved(o["cost"], o["trf_cost"])]
    lm_solved = [o for o in suite_outcomes if _solved(o["lm_cost"], o["trf_cost"])]
    ratios = np.array([o["cost"] / o["trf_cost"] for o in suite_outcomes
                       if o["trf_cost"] > 1e-30])
    calls = np.array([o["calls"] / o["trf_calls"] for o in suite_outcomes])
    report(title, f"leastsq: solved (cost <= trf x (1 + 1e-8)) {len(solved)}/"
                  f"{len(suite_outcomes)}; cost ratio median {np.median(ratios):.6g}, "
                  f"min {ratios.min():.3g}, max {ratios.max():.3g}; calls ratio median "
                  f"{np.median(calls):.3f}, geometric mean "
                  f"{np.exp(np.mean(np.log(calls))):.3f}, total "
                  f"{sum(o['calls'] for o in suite_outcomes)} vs "
                  f"{sum(o['trf_calls'] for o in suite_outcomes)}")  # fmt: skip
    report(title, f"least_squares(method='lm'): solved {len(lm_solved)}/"
                  f"{len(suite_outcomes)}, calls "
                  f"{sum(o['lm_calls'] for o in suite_outcomes)}")  # fmt: skip
    report(title, f"{'boxes':<8} {'problems':>8} {'leastsq solved':>14} "
                  f"{'lm solved':>9} {'calls ours':>10} {'trf':>6} {'median ratio':>12} "
                  f"{'outside':>7}")  # fmt: skip
    for kind in ("cut", "corner", "phys"):
        group = [o for o in suite_outcomes if o["name"].endswith("-" + kind)]
        report(title, f"{kind:<8} {len(group):>8} "
                      f"{sum(o in solved for o in group):>14} "
                      f"{sum(o in lm_solved for o in group):>9} "
                      f"{sum(o['calls'] for o in group):>10} "
                      f"{sum(o['trf_calls'] for o in group):>6} "
                      f"{np.median([o['calls'] / o['trf_calls'] for o in group]):>12.2f} "
                      f"{sum(o['outside'] for o in group):>7}")  # fmt: skip
    report(title, f"evaluations outside the box: "
                  f"{sum(o['outside'] for o in suite_outcomes)}; active_mask equal "
                  f"to trf's: {sum(o['trf_mask'] for o in suite_outcomes)}/"
                  f"{len(suite_outcomes)}")  # fmt: skip
    assert len(suite_outcomes) >= 30
    assert all(o["calls"] == o["nfev"] for o in suite_outcomes)
    assert all(o["outside"] == 0 for o in suite_outcomes), [
        o["name"] for o in suite_outcomes if o["outside"]]
    assert all(o["mask_ok"] for o in suite_outcomes), [
        o["name"] for o in suite_outcomes if not o["mask_ok"]]
    assert len(solved) >= 0.9 * len(suite_outcomes), [
        o["name"] for o in suite_outcomes if o not in solved]
    assert len(lm_solved) >= 0.9 * len(suite_outcomes), [
        o["name"] for o in suite_outcomes if o not in lm_solved]


# ---------------------------------------------------------------------------
# x0 outside, lower == upper, active_mask, covariance
# ---------------------------------------------------------------------------


def _exp_problem():
    t = np.linspace(0, 4, 40)
    rng = np.random.default_rng(1)
    y = 3 * np.exp(-1.3 * t) + 0.5 + 0.02 * rng.standard_normal(t.size)

    def model(t, a, k, c):
        return a * np.exp(-k * t) + c

    def jac(t, a, k, c):
        e = np.exp(-k * t)
        return np.column_stack([e, -a * t * e, np.ones_like(t)])

    return t, y, model, jac


T, Y, MODEL, MODEL_JAC = _exp_problem()


def _residual(p):
    return MODEL(T, *p) - Y


def _jacobian(p):
    return MODEL_JAC(T, *p)


def _never(p):
    raise AssertionError("the residuals must not be evaluated")


@pytest.mark.parametrize("x0, lb, ub", [
    ([3.0, 1.0, 0.0], [0, 0, 0], [2.5, 10, 10]),
    ([1.0, -1.0, 0.0], 0, np.inf),
    ([1.0, 1.0, 5.0], -np.inf, [np.inf, np.inf, 4.0]),
], ids=["above", "below-scalar", "above-one-sided"])
def test_x0_outside_is_a_value_error(x0, lb, ub):
    with pytest.raises(ValueError, match=r"x0 is outside the bounds: x0\[\d\] = "):
        minpack.leastsq(_never, x0, bounds=(lb, ub))
    with pytest.raises(ValueError, match=r"^Initial guess is outside of provided "
                       r"bounds: p0\[\d\] = "):
        minpack.curve_fit(lambda t, a, k, c: _never(None), T, Y, p0=x0, bounds=(lb, ub))
    with pytest.raises(ValueError, match="^Initial guess is outside of provided bounds"):
        minpack.least_squares(_never, x0, bounds=(lb, ub), method="lm")


@pytest.mark.parametrize("dfun", [None, _jacobian], ids=["lmdif", "lmder"])
def test_fixed_parameter(dfun):
    """lower == upper fixes a parameter: never moved, never differenced,
    NaN variance; the others are the two-parameter fit.
    """
    rec = Recorder(_residual)
    with pytest.warns(UserWarning, match=r"held on a bound .*: x\[1\]\. .*cov_x"):
        x, cov, info, _, ier = minpack.leastsq(
            rec, [1.0, 1.3, 0.0], Dfun=dfun, full_output=True,
            bounds=([-np.inf, 1.3, -np.inf], [np.inf, 1.3, np.inf]))
    assert ier in (1, 2, 3, 4)
    assert all(p[1] == 1.3 for p in rec.points)
    assert x[1] == 1.3 and list(info["active_mask"]) == [0, -1, 0]
    assert np.isnan(cov[1]).all() and np.isnan(cov[:, 1]).all()
    # the linear two-parameter fit at k = 1.3
    A = np.column_stack([np.exp(-1.3 * T), np.ones_like(T)])
    coef, *_ = np.linalg.lstsq(A, Y, rcond=None)
    np.testing.assert_allclose(x[[0, 2]], coef, rtol=1e-7)
    # its covariance: inv(A^T A) (the Jacobian of the free parameters), to the
    # rounding of two different factorizations (lmdif: of a difference
    # Jacobian, good to about sqrt(eps))
    np.testing.assert_allclose(cov[np.ix_([0, 2], [0, 2])], np.linalg.inv(A.T @ A),
                               rtol=1e-5 if dfun is None else 1e-9)


def test_active_mask_and_held_covariance():
    """A bound that stops the fit: active_mask, x exactly on it, NaN rows and
    columns in cov_x named by the warning, the free block inv(J_f^T J_f).
    """
    with pytest.warns(UserWarning, match=r"held on a bound .*: x\[0\]\. ") as caught:
        x, cov, info, _, ier = minpack.leastsq(
            _residual, [1.0, 1.0, 0.0], Dfun=_jacobian, full_output=True,
            bounds=([0, 0, 0], [2.5, 10, 10]))
    assert len(caught) == 1
    assert ier in (1, 2, 3, 4)
    assert x[0] == 2.5 and list(info["active_mask"]) == [1, 0, 0]
    assert np.isnan(cov[0]).all() and np.isnan(cov[:, 0]).all()
    assert np.isfinite(cov[1:, 1:]).all()
    J = _jacobian(x)[:, 1:]
    np.testing.assert_allclose(cov[1:, 1:], np.linalg.inv(J.T @ J), rtol=1e-8)
    # no bound reached: no NaN, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x2, cov2, info2, _, _ = minpack.leastsq(
            _residual, [1.0, 1.0, 0.0], Dfun=_jacobian, full_output=True,
            bounds=([0, 0, 0], [5, 10, 10]))
    assert np.isfinite(cov2).all() and list(info2["active_mask"]) == [0, 0, 0]


def test_curve_fit_pcov_with_a_held_parameter(report):
    """curve_fit: pcov over the free parameters, NaN for the held one (named
    in the warning by the model's parameter name), scaled with M - n_free
    degrees of freedom; printed side by side with SciPy's trf.
    """
    lb, ub = [0, 0, 0], [2.5, 10, 10]
    with pytest.warns(scipy.optimize.OptimizeWarning, match=r"held on a bound .*: a\. "):
        popt, pcov = minpack.curve_fit(MODEL, T, Y, bounds=(lb, ub), jac=MODEL_JAC)
    ref, rcov = scipy.optimize.curve_fit(MODEL, T, Y, bounds=(lb, ub), jac=MODEL_JAC)
    assert popt[0] == 2.5 and np.isnan(pcov[0]).all() and np.isnan(pcov[:, 0]).all()
    r = MODEL(T, *popt) - Y
    J = MODEL_JAC(T, *popt)[:, 1:]
    s_sq = (r @ r) / (T.size - 2)  # M - n_free
    np.testing.assert_allclose(pcov[1:, 1:], np.linalg.inv(J.T @ J) * s_sq, rtol=1e-7)
    # the same minimum as trf's, ours at least as low (trf stops within its
    # own tolerances, ~1e-5 away)
    assert (r @ r) <= np.sum(np.square(MODEL(T, *ref) - Y)) * (1 + 1e-8)
    np.testing.assert_allclose(popt, ref, rtol=1e-4)
    title = "curve_fit with a parameter held on a bound: ours against SciPy's trf"
    report(title, f"a exp(-k t) + c, M = {T.size}, bounds a <= 2.5 (the fit wants "
                  "about 3): a is held")  # fmt: skip
    report(title, f"{'':<6} {'popt':>24} {'sd (ours)':>12} {'sd (trf)':>12}")
    for i, name in enumerate("akc"):
        report(title, f"{name:<6} {popt[i]:>11.6f} {ref[i]:>11.6f} "
                      f"{np.sqrt(pcov[i, i]):>12.4g} {np.sqrt(rcov[i, i]):>12.4g}")  # fmt: skip


def test_curve_fit_uses_our_bounded_fit_and_feasible_start():
    """Bounds without p0: SciPy's feasible start (middle of a finite box, one
    inside a one-sided bound, 1 elsewhere), our fit (not trf's).
    """
    rec = Recorder(lambda p: MODEL(T, *p))
    popt, pcov, info, _, _ = minpack.curve_fit(
        lambda t, a, k, c: rec(np.array([a, k, c])), T, Y,
        bounds=([0, 0.5, -np.inf], [4, np.inf, np.inf]), full_output=True)
    assert np.array_equal(rec.points[0], [2.0, 1.5, 1.0])
    assert len(rec.points) == info["nfev"]  # leastsq's count: ours ran
    assert list(info["active_mask"]) == [0, 0, 0]


# ---------------------------------------------------------------------------
# Batches
# ---------------------------------------------------------------------------


def _batch_boxes(K, n):
    lb = np.tile([0.0, 0.0, -np.inf], (K, 1))
    ub = np.tile([2.9, 10.0, np.inf], (K, 1))
    lb[1, 2], ub[1, 2] = 1.0, -1.0  # lower > upper
    lb[2, 0] = 2.0  # x0 (1.0) below it
    ub[3, 1] = np.nan
    return lb, ub


@pytest.mark.parametrize("kind", ["compiled", "python"])
def test_batch_one_bad_box(kind):
    """Per-problem boxes: a bad box (lower > upper, x0 outside, NaN) sets
    only that problem's ier to 0, before any evaluation; every other row is
    leastsq's bounded fit of that problem alone.
    """
    K = 6
    data = np.array([EXP.data * (1 + 0.01 * k) for k in range(K)])
    x0 = np.tile(EXP.x0, (K, 1))
    lb, ub = _batch_boxes(K, 3)
    if kind == "compiled":
        func, kw = EXP.cfunc, dict(m=EXP.m, workers=2)
    else:
        func, kw = EXP.func, {}
    res = minpack.leastsq_batch(func, x0, args=data, bounds=(lb, ub), full_output=True,
                                **kw)
    assert list(res.ier[1:4]) == [0, 0, 0]
    assert np.array_equal(res.x[1:4], x0[1:4]) and np.isnan(res.fnorm[1:4]).all()
    for k in (0, 4, 5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # held: NaN rows below
            x, cov, info, _, ier = minpack.leastsq(
                func, x0[k], args=(data[k],), full_output=True,
                bounds=(lb[k], ub[k]), **({"m": EXP.m} if kind == "compiled" else {}))
        assert res.ier[k] == ier and res.nfev[k] == info["nfev"]
        assert np.array_equal(res.x[k], x)
        assert np.array_equal(res.active_mask[k], info["active_mask"])
        assert res.active_mask[k][0] == 1  # a = 2.9 < the fit's 3
        np.testing.assert_array_equal(np.isnan(res.cov_x[k]), np.isnan(cov))
        np.testing.assert_allclose(res.cov_x[k], cov, rtol=1e-13)  # same covar


def test_batch_shared_box():
    """One (n,) box for every problem: the same as the (K, n) box repeated."""
    K = 4
    data = np.array([EXP.data * (1 + 0.01 * k) for k in range(K)])
    x0 = np.tile(EXP.x0, (K, 1))
    lb, ub = np.array([0.0, 0.0, -np.inf]), np.array([2.9, 10.0, np.inf])
    shared = minpack.leastsq_batch(EXP.cfunc, x0, args=data, m=EXP.m, bounds=(lb, ub))
    rows = minpack.leastsq_batch(EXP.cfunc, x0, args=data, m=EXP.m,
                                 bounds=(np.tile(lb, (K, 1)), np.tile(ub, (K, 1))))
    assert np.array_equal(shared.x, rows.x) and np.array_equal(shared.ier, rows.ier)
    assert np.array_equal(shared.active_mask, rows.active_mask)
    assert (shared.active_mask[:, 0] == 1).all()
    unbounded = minpack.leastsq_batch(EXP.cfunc, x0, args=data, m=EXP.m)
    assert unbounded.active_mask is None


# ---------------------------------------------------------------------------
# Compiled residuals
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("jac", [False, True], ids=["lmdif", "lmder"])
def test_compiled_bounded_fit(jac):
    """A numba cfunc in a box: the same fit as the Python function running
    the same kernel, through the GIL-free entry.
    """
    lb, ub = [0.0, 0.0, -np.inf], [2.9, 10.0, np.inf]
    kw = dict(full_output=True, bounds=(lb, ub))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ours = minpack.leastsq(EXP.cfunc, np.array(EXP.x0), args=(EXP.data,), m=EXP.m,
                               Dfun=EXP.cjac if jac else None, **kw)
        py = minpack.leastsq(EXP.func, np.array(EXP.x0), args=(EXP.data,),
                             Dfun=EXP.jac if jac else None, **kw)
    assert np.array_equal(ours[0], py[0])
    assert ours[4] == py[4] and ours[2]["nfev"] == py[2]["nfev"]
    assert list(ours[2]["active_mask"]) == [1, 0, 0] and ours[0][0] == 2.9
    np.testing.assert_array_equal(ours[1], py[1])


# ---------------------------------------------------------------------------
# Malformed bounds
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("bounds, error, match", [
    (([0, 0], [1, 1, 1]), ValueError,
     r"the lower bounds must be a scalar or have one entry per parameter \(length 3\)"),
    (([0, 0, 0], [[1, 1, 1]]), ValueError, r"the upper bounds must be .*shape \(1, 3\)"),
    (([0, 2, 0], [1, 1, 1]), ValueError,
     r"each lower bound must be at most its upper bound .*x0\[1\]"),
    (([0, np.nan, 0], 5), ValueError, r"bounds must not be NaN .*x0\[1\]"),
    ((0, 1, 2), ValueError, r"bounds must be a 2-tuple \(lb, ub\)"),
    (5.0, ValueError, r"bounds must be a 2-tuple"),
    ((["a", "b", "c"], 1), TypeError, r"the lower bounds must be real numbers"),
], ids=["lower-length", "upper-shape", "lower>upper", "nan", "three", "scalar",
        "strings"])
def test_malformed_bounds(bounds, error, match):
    with pytest.raises(error, match=match):
        minpack.leastsq(_never, [0.5, 0.5, 0.5], bounds=bounds)


def test_malformed_batch_bounds():
    x0 = np.ones((4, 3))
    with pytest.raises(ValueError, match=r"shape \(3,\) .* or \(4, 3\)"):
        minpack.leastsq_batch(EXP.cfunc, x0, m=EXP.m, bounds=(np.zeros((2, 3)), 5))
    with pytest.raises(ValueError, match="at most its upper bound"):
        minpack.leastsq_batch(EXP.cfunc, x0, m=EXP.m, bounds=([0, 2, 0], 1))


def test_infinite_bounds_are_the_unbounded_fit():
    """All-infinite bounds: no box at all (no active_mask), MINPACK's fit."""
    plain = minpack.leastsq(_residual, [1.0, 1.0, 0.0], full_output=True)
    inf = minpack.leastsq(_residual, [1.0, 1.0, 0.0], full_output=True,
                          bounds=(-np.inf, np.inf))
    assert "active_mask" not in inf[2]
    assert np.array_equal(plain[0], inf[0]) and np.array_equal(plain[1], inf[1])


def test_vectorized_and_callback_in_an_active_box():
    """A bound that stops the fit: the vectorized route (every column of every
    block inside the box, the same fit as one point at a time) and the
    callback (every reported x inside the box)."""
    lb, ub = [0.0, 1.25, -np.inf], [2.5, 10.0, np.inf]
    columns = []

    def vfunc(X):
        columns.extend(X.T.copy())
        return MODEL(T[:, None], *X) - Y[:, None]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # held parameters
        vec = minpack.leastsq(vfunc, [1.0, 2.0, 0.0], full_output=True,
                              vectorized=True, bounds=(lb, ub))
        seen = []
        one = minpack.leastsq(_residual, [1.0, 2.0, 0.0], full_output=True,
                              bounds=(lb, ub), callback=lambda it: seen.append(it.x))
    assert list(vec[2]["active_mask"]) == [1, -1, 0]
    assert np.array_equal(vec[0], one[0]) and vec[2]["nfev"] == one[2]["nfev"]
    assert len(columns) == vec[2]["nfev"]
    assert not any(np.any(c < lb) or np.any(c > ub) for c in columns)
    assert seen and not any(np.any(x < lb) or np.any(x > ub) for x in seen)


def test_bounded_fits_without_scipy(tmp_path):
    """Bounded fits are ours: they run without importing SciPy, and the
    held-parameter warning is minpack.OptimizeWarning then."""
    code = textwrap.dedent("""
        import sys, warnings
        import numpy as np
        import minpack
        t = np.linspace(0, 4, 30)
        y = 3 * np.exp(-1.3 * t) + 0.5
        def model(t, a, k, c):
            return a * np.exp(-k * t) + c
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            popt, pcov = minpack.curve_fit(model, t, y, bounds=(0, [2.5, 10, 10]))
        assert [r.category for r in w] == [minpack.OptimizeWarning], w
        assert popt[0] == 2.5 and np.isnan(pcov[0]).all()
        res = minpack.least_squares(lambda p: model(t, *p) - y, [1, 1, 0],
                                    method="lm", bounds=(0, [2.5, 10, 10]))
        assert list(res.active_mask) == [1, 0, 0]
        assert "scipy" not in sys.modules, "a bounded fit imported scipy"
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
