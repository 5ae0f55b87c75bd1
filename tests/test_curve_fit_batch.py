"""``minpack.curve_fit_batch`` and ``leastsq_batch(vectorized=True)``.

The contract: row ``k`` of a batch is what ``curve_fit`` (or ``leastsq``)
gives for problem ``k`` alone, with the same options: the same iterates,
``nfev`` and ``ier``. Each batch here is checked row by row against the
single fit, on every curve-fitting problem of the registry (curve, MGH and
NIST models written with NumPy) with per-row data and starting points. The
model is evaluated for a block of points by broadcasting; NumPy's
element-wise operations on arrays give each point's values the same in a
block as alone, so ``popt`` is compared bit for bit, except for the models
in ``SCALAR_POWERS``: a power of parameters alone (``K**h``, ``b5**2``) is
a scalar operation in a single fit, rounded by the C library's ``pow``, and
an array operation in a block, rounded by NumPy's own loop (``x*x`` for a
square); the two differ in the last bit for some values, the iterations then
part by rounding, and those rows are compared to the fit's own tolerance
(xtol = 1.49e-8). ``pcov`` is MINPACK's own
``inv(J^T J)`` (Fortran) scaled by NumPy's pairwise sum of the squared
residuals, which may group the sum differently for a block row: compared to
1e-13 relative. One bad problem never spoils the others.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import minpack
from minpack._optimize import warning_category
from support.problems import CurveFit, curve_fits

ROWS = 5


def optimize_warning():
    """The OptimizeWarning minpack issues: SciPy's once SciPy is imported."""
    return warning_category()


def decay(t, a, k, c):
    return a * np.exp(-k * t) + c


def gaussian(x, h, mu, s, b):
    return h * np.exp(-0.5 * ((x - mu) / s) ** 2) + b


T = np.linspace(0.0, 4.0, 40)


def decay_batch(K: int, seed: int = 1, m: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 4.0, m)
    truth = rng.uniform([1.0, 0.5, 0.0], [3.0, 2.0, 0.5], size=(K, 3))
    y = decay(t, *truth.T[:, :, None]) + 0.01 * rng.standard_normal((K, m))
    return truth, y


def single(f, x, y, p0, **kw):
    """curve_fit for one problem: (popt, pcov, nfev, ier), or the failure's
    (None, None, nfev, ier) from leastsq on curve_fit's residual."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optimize_warning())
        try:
            popt, pcov, info, _, ier = minpack.curve_fit(f, x, y, p0, full_output=True, **kw)
            return popt, pcov, info["nfev"], ier
        except RuntimeError:
            pass
    sigma = kw.pop("sigma", None)
    w = 1.0 if sigma is None else 1.0 / np.asarray(sigma, dtype=float)
    with np.errstate(all="ignore"):
        xk, _, info, _, ier = minpack.leastsq(
            lambda p: w * (np.asarray(f(x, *p)) - y), p0, full_output=True, **kw)
    return xk, None, info["nfev"], ier


def assert_row_equal(res, k, f, x, y, p0, exact=True, **kw):
    popt, pcov, nfev, ier = single(f, x, y, p0, **kw)
    assert res.ier[k] == ier, f"row {k}: ier {res.ier[k]} != {ier}"
    if not exact:
        np.testing.assert_allclose(res.popt[k], popt, rtol=2e-8, err_msg=f"row {k}")
        np.testing.assert_allclose(res.pcov[k], pcov, rtol=1e-6, err_msg=f"row {k}")
        return
    assert res.nfev[k] == nfev, f"row {k}: nfev {res.nfev[k]} != {nfev}"
    np.testing.assert_array_equal(res.popt[k], popt, err_msg=f"row {k}")
    if pcov is None:
        assert not res.success[k]
        assert np.isnan(res.pcov[k]).all()
    else:
        # inf and NaN in the same places; finite values to rounding
        np.testing.assert_allclose(res.pcov[k], pcov, rtol=1e-13, atol=0,
                                   err_msg=f"row {k}")


def perturbed(problem: CurveFit, rows: int = ROWS, seed: int = 7):
    """Per-row data and starts around a registry problem."""
    rng = np.random.default_rng(seed)
    scale = np.abs(problem.y).mean() or 1.0
    y = problem.y + 1e-3 * scale * rng.standard_normal((rows, problem.m))
    y[0] = problem.y  # the registry's own problem in row 0
    p0 = problem.p0 * (1.0 + 0.02 * rng.standard_normal((rows, problem.n)))
    p0[0] = problem.p0
    return y, p0


FITS = curve_fits()

# models with a power of parameters alone (see the module docstring)
SCALAR_POWERS = {"hill": "p[1] ** p[2]", "Gauss1": "b5**2, b8**2"}


@pytest.mark.parametrize("problem", FITS, ids=[p.name for p in FITS])
def test_rows_equal_curve_fit_on_the_registry(problem):
    y, p0 = perturbed(problem)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", optimize_warning())
        res = minpack.curve_fit_batch(problem.model, problem.t, y, p0, workers=2)
    for k in range(ROWS):
        with np.errstate(all="ignore"):
            assert_row_equal(res, k, problem.model, problem.t, y[k], p0[k],
                             exact=problem.name not in SCALAR_POWERS)


@pytest.mark.parametrize("problem", FITS[:4], ids=[p.name for p in FITS[:4]])
def test_vectorized_false_gives_the_same_rows(problem):
    y, p0 = perturbed(problem, rows=3)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", optimize_warning())
        a = minpack.curve_fit_batch(problem.model, problem.t, y, p0, vectorized=True)
        b = minpack.curve_fit_batch(problem.model, problem.t, y, p0, vectorized=False)
    for name in ("popt", "nfev", "ier"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(a.pcov, b.pcov)


def test_a_sample_of_a_large_batch_and_every_worker_count_agrees():
    truth, y = decay_batch(2500)  # several chunks (see below)
    results = [minpack.curve_fit_batch(decay, T, y, p0=[1, 1, 0], workers=w)
               for w in (1, 2, 3)]
    assert results[0].success.all()
    for other in results[1:]:
        for name in ("popt", "pcov", "perr", "nfev", "ier"):
            np.testing.assert_array_equal(getattr(results[0], name), getattr(other, name))
    for k in np.random.default_rng(3).choice(2500, 25, replace=False):
        assert_row_equal(results[0], k, decay, T, y[k], [1, 1, 0])
    assert np.all(np.abs(results[0].popt - truth) < 10 * results[0].perr)


def test_per_problem_xdata_p0_and_sigma():
    rng = np.random.default_rng(5)
    K, m = 8, 30
    x = np.sort(rng.uniform(-3, 3, (K, m)), axis=1)
    truth = np.column_stack([rng.uniform(1, 2, K), rng.uniform(-1, 1, K),
                             rng.uniform(0.4, 1, K), rng.uniform(0, .2, K)])
    y = gaussian(x, *truth.T[:, :, None]) + 0.01 * rng.standard_normal((K, m))
    sigma = rng.uniform(0.5, 2.0, (K, m))
    p0 = truth * 1.1
    res = minpack.curve_fit_batch(gaussian, x, y, p0, sigma=sigma)
    for k in range(K):
        assert_row_equal(res, k, gaussian, x[k], y[k], p0[k], sigma=sigma[k])
    shared = minpack.curve_fit_batch(gaussian, x, y, p0, sigma=sigma[0],
                                     absolute_sigma=True)
    for k in range(K):
        popt, pcov = minpack.curve_fit(gaussian, x[k], y[k], p0[k], sigma=sigma[0],
                                       absolute_sigma=True)
        np.testing.assert_array_equal(shared.popt[k], popt)
        np.testing.assert_array_equal(shared.pcov[k], pcov)  # no scaling: MINPACK's own


def test_xdata_with_several_variables_per_problem():
    """(K, 2, m): the model gets (2, P, m), so x[0] is still the first variable."""
    rng = np.random.default_rng(2)
    K, m = 4, 25

    def plane(x, a, b, c):
        return a * x[0] + b * np.sin(x[1]) + c

    x = rng.uniform(0, 3, (K, 2, m))
    y = plane(np.moveaxis(x, 1, 0), *rng.uniform(1, 2, (3, K, 1)))
    res = minpack.curve_fit_batch(plane, x, y, p0=[1, 1, 1])
    for k in range(K):
        assert_row_equal(res, k, plane, x[k], y[k], np.ones(3))
    # shared (2, m) xdata: the model gets it as it is
    shared = minpack.curve_fit_batch(plane, x[0], y, p0=[1, 1, 1])
    assert_row_equal(shared, 2, plane, x[0], y[2], np.ones(3))
    # with K = 2 problems a (2, m) xdata would be read per problem; given as
    # (1, 2, m) it is shared
    two = minpack.curve_fit_batch(plane, x[0][np.newaxis], y[:2], p0=[1, 1, 1])
    np.testing.assert_array_equal(two.popt, shared.popt[:2])


def test_bounds_shared_and_per_problem_equal_bounded_curve_fit():
    truth, y = decay_batch(6)
    lb = np.array([0.0, 0.0, 0.0])
    ub = np.tile([10.0, 1.2, 1.0], (6, 1))
    ub[1, 1] = 0.7  # row 1's rate ends on its bound
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optimize_warning())
        res = minpack.curve_fit_batch(decay, T, y, p0=[1, 0.5, 0.1], bounds=(lb, ub))
        for k in range(6):
            assert_row_equal(res, k, decay, T, y[k], np.array([1, 0.5, 0.1]),
                             bounds=(lb, ub[k]))
    assert res.active_mask.shape == (6, 3)
    assert (res.active_mask[truth[:, 1] > 1.2, 1] == 1).all()
    assert res.active_mask[1, 1] == 1
    held = res.active_mask[1] != 0
    assert np.isnan(res.pcov[1][held]).all() and np.isnan(res.pcov[1][:, held]).all()
    assert np.isfinite(res.pcov[1][np.ix_(~held, ~held)]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optimize_warning())
        # no p0: curve_fit's start inside each box
        res = minpack.curve_fit_batch(decay, T, y, bounds=(lb, ub))
        popt, _ = minpack.curve_fit(decay, T, y[3], bounds=(lb, ub[3]))
    np.testing.assert_array_equal(res.popt[3], popt)


def test_failures_stay_per_problem():
    truth, y = decay_batch(7)
    y[1, 5] = np.nan  # NaN data without nan_policy: residuals not finite at p0
    lb = np.zeros((7, 3))
    ub = np.full((7, 3), 10.0)
    lb[2, 0] = 5.0  # p0 outside row 2's box
    ub[3, 1] = -1.0  # lower above upper in row 3
    res = minpack.curve_fit_batch(decay, T, y, p0=[1, 1, 0.1], bounds=(lb, ub),
                                  full_output=True)
    assert res.ier[1] == 10 and res.nfev[1] == 1 and "not finite at p0" in res.mesg[1]
    assert res.ier[2] == 0 and res.ier[3] == 0 and res.nfev[2] == 0
    np.testing.assert_array_equal(res.popt[2], [1, 1, 0.1])
    assert not res.success[[1, 2, 3]].any() and res.success[[0, 4, 5, 6]].all()
    assert np.isnan(res.pcov[[1, 2, 3]]).all() and np.isnan(res.perr[[1, 2, 3]]).all()
    assert res.mesg[2].startswith("Improper input")
    for k in (0, 4, 5, 6):
        assert_row_equal(res, k, decay, T, y[k], np.array([1, 1, 0.1]),
                         bounds=(lb[k], ub[k]))
    # a problem that runs out of evaluations: ier 5, the others converge
    p0 = np.tile([1.0, 1.0, 0.0], (7, 1))
    p0[4] = [1e3, 40.0, -50.0]
    y[1, 5] = 0.0
    with np.errstate(over="ignore"):
        res = minpack.curve_fit_batch(decay, T, y, p0, maxfev=30)
        assert_row_equal(res, 4, decay, T, y[4], p0[4], maxfev=30)
    assert res.ier[4] == 5 and res.nfev[4] >= 30
    assert res.success[np.arange(7) != 4].all()


def test_nan_policy_omit_drops_each_rows_own_points():
    truth, y = decay_batch(5)
    y[0, [0, 17]] = np.nan  # in the first n rows too: the Householder steps
    y[1, [1, 2]] = np.nan  # must meet the points kept as they would alone
    y[2, :38] = np.nan  # two points left: fewer than the parameters
    res = minpack.curve_fit_batch(decay, T, y, p0=[1, 1, 0], nan_policy="omit",
                                  full_output=True)
    assert res.ier[2] == 0 and res.nfev[2] == 0 and np.isnan(res.pcov[2]).all()
    assert res.success[[0, 1, 3, 4]].all()
    for k in (0, 1, 3, 4):
        keep = ~np.isnan(y[k])
        popt, pcov, info, _, ier = minpack.curve_fit(decay, T[keep], y[k, keep], [1, 1, 0],
                                                     full_output=True)
        np.testing.assert_array_equal(res.popt[k], popt)
        assert (res.nfev[k], res.ier[k]) == (info["nfev"], ier)
        np.testing.assert_allclose(res.pcov[k], pcov, rtol=1e-13)
        np.testing.assert_array_equal(res.fvec[k][keep], info["fvec"])
        assert (res.fvec[k][~keep] == 0).all()
    # NaN in a shared xdata: that point is left out of every fit
    tn = T.copy()
    tn[1] = np.nan
    res3 = minpack.curve_fit_batch(decay, tn, y, p0=[1, 1, 0], nan_policy="omit")
    assert res3.ier[2] == 0 and res3.success[[0, 1, 3, 4]].all()
    for k in (0, 3):
        keep = ~np.isnan(y[k]) & ~np.isnan(tn)
        popt, _ = minpack.curve_fit(decay, T[keep], y[k, keep], [1, 1, 0])
        np.testing.assert_array_equal(res3.popt[k], popt)
    # NaN in a per-problem xdata is dropped too
    x = np.tile(T, (5, 1))
    x[4, 0] = np.nan
    res2 = minpack.curve_fit_batch(decay, x, y, p0=[1, 1, 0], nan_policy="omit")
    keep = ~np.isnan(x[4])
    popt, _ = minpack.curve_fit(decay, T[keep], y[4, keep], [1, 1, 0])
    np.testing.assert_array_equal(res2.popt[4], popt)
    np.testing.assert_array_equal(res2.popt[0], res.popt[0])


def test_covariance_that_cannot_be_estimated_is_inf_and_warns_once():
    truth, y = decay_batch(3)

    def degenerate(t, a, k, c, d):  # d is ignored
        return a * np.exp(-k * t) + c + 0 * d

    with pytest.warns(optimize_warning(), match="3 of 3 problems"):
        res = minpack.curve_fit_batch(degenerate, T, y, p0=[1, 1, 0, 0])
    assert res.success.all() and np.isinf(res.pcov).all()
    with pytest.warns(optimize_warning()):
        _, pcov = minpack.curve_fit(degenerate, T, y[0], p0=[1, 1, 0, 0])
    assert np.isinf(pcov).all()


def test_full_output_messages_and_fvec():
    truth, y = decay_batch(3)
    res = minpack.curve_fit_batch(decay, T, y, p0=[1, 1, 0], full_output=True)
    for k in range(3):
        _, _, info, mesg, ier = minpack.curve_fit(decay, T, y[k], [1, 1, 0],
                                                  full_output=True)
        assert res.mesg[k] == mesg
        np.testing.assert_array_equal(res.fvec[k], info["fvec"])
    assert "K=3" in repr(res) and len(res) == 3


def test_empty_batch():
    res = minpack.curve_fit_batch(decay, T, np.zeros((0, T.size)), p0=[1, 1, 0])
    assert res.popt.shape == (0, 3) and res.pcov.shape == (0, 3, 3)
    assert res.ier.shape == (0,) and res.success.shape == (0,)


def test_model_that_does_not_broadcast_is_explained():
    import math

    def scalar_model(t, a, k, c):
        return np.array([a * math.exp(-k * ti) + c for ti in t])

    _, y = decay_batch(4)
    with pytest.raises(TypeError, match="only 0-dimensional|only length-1|size-1"):
        minpack.curve_fit_batch(scalar_model, T, y, p0=[1, 1, 0])

    def summed(t, a, k, c):  # reduces over the points: shape (P,)
        return np.sum(a * np.exp(-k * t) + c, axis=-1)

    with pytest.raises(ValueError, match=r"broadcast.*vectorized=False"):
        minpack.curve_fit_batch(summed, T, y, p0=[1, 1, 0])
    res = minpack.curve_fit_batch(scalar_model, T, y, p0=[1, 1, 0], vectorized=False)
    assert_row_equal(res, 1, scalar_model, T, y[1], [1, 1, 0])


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(ydata=np.zeros(40)), ValueError, r"shape \(K, m\)"),
    (dict(ydata=np.zeros((2, 40)), p0=np.ones((3, 3))), ValueError, "p0 must have shape"),
    (dict(ydata=np.zeros((2, 40)), sigma=np.ones(39)), ValueError, "sigma must have"),
    (dict(ydata=np.zeros((2, 40)), xdata=np.zeros((2, 39))), ValueError,
     "per-problem xdata"),
    (dict(ydata=np.zeros((2, 2))), TypeError, "must not exceed"),
    (dict(ydata=np.zeros((2, 40)), nan_policy="raise"), ValueError, "nan_policy"),
    (dict(ydata=np.zeros((2, 40)), jac=lambda t, *p: 0), TypeError, "unexpected keyword"),
    (dict(ydata=np.array([["a"] * 40])), TypeError, "real numbers"),
    (dict(ydata=np.zeros((2, 40)), workers=0), ValueError, "at least 1"),
    (dict(ydata=np.zeros((2, 40)), p0=[[1, np.nan, 0], [1, 1, 1]]), ValueError,
     "finite"),
])
def test_bad_input_is_explained(kwargs, error, match):
    args = dict(f=decay, xdata=T)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        minpack.curve_fit_batch(**args)


# K = 2500 problems of m = 40 are four chunks (run_points' chunk_size): the
# two threads below each run chunks

def test_an_exception_in_the_model_propagates_and_no_thread_is_left():
    _, y = decay_batch(2500)
    calls = []

    def failing(t, a, k, c):
        calls.append(a.shape[0])
        if len(calls) == 9:
            raise ZeroDivisionError("from the model")
        return decay(t, a, k, c)

    before = threading.active_count()
    with pytest.raises(ZeroDivisionError, match="from the model"):
        minpack.curve_fit_batch(failing, T, y, p0=[1, 1, 0], workers=2)
    assert threading.active_count() == before


def test_batches_in_concurrent_threads():
    _, y = decay_batch(2500)
    expected = minpack.curve_fit_batch(decay, T, y, p0=[1, 1, 0], workers=1)
    results: list = [None] * 4

    def run(i):
        results[i] = minpack.curve_fit_batch(decay, T, y, p0=[1, 1, 0], workers=2)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for r in results:
        np.testing.assert_array_equal(r.popt, expected.popt)
        np.testing.assert_array_equal(r.nfev, expected.nfev)


# -- leastsq_batch(vectorized=True) ------------------------------------------


def test_leastsq_batch_vectorized_equals_the_plain_batch():
    _, y = decay_batch(20)

    def one(p, yk):
        return decay(T, *p) - yk

    def many(X, Y):
        return decay(T, X[:, :1], X[:, 1:2], X[:, 2:]) - Y

    x0 = np.tile([1.0, 1.0, 0.0], (20, 1))
    plain = minpack.leastsq_batch(one, x0, args=y, full_output=True)
    vec = minpack.leastsq_batch(many, x0, args=y, full_output=True, vectorized=True)
    for name in ("x", "ier", "nfev", "cov_x", "fvec"):
        np.testing.assert_array_equal(getattr(vec, name), getattr(plain, name))
    np.testing.assert_allclose(vec.fnorm, plain.fnorm, rtol=1e-15)
    assert (vec.njev == 0).all()
    # func(X, k) without args: the problem index of each row
    by_index = minpack.leastsq_batch(lambda X, k: many(X, y[k]), x0, vectorized=True,
                                     m=T.size, workers=2)
    np.testing.assert_array_equal(by_index.x, plain.x)
    box = minpack.leastsq_batch(many, x0, args=y, vectorized=True,
                                bounds=([0, 0, 0], [5, 1.0, 1]))
    ref = minpack.leastsq_batch(one, x0, args=y, bounds=([0, 0, 0], [5, 1.0, 1]))
    np.testing.assert_array_equal(box.x, ref.x)
    np.testing.assert_array_equal(box.active_mask, ref.active_mask)


def test_leastsq_batch_vectorized_errors():
    x0 = np.ones((2, 3))
    with pytest.raises(TypeError, match="neither Dfun nor callback"):
        minpack.leastsq_batch(lambda X, k: X, x0, Dfun=lambda x: x, vectorized=True)
    with pytest.raises(ValueError, match=r"must return shape \(P, m\)"):
        minpack.leastsq_batch(lambda X, k: np.zeros(5), x0, vectorized=True)
    with pytest.raises(ValueError, match=r"returned shape \(2, 4\); expected \(2, 5\)"):
        minpack.leastsq_batch(lambda X, k: np.zeros((X.shape[0], 4)), x0,
                              vectorized=True, m=5)
    with pytest.raises(TypeError, match="Improper input"):
        minpack.leastsq_batch(lambda X, k: np.zeros((X.shape[0], 2)), x0,
                              vectorized=True)


def test_the_callers_errstate_applies_in_the_worker_threads():
    _, y = decay_batch(2500)
    p0 = np.tile([1.0, 1.0, 0.0], (2500, 1))
    p0[2400] = [1e3, 40.0, -50.0]  # diverges: exp overflows (in the last chunk)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        minpack.curve_fit_batch(decay, T, y, p0, workers=2)
    with np.errstate(over="ignore"):
        res = minpack.curve_fit_batch(decay, T, y, p0, workers=2)
    assert res.success[:2400].all()


def test_the_thread_tests_run_several_chunks():
    """The tests above with K = 2500 problems of m = 40 mean several chunks."""
    from minpack._points import chunk_size

    assert 2500 // chunk_size(40, 3) >= 3
