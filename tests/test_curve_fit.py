"""``minpack.curve_fit`` against ``scipy.optimize.curve_fit`` (method 'lm').

The registry's curve-fitting problems whose residual is ``model(p, t) - y`` are
refitted through both ``curve_fit`` functions under several options (analytic
Jacobian, 1-D and 2-D ``sigma``, ``absolute_sigma``). Both run MINPACK on the
same residuals, so ``ier``, ``mesg``, ``nfev`` and ``njev`` must be identical
and ``popt``/``pcov`` equal to 1e-8 relative; ``popt`` is bit for bit in most
cases, ``pcov`` need not be (SciPy computes it through BLAS, whose
rounding depends on the CPU: see ``support.oracle``).

One exception, measured rather than assumed: a 2-D ``sigma`` with a
finite-difference Jacobian. SciPy whitens every residual with a LAPACK
triangular solve, we multiply by ``inv(L)``; the two differ by an ulp, and
forward differences magnify that to ~1e-8 in the Jacobian. SciPy's own result
moves by as much (up to 6e-8 in popt, 3e-7 in pcov) when ``sigma`` is scaled
by ``1 + 2**-52``, so those cases are compared to 1e-6.

The remaining tests pin the behaviour users hit: p0 from the signature,
xdata shapes, ``nan_policy``, ``check_finite``, keyword arguments for
``leastsq``, failures, the covariance warning (SciPy's class when SciPy is
loaded, ours otherwise), the 'lm'-only errors, and the number of model calls.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.optimize
from support.oracle import assert_cov_close
from support.problems import Problem, select

import minpack

pytestmark = pytest.mark.scipy_oracle  # compared with SciPy: see conftest.py

# ---------------------------------------------------------------------------
# Registry problems, turned into curve_fit models
# ---------------------------------------------------------------------------


def _is_model_minus_data(p: Problem) -> bool:
    """Tell whether ``p.func(x, t, y) == p.func(x, t, 0) - y`` (a curve fit)."""
    if len(p.args) != 2:
        return False
    t, y = p.args
    with np.errstate(all="ignore"):
        r = p.func(p.start(), t, y)
        r0 = p.func(p.start(), t, np.zeros_like(y))
    return bool(np.allclose(r, r0 - y, rtol=1e-12, atol=1e-12))


CURVE_PROBLEMS = [p for p in select("curve") if _is_model_minus_data(p)]


def _model_of(p: Problem):
    """``f(t, *params)`` and ``jac(t, *params)`` for curve_fit."""
    zeros = np.zeros(p.m)

    def f(t, *q):
        return p.func(np.array(q), t, zeros)

    def jac(t, *q):
        return p.jac(np.array(q), t, zeros)

    return f, jac


def _correlated_cov(m: int, rng: np.random.Generator) -> np.ndarray:
    """Return an AR(1)-like covariance, ``sd_i sd_j 0.5**|i-j|``."""
    sd = rng.uniform(0.5, 2.0, m)
    i = np.arange(m)
    return np.outer(sd, sd) * 0.5 ** np.abs(i[:, None] - i)


CONFIGS = ["plain", "jac", "sigma1d", "sigma1d_abs", "sigma1d_jac",
           "sigma2d", "sigma2d_abs", "sigma2d_jac"]


def _options(p: Problem, config: str) -> dict:
    rng = np.random.default_rng(7)
    opts: dict = {}
    if "jac" in config:
        opts["jac"] = _model_of(p)[1]
    if "sigma1d" in config:
        opts["sigma"] = rng.uniform(0.5, 2.0, p.m)
    if "sigma2d" in config:
        opts["sigma"] = _correlated_cov(p.m, rng)
    if "abs" in config:
        opts["absolute_sigma"] = True
    return opts


def _both(f, xdata, ydata, **kw):
    """Run SciPy then minpack on fresh copies; return (scipy, ours)."""
    out = []
    for fit in (scipy.optimize.curve_fit, minpack.curve_fit):
        out.append(fit(f, _copy(xdata), _copy(ydata), **_copy(kw)))
    return out


def _copy(a):
    if isinstance(a, dict):
        return {k: _copy(v) for k, v in a.items()}
    if isinstance(a, np.ndarray):
        return a.copy()
    if isinstance(a, tuple):
        return tuple(_copy(v) for v in a)
    return a


def _close(ours, ref, rtol):
    """Elementwise rtol, with an absolute floor of rtol times the scale."""
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    scale = np.max(np.abs(ref)) if ref.size else 0.0
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=rtol * scale)


def _assert_same_fit(ours, ref, rtol=1e-8):
    """Compare two full_output results of curve_fit."""
    popt, pcov, info, mesg, ier = ours
    r_popt, r_pcov, r_info, r_mesg, r_ier = ref
    assert ier == r_ier
    assert mesg == r_mesg
    assert sorted(info) == sorted(r_info)
    assert info["nfev"] == r_info["nfev"]
    assert info.get("njev") == r_info.get("njev")
    _close(popt, r_popt, rtol)
    _close(pcov, r_pcov, rtol)
    _close(info["fvec"], r_info["fvec"], rtol)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("problem", CURVE_PROBLEMS,
                         ids=[p.name for p in CURVE_PROBLEMS])
def test_registry_matches_scipy(problem, config, report):
    """Registry curve fits: same ier, mesg, nfev; popt/pcov to 1e-8."""
    f, _ = _model_of(problem)
    t, y = problem.args
    opts = _options(problem, config)
    ref, ours = _both(f, t, y, p0=problem.x0, full_output=True, **opts)
    # See the module docstring: SciPy itself is only reproducible to ~1e-7 here.
    rtol = 1e-6 if config in ("sigma2d", "sigma2d_abs") else 1e-8
    _assert_same_fit(ours, ref, rtol)
    same_popt = np.array_equal(ours[0], ref[0])
    same_pcov = np.array_equal(ours[1], ref[1])
    rel_popt = np.max(np.abs(ours[0] - ref[0]) / np.abs(ref[0]))
    rel_pcov = np.max(np.abs(ours[1] - ref[1])) / np.max(np.abs(ref[1]))
    report("curve_fit vs scipy.optimize.curve_fit (registry problems)",
           f"{problem.name:24s} {config:12s} nfev {ours[2]['nfev']:3d}  "
           f"popt {'identical' if same_popt else f'{rel_popt:.1e}':>9s}  "
           f"pcov {'identical' if same_pcov else f'{rel_pcov:.1e}':>9s}")


# ---------------------------------------------------------------------------
# Models of our own, with named parameters
# ---------------------------------------------------------------------------


def exp_model(x, a, b, c):
    """Model ``a exp(-b x) + c``."""
    return a * np.exp(-b * x) + c


def exp_jac(x, a, b, c):
    """Jacobian of :func:`exp_model`, shape (M, 3)."""
    e = np.exp(-b * x)
    return np.column_stack([e, -a * x * e, np.ones_like(x)])


def two_predictor(X, a, b, c):
    """Model ``a exp(-b X[0]) + c X[1]`` for xdata of shape (2, M)."""
    return a * np.exp(-b * X[0]) + c * X[1]


_rng = np.random.default_rng(2024)
X1 = np.linspace(0.0, 4.0, 30)
Y1 = exp_model(X1, 2.5, 1.3, 0.5) + 0.03 * _rng.standard_normal(X1.size)
SIGMA1 = _rng.uniform(0.02, 0.06, X1.size)
X2 = np.vstack([np.linspace(0.0, 3.0, 25), _rng.uniform(-1.0, 1.0, 25)])
Y2 = two_predictor(X2, 1.5, 0.8, -0.7) + 0.02 * _rng.standard_normal(25)


@pytest.mark.parametrize("kw", [
    {},
    {"p0": [2.0, 1.0, 0.0]},
    {"p0": np.array([2, 1, 0])},  # integers
    {"sigma": SIGMA1},
    {"sigma": SIGMA1, "absolute_sigma": True},
    {"sigma": 0.04},
    {"sigma": 0.04, "absolute_sigma": True},
    {"sigma": np.diag(SIGMA1**2), "jac": exp_jac},
    {"jac": exp_jac},
    {"jac": exp_jac, "sigma": SIGMA1},
    {"jac": lambda x, a, b, c: exp_jac(x, a, b, c).tolist()},
    {"jac": lambda x, a, b, c: exp_jac(x, a, b, c).T, "col_deriv": True},
    {"maxfev": 1000, "epsfcn": 1e-10},
    {"ftol": 1e-12, "xtol": 1e-12},
    {"factor": 0.5, "diag": [1.0, 2.0, 3.0]},
    {"check_finite": False},
    {"nan_policy": "raise"},
    {"nan_policy": "omit"},
], ids=lambda kw: "-".join(kw) or "defaults")
def test_options_match_scipy(kw):
    """Each option, and leastsq keywords, give SciPy's popt bit for bit."""
    ref, ours = _both(exp_model, X1, Y1, full_output=True, **kw)
    _assert_same_fit(ours, ref)
    assert np.array_equal(ours[0], ref[0])  # leastsq is bit-compatible here


def test_default_return_is_popt_pcov():
    """Without full_output the result is (popt, pcov)."""
    out = minpack.curve_fit(exp_model, X1, Y1)
    ref = scipy.optimize.curve_fit(exp_model, X1, Y1)
    assert isinstance(out, tuple) and len(out) == 2
    assert out[0].dtype == np.float64 and out[1].shape == (3, 3)
    assert np.array_equal(out[0], ref[0])
    _close(out[1], ref[1], 1e-8)


def test_infodict_matches_scipy():
    """Infodict has SciPy's keys and values."""
    ref, ours = _both(exp_model, X1, Y1, jac=exp_jac, sigma=SIGMA1, full_output=True)
    info, r_info = ours[2], ref[2]
    assert info.keys() == r_info.keys()
    for key in ("fvec", "fjac", "qtf"):
        _close(info[key], r_info[key], 1e-8)
    assert np.array_equal(info["ipvt"], r_info["ipvt"])
    assert info["ipvt"].dtype == r_info["ipvt"].dtype


@pytest.mark.parametrize("xdata", [
    X2, (X2[0], X2[1]), [list(X2[0]), list(X2[1])],
], ids=["array-2d", "tuple-of-arrays", "list-of-lists"])
def test_xdata_with_k_predictors(xdata):
    """2-D xdata, a tuple of arrays and nested lists all work."""
    seen = []

    def model(X, a, b, c):
        seen.append(type(X))
        return two_predictor(X, a, b, c)

    ref, ours = _both(model, xdata, Y2, full_output=True)
    _assert_same_fit(ours, ref)
    assert np.array_equal(ours[0], ref[0])
    assert set(seen) == {np.ndarray}  # lists and tuples become one array


def test_xdata_other_objects_are_passed_unchanged():
    """Non-sequence xdata reaches the model as is."""
    class Grid:
        def __init__(self, x):
            self.x = x

    grid = Grid(X1)
    seen = []

    def model(g, a, b, c):
        seen.append(g)
        return exp_model(g.x, a, b, c)

    ref, ours = _both(model, grid, Y1, full_output=True)
    _assert_same_fit(ours, ref)
    assert all(g is grid for g in seen)


def test_float32_data_are_fitted_in_float64():
    """float32 data give SciPy's float64 fit."""
    ref, ours = _both(exp_model, X1.astype(np.float32), Y1.astype(np.float32),
                      full_output=True)
    _assert_same_fit(ours, ref)
    assert ours[0].dtype == np.float64


def test_inputs_left_untouched():
    """xdata, ydata and sigma are not modified."""
    x, y, s = X1.copy(), Y1.copy(), SIGMA1.copy()
    y[3] = np.nan
    y_before = y.copy()
    minpack.curve_fit(exp_model, x, y, sigma=s, nan_policy="omit")
    minpack.curve_fit(exp_model, x, Y1, sigma=np.diag(s**2))
    np.testing.assert_array_equal(x, X1)
    np.testing.assert_array_equal(y, y_before)
    np.testing.assert_array_equal(s, SIGMA1)


# ---------------------------------------------------------------------------
# p0 from the model's signature
# ---------------------------------------------------------------------------


class _Model:
    def __call__(self, x, a, b):
        return a * x + b

    def method(self, x, a, b, c):
        return exp_model(x, a, b, c)


@pytest.mark.parametrize("f, n", [
    (exp_model, 3),
    (lambda x, a, b=2.0: a * x + b, 2),            # defaults count
    (lambda x, a, *rest: a * x, 1),                # *args does not
    (lambda x, a, *, b=1.0: a * x + b, 1),         # keyword-only does not
    (lambda x, a, /, b: a * x + b, 2),             # positional-only does
    (_Model(), 2),                                 # __call__ without self
    (_Model().method, 3),                          # bound method
], ids=["function", "default", "varargs", "kwonly", "posonly", "callable", "method"])
def test_p0_inferred_from_signature(f, n):
    """Without p0, N comes from the positional parameters."""
    sizes = []

    def spy(x, *p):
        sizes.append(len(p))
        return f(x, *p)

    spy.__signature__ = __import__("inspect").signature(f)
    ref, ours = _both(spy, X1, Y1, full_output=True)
    assert set(sizes) == {n}
    _assert_same_fit(ours, ref)


@pytest.mark.parametrize("f", [lambda x, *p: x, lambda x: x, np.vectorize(exp_model)],
                         ids=["varargs-only", "no-parameters", "vectorize"])
def test_p0_cannot_be_inferred(f):
    """SciPy's error when the signature gives no parameters."""
    msg = "Unable to determine number of fit parameters."
    with pytest.raises(ValueError, match=msg):
        scipy.optimize.curve_fit(f, X1, Y1)
    with pytest.raises(ValueError, match=msg):
        minpack.curve_fit(f, X1, Y1)


# ---------------------------------------------------------------------------
# sigma
# ---------------------------------------------------------------------------


def test_diagonal_2d_sigma_agrees_with_1d_sigma():
    """diag(sigma**2) as 2-D sigma equals 1-D sigma."""
    one = minpack.curve_fit(exp_model, X1, Y1, sigma=SIGMA1, jac=exp_jac)
    two = minpack.curve_fit(exp_model, X1, Y1, sigma=np.diag(SIGMA1**2), jac=exp_jac)
    _close(two[0], one[0], 1e-10)
    _close(two[1], one[1], 1e-8)


@pytest.mark.parametrize("sigma, message", [
    (np.ones(7), "`sigma` has incorrect shape."),
    (np.ones((30, 29)), "`sigma` has incorrect shape."),
    (np.ones((30, 30, 1)), "`sigma` has incorrect shape."),
    (-np.eye(30), "`sigma` must be positive definite."),
    (np.full((30, 30), np.nan), "array must not contain infs or NaNs"),
], ids=["1d-length", "2d-shape", "3d", "not-pd", "nan-2d"])
def test_bad_sigma(sigma, message):
    """Wrong sigma shapes and values raise SciPy's errors."""
    for fit in (scipy.optimize.curve_fit, minpack.curve_fit):
        with pytest.raises(ValueError, match=message):
            fit(exp_model, X1, Y1, sigma=sigma)


def test_sigma_extensions_where_scipy_raises():
    """Weighting works where SciPy fails by accident."""
    # SciPy fails on these by accident (broadcasting); we weight correctly.
    ref = minpack.curve_fit(exp_model, X1, Y1, sigma=SIGMA1, jac=exp_jac)
    col = minpack.curve_fit(exp_model, X1, Y1, sigma=SIGMA1, col_deriv=True,
                            jac=lambda x, a, b, c: exp_jac(x, a, b, c).T)
    assert np.array_equal(col[0], ref[0])
    full = scipy.optimize.curve_fit(exp_model, X1, Y1, sigma=np.full(30, 0.04),
                                    jac=exp_jac)
    for sigma in (0.04, [0.04]):
        one = minpack.curve_fit(exp_model, X1, Y1, sigma=sigma, jac=exp_jac)
        assert np.array_equal(one[0], full[0])
    # one parameter, Jacobian returned as a 1-D array
    line = minpack.curve_fit(lambda x, a: a * x, X1, Y1, sigma=SIGMA1,
                             jac=lambda x, a: x)
    line_ref = scipy.optimize.curve_fit(lambda x, a: a * x, X1, Y1, sigma=SIGMA1,
                                        jac=lambda x, a: x[:, None])
    _close(line[0], line_ref[0], 1e-12)
    # a (1, 1) sigma for one data point is a 1x1 covariance
    _, pcov = minpack.curve_fit(lambda x, a: a + 0 * x, [1.0], [3.0],
                                sigma=[[4.0]], absolute_sigma=True)
    assert pcov[0, 0] == pytest.approx(4.0)


# ---------------------------------------------------------------------------
# nan_policy and check_finite
# ---------------------------------------------------------------------------


def _with_nans():
    x, y = X1.copy(), Y1.copy()
    y[[2, 11]] = np.nan
    x[20] = np.nan
    return x, y


@pytest.mark.parametrize("sigma", [None, SIGMA1, np.diag(SIGMA1**2), 0.04],
                         ids=["none", "1d", "2d", "scalar"])
def test_nan_policy_omit_matches_scipy(sigma):
    """'omit' drops points (and sigma entries) like SciPy."""
    x, y = _with_nans()
    ref, ours = _both(exp_model, x, y, sigma=sigma, nan_policy="omit",
                      full_output=True)
    rtol = 1e-6 if np.ndim(sigma) == 2 else 1e-8  # see the module docstring
    _assert_same_fit(ours, ref, rtol)
    assert ours[2]["fvec"].shape == (27,)
    keep = ~(np.isnan(x) | np.isnan(y))
    if np.ndim(sigma) == 1:
        sigma = sigma[keep]
    elif np.ndim(sigma) == 2:
        sigma = sigma[np.ix_(keep, keep)]
    direct = minpack.curve_fit(exp_model, x[keep], y[keep], sigma=sigma)
    assert np.array_equal(direct[0], ours[0])


def test_nan_policy_omit_in_2d_xdata():
    """'omit' drops a point with a NaN in any predictor."""
    X = X2.copy()
    X[1, 4] = np.nan
    ref, ours = _both(two_predictor, X, Y2, nan_policy="omit", full_output=True)
    _assert_same_fit(ours, ref)
    assert ours[2]["fvec"].shape == (24,)


@pytest.mark.parametrize("where", ["x", "y"])
def test_nan_policy_raise(where):
    """'raise' raises SciPy's error for NaNs in x or y."""
    x, y = X1.copy(), Y1.copy()
    (x if where == "x" else y)[5] = np.nan
    for fit in (scipy.optimize.curve_fit, minpack.curve_fit):
        with pytest.raises(ValueError, match="The input contains nan values"):
            fit(exp_model, x, y, nan_policy="raise")


@pytest.mark.parametrize("nan_policy, message", [
    ("propagate", "`nan_policy='propagate'` is not supported by this function."),
    ("foo", "nan_policy must be one of {None, 'raise', 'omit'}"),
])
def test_nan_policy_invalid(nan_policy, message):
    """Unsupported nan_policy values raise SciPy's errors."""
    for fit in (scipy.optimize.curve_fit, minpack.curve_fit):
        with pytest.raises(ValueError) as info:
            fit(exp_model, X1, Y1, nan_policy=nan_policy)
        assert str(info.value) == message


@pytest.mark.parametrize("where", ["x", "y"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("kw", [{}, {"check_finite": True, "nan_policy": "omit"}],
                         ids=["default", "explicit-with-nan_policy"])
def test_check_finite_raises(where, bad, kw):
    """check_finite rejects NaN and inf in x and y."""
    x, y = X1.copy(), Y1.copy()
    (x if where == "x" else y)[5] = bad
    for fit in (scipy.optimize.curve_fit, minpack.curve_fit):
        with pytest.raises(ValueError, match="array must not contain infs or NaNs"):
            fit(exp_model, x, y, **kw)


def test_check_finite_false_skips_the_check():
    """check_finite=False passes NaNs to the model."""
    seen = []

    def model(x, a, b, c):
        seen.append(np.isnan(x).sum())
        return exp_model(np.nan_to_num(x), a, b, c)

    x = X1.copy()
    x[5] = np.nan
    ref, ours = _both(model, x, Y1, check_finite=False, full_output=True)
    _assert_same_fit(ours, ref)
    assert set(seen) == {1}


# ---------------------------------------------------------------------------
# Errors, failures, warnings
# ---------------------------------------------------------------------------


def _same_error(exc_type, *args, **kwargs):
    """Both functions raise exc_type with the same message."""
    messages = []
    for fit in (scipy.optimize.curve_fit, minpack.curve_fit):
        with pytest.raises(exc_type) as info:
            fit(*args, **kwargs)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_failure_raises_runtime_error():
    """Ier 5-8 raises RuntimeError, even with full_output."""
    _same_error(RuntimeError, exp_model, X1, Y1, maxfev=5)
    with pytest.raises(RuntimeError, match=r"^Optimal parameters not found: "
                       r"Number of calls to function has reached maxfev = 5\.$"):
        minpack.curve_fit(exp_model, X1, Y1, maxfev=5, full_output=True)


def test_error_messages_match_scipy():
    """Input errors have SciPy's class and message."""
    _same_error(ValueError, exp_model, [], [])                     # empty ydata
    _same_error(TypeError, exp_model, X1[:2], Y1[:2])              # N > M
    _same_error(ValueError, exp_model, X1, Y1, method="foo")
    _same_error(ValueError, exp_model, X1, Y1, args=(1,))
    _same_error(TypeError, exp_model, X1, Y1, max_nfev=10)        # not a leastsq kw
    with pytest.raises(TypeError, match="multiple values for keyword argument 'Dfun'"):
        minpack.curve_fit(exp_model, X1, Y1, Dfun=exp_jac)


def test_wrong_jacobian_shape_reports_users_function():
    """A bad jac shape names the user's jac."""
    def my_jac(x, a, b, c):
        return exp_jac(x, a, b, c).T

    for sigma in (None, SIGMA1):
        with pytest.raises(TypeError, match="'Dfun' argument 'my_jac'.Shape should "
                           r"be \(30, 3\) but it is \(3, 30\)"):
            minpack.curve_fit(exp_model, X1, Y1, jac=my_jac, sigma=sigma)


def test_exception_in_model_propagates():
    """An exception in the model is re-raised unchanged."""
    class Boom(Exception):
        pass

    def model(x, a):
        raise Boom("from the model")

    with pytest.raises(Boom, match="from the model"):
        minpack.curve_fit(model, X1, Y1)


@pytest.mark.parametrize("kw", [
    {"method": "trf"}, {"method": "dogbox"}, {"method": "trf", "bounds": (0, 10)},
    {"method": "trf", "bounds": ([-np.inf, 0, -np.inf], np.inf)},
    {"method": "dogbox", "bounds": scipy.optimize.Bounds([0] * 3, [10] * 3)},
    {"method": "trf", "jac": "3-point"},
    {"method": "dogbox", "jac": "cs", "bounds": (0, 10)},
    {"jac": "2-point", "bounds": (0, 10)},
    {"bounds": (0, 10), "loss": "soft_l1"}, {"bounds": (0, 10), "max_nfev": 50},
], ids=["trf", "dogbox", "trf-bounds", "trf-one-bound", "dogbox-Bounds", "trf-3-point",
        "dogbox-cs", "2-point-bounds", "bounds-loss", "bounds-max_nfev"])
def test_scipy_methods_run_scipys_code(kw, monkeypatch):
    """trf, dogbox and string jac schemes are SciPy's fits, bounded or not,
    and so are bounded fits given options of least_squares (loss, max_nfev,
    ...: SciPy's 'trf' takes them). Bounds alone run here (test_bounds.py).

    Also when the program has replaced scipy.optimize.curve_fit by ours (a
    common way to switch): ours then still reaches SciPy's implementation
    instead of calling itself.
    """
    ref = scipy.optimize.curve_fit(exp_model, X1, Y1, full_output=True, **kw)
    monkeypatch.setattr(scipy.optimize, "curve_fit", minpack.curve_fit)
    ours = minpack.curve_fit(exp_model, X1, Y1, full_output=True, **kw)
    for a, b in zip(ours[:3], ref[:3], strict=True):  # popt, pcov, infodict
        if isinstance(a, dict):
            assert a.keys() == b.keys()
            assert all(np.array_equal(a[k], b[k]) for k in a)
        else:
            assert np.array_equal(a, b)
    assert ours[3:] == ref[3:]


def test_bounds_with_lm_run_here():
    """method='lm' with a finite bound, where SciPy raises, is our bounded
    fit: the same as method None (SciPy would pick 'trf' there)."""
    with pytest.raises(ValueError, match="Method 'lm' only works for "
                       "unconstrained problems. Use 'trf' or 'dogbox' instead."):
        scipy.optimize.curve_fit(exp_model, X1, Y1, p0=[1, 1, 1], method="lm",
                                 bounds=(0, 10))
    lm = minpack.curve_fit(exp_model, X1, Y1, p0=[1, 1, 1], method="lm", bounds=(0, 10))
    default = minpack.curve_fit(exp_model, X1, Y1, p0=[1, 1, 1], bounds=(0, 10))
    assert all(np.array_equal(a, b) for a, b in zip(lm, default, strict=True))


@pytest.mark.parametrize("kw", [{"method": "trf"}, {"method": "trf", "bounds": (0, 1)},
                                {"jac": "2-point"}], ids=["trf", "trf-bounds", "jac"])
def test_scipy_methods_without_scipy(kw, monkeypatch):
    """Without SciPy, SciPy's methods raise an ImportError saying so."""
    monkeypatch.setitem(sys.modules, "scipy.optimize._minpack_py", None)
    with pytest.raises(ImportError, match=r"is provided by SciPy, which is not "
                       r"installed.*pip install scipy"):
        minpack.curve_fit(exp_model, X1, Y1, **kw)


def test_string_jac_with_lm_is_scipys_failure():
    """A string jac with 'lm' is handed to SciPy, which fails as it does."""
    for fit in (minpack.curve_fit, scipy.optimize.curve_fit):
        with pytest.raises(TypeError, match="'str' object is not callable"):
            fit(exp_model, X1, Y1, jac="2-point")


@pytest.mark.parametrize("bounds", [
    (-np.inf, np.inf), ([-np.inf] * 3, [np.inf] * 3),
    scipy.optimize.Bounds(-np.inf, np.inf),
], ids=["scalars", "arrays", "Bounds"])
def test_infinite_bounds_are_no_bounds(bounds):
    """All-infinite bounds are accepted."""
    ours = minpack.curve_fit(exp_model, X1, Y1, p0=[1, 1, 1], bounds=bounds,
                             method="lm")
    ref = scipy.optimize.curve_fit(exp_model, X1, Y1, p0=[1, 1, 1])
    assert np.array_equal(ours[0], ref[0])


@pytest.mark.parametrize("ydata", [np.ones((2, 30)), np.ones((30, 1))],
                         ids=["2x30", "30x1"])
def test_ydata_must_be_1d(ydata):
    """Ydata that is not 1-D raises a clear ValueError."""
    with pytest.raises(ValueError, match="ydata must be a 1-D array"):
        minpack.curve_fit(exp_model, X1, ydata)


@pytest.mark.parametrize("kw", [{}, {"sigma": 0.5}, {"sigma": [0.5]},
                                {"sigma": 0.5, "absolute_sigma": True}, {"jac": True}],
                         ids=["plain", "sigma", "sigma-1", "absolute", "jac"])
def test_scalar_ydata_is_broadcast(kw):
    """A scalar ydata is one value for every data point, as in SciPy."""
    target = exp_model(X1, 2.5, 1.3, 0.5)

    def model(x, a, b, c):
        return exp_model(x, a, b, c) - target

    def jac(x, a, b, c):
        e = np.exp(-b * x)
        return np.column_stack([e, -a * x * e, np.ones_like(x)])

    if kw.get("jac"):
        kw = dict(kw, jac=jac)
    ours = minpack.curve_fit(model, X1, 0.1, p0=[1, 1, 1], full_output=True, **kw)
    ref = scipy.optimize.curve_fit(model, X1, 0.1, p0=[1, 1, 1], full_output=True, **kw)
    assert np.array_equal(ours[0], ref[0])                 # MINPACK's arithmetic
    assert np.array_equal(ours[2]["fvec"], ref[2]["fvec"])
    assert ours[2]["nfev"] == ref[2]["nfev"] and ours[4] == ref[4]
    # pcov: SciPy's LAPACK inverse against our Fortran one, to rounding
    np.testing.assert_allclose(ours[1], ref[1], rtol=1e-13)


def test_scalar_ydata_with_several_sigmas():
    """A scalar ydata takes a single sigma only."""
    with pytest.raises(ValueError, match="`sigma` has incorrect shape."):
        minpack.curve_fit(exp_model, X1, 0.0, sigma=[1.0, 2.0])


def test_model_output_shape_is_checked():
    """A model output of the wrong shape raises clearly."""
    with pytest.raises(ValueError, match=r"one value per data point.*\(30, 30\)"):
        minpack.curve_fit(lambda x, a: (a * x)[:, None], X1, Y1)


@pytest.mark.parametrize("case", ["rank-deficient", "m-equals-n"])
def test_covariance_warning_is_scipys_when_scipy_is_loaded(case):
    """The warning is SciPy's class once SciPy is imported."""
    if case == "rank-deficient":
        args = (lambda x, a, b: a * x + 0 * b, X1, Y1)
    else:
        args = (exp_model, X1[:3], Y1[:3])
    results = []
    for fit in (scipy.optimize.curve_fit, minpack.curve_fit):
        with pytest.warns(scipy.optimize.OptimizeWarning,
                          match="Covariance of the parameters could not be estimated"
                          ) as record:
            results.append(fit(*args, full_output=True))
        assert len(record) == 1 and record[0].filename == __file__
    ref, ours = results
    assert np.all(np.isinf(ours[1])) and ours[1].shape == ref[1].shape
    assert np.array_equal(ours[0], ref[0]) and ours[4] == ref[4]


def test_no_warning_for_m_equals_n_with_absolute_sigma():
    """M == N with absolute_sigma gives a finite pcov."""
    ref, ours = _both(exp_model, X1[:3], Y1[:3], absolute_sigma=True, full_output=True)
    _assert_same_fit(ours, ref)
    assert np.all(np.isfinite(ours[1]))


def test_own_warning_class_without_scipy(tmp_path):
    """Without SciPy the warning is minpack.OptimizeWarning."""
    code = textwrap.dedent("""
        import sys, warnings
        import numpy as np
        import minpack
        assert "scipy" not in sys.modules, "import minpack imported scipy"
        assert issubclass(minpack.OptimizeWarning, UserWarning)
        x = np.linspace(0.0, 4.0, 20)
        def model(x, a, b):
            return a * x + 0 * b
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            popt, pcov = minpack.curve_fit(model, x, 2 * x + 1)
        assert [r.category for r in w] == [minpack.OptimizeWarning], w
        message = "Covariance of the parameters could not be estimated"
        assert str(w[0].message) == message
        assert np.all(np.isinf(pcov))
        assert "scipy" not in sys.modules, "curve_fit imported scipy"
        import scipy.optimize
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            minpack.curve_fit(model, x, 2 * x + 1)
        assert [r.category for r in w] == [scipy.optimize.OptimizeWarning], w
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# ---------------------------------------------------------------------------
# No repeated evaluations
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kw", [
    {}, {"sigma": SIGMA1}, {"sigma": np.diag(SIGMA1**2)}, {"jac": exp_jac},
    {"jac": exp_jac, "sigma": SIGMA1}, {"p0": [2.0, 1.0, 0.0]},
], ids=["fd", "fd-sigma1d", "fd-sigma2d", "jac", "jac-sigma1d", "p0"])
def test_model_calls_equal_nfev(kw):
    """The model is called nfev times and jac njev times."""
    counts = {"f": 0, "jac": 0}

    def model(x, a, b, c):
        counts["f"] += 1
        return exp_model(x, a, b, c)

    if "jac" in kw:
        user_jac = kw["jac"]

        def counting_jac(x, a, b, c):
            counts["jac"] += 1
            return user_jac(x, a, b, c)

        kw = {**kw, "jac": counting_jac}
    *_, info, _, _ = minpack.curve_fit(model, X1, Y1, full_output=True, **kw)
    assert counts["f"] == info["nfev"]
    assert counts["jac"] == info.get("njev", 0)


# ---------------------------------------------------------------------------
# The residual computed in C (ModelResidual through the trampoline)
# ---------------------------------------------------------------------------

T_EXP = np.linspace(0.0, 4.0, 30)
Y_EXP = 2.5 * np.exp(-1.3 * T_EXP) + 0.5 + 0.01 * np.sin(7.0 * T_EXP)


class _Sub(np.ndarray):
    """An ndarray subclass: the C shortcut leaves it to NumPy."""


# How the model hands back its values: the first two are taken in C, the
# others go through NumPy (ModelResidual.finish); all must fit identically.
OUTPUT_KINDS = {
    "float64": lambda v: v,
    "float64 strided": lambda v: np.repeat(v, 2)[::2],
    "float32": lambda v: v.astype(np.float32),
    "list": lambda v: v.tolist(),
    "subclass": lambda v: v.view(_Sub),
    "big-endian": lambda v: v.astype(">f8"),
}


@pytest.mark.parametrize("sigma", [None, 0.5, "1-D"], ids=["unweighted", "scalar", "1-D"])
@pytest.mark.parametrize("kind", OUTPUT_KINDS, ids=OUTPUT_KINDS.keys())
def test_model_output_kinds_match_scipy(kind, sigma, monkeypatch):
    from minpack._contexts import ModelResidual

    convert = OUTPUT_KINDS[kind]
    calls = []
    finished = []
    real_finish = ModelResidual.finish

    def counting_finish(self, value):
        finished.append(1)
        return real_finish(self, value)

    monkeypatch.setattr(ModelResidual, "finish", counting_finish)

    def f(t, a, k, c):
        calls.append(type(a))
        return convert(a * np.exp(-k * t) + c)

    if sigma == "1-D":
        sigma = 0.01 + 0.02 * T_EXP
    ours = minpack.curve_fit(f, T_EXP, Y_EXP, p0=[1.0, 1.0, 0.0], sigma=sigma,
                             full_output=True)
    assert set(calls) == {np.float64}  # parameters arrive as NumPy scalars
    # NumPy does the residual for the first call (Python's), and for every
    # call unless the output is a plain float64 vector
    in_c = kind in ("float64", "float64 strided")
    assert len(finished) == (1 if in_c else len(calls))
    monkeypatch.undo()
    ref = scipy.optimize.curve_fit(f, T_EXP, Y_EXP, p0=[1.0, 1.0, 0.0], sigma=sigma,
                                   full_output=True)
    np.testing.assert_array_equal(ours[0], ref[0])
    # SciPy's pcov comes out of a BLAS matrix product, rounded by CPU kernel
    # (support.oracle): a few ulps, not bit for bit
    assert_cov_close(ours[1], ref[1], what="pcov")
    np.testing.assert_array_equal(ours[2]["fvec"], ref[2]["fvec"])
    assert ours[2]["nfev"] == ref[2]["nfev"]


def test_model_residual_warnings_are_numpys():
    """inf - inf in the residual: NumPy's warning, as with SciPy."""

    def f(t, a):
        out = a * t
        out[0] = np.inf
        return out

    y = T_EXP.copy()
    y[0] = np.inf
    for fit in (minpack.curve_fit, scipy.optimize.curve_fit):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:  # NaN residuals at p0: a ValueError (minpack); SciPy's fit
                # fails, or ends without a covariance
                fit(f, T_EXP, y, p0=[2.0], check_finite=False, maxfev=20)
            except (RuntimeError, ValueError):
                pass
        messages = {str(w.message) for w in caught if w.category is RuntimeWarning}
        assert "invalid value encountered in subtract" in messages, fit


def test_model_residual_honours_numpy_errstate():
    """A weighted residual that underflows raises under errstate(under='raise')."""

    def f(t, a):
        return a * 1e-300 * np.ones_like(t)

    for fit in (minpack.curve_fit, scipy.optimize.curve_fit):
        with np.errstate(under="raise"):
            with pytest.raises(FloatingPointError, match="underflow"):
                fit(f, T_EXP, np.zeros_like(T_EXP), p0=[1.0], sigma=np.full(30, 1e10))
        # without the errstate the same fit runs (no covariance: a warning)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            popt, _ = fit(f, T_EXP, np.zeros_like(T_EXP), p0=[1.0],
                          sigma=np.full(30, 1e10))
        assert np.isfinite(popt).all()


def test_model_residual_is_callable_like_scipys_residual():
    from minpack._contexts import ModelResidual

    w = np.full(30, 2.0)
    r = ModelResidual(lambda t, a, b: a * t + b, T_EXP, Y_EXP, w)
    p = np.array([1.5, -0.5])
    np.testing.assert_array_equal(r(p), w * ((1.5 * T_EXP - 0.5) - Y_EXP))
    with pytest.raises(ValueError, match="one value per data point"):
        r.finish(np.ones((30, 1)))  # broadcasts to (30, 30)


JAC_KINDS = {
    "float64": (False, lambda J: J),
    "list": (False, lambda J: J.tolist()),
    "float32": (False, lambda J: J.astype(np.float32)),
    "Fortran order": (False, np.asfortranarray),
    "col_deriv": (True, lambda J: np.ascontiguousarray(J.T)),
}


@pytest.mark.parametrize("sigma", [None, "1-D"], ids=["unweighted", "1-D"])
@pytest.mark.parametrize("kind", JAC_KINDS, ids=JAC_KINDS.keys())
def test_model_jacobian_kinds_match_scipy(kind, sigma):
    """The Jacobian route (called from C when unweighted) gives SciPy's fit."""
    col_deriv, convert = JAC_KINDS[kind]
    kinds = []

    def f(t, a, k, c):
        return a * np.exp(-k * t) + c

    def jac(t, a, k, c):
        kinds.append(type(a))
        e = np.exp(-k * t)
        return convert(np.column_stack([e, -a * t * e, np.ones_like(t)]))

    if sigma == "1-D":
        sigma = 0.01 + 0.02 * T_EXP
    kw = dict(p0=[1.0, 1.0, 0.0], jac=jac, sigma=sigma, full_output=True,
              col_deriv=col_deriv)
    ours = minpack.curve_fit(f, T_EXP, Y_EXP, **kw)
    assert set(kinds) == {np.float64}
    if col_deriv and sigma is not None:
        # SciPy cannot weight a transposed Jacobian (a broadcasting error);
        # here it is weighted column-wise and fits as the untransposed one
        kw.update(col_deriv=False, jac=lambda t, *p: np.ascontiguousarray(jac(t, *p).T))
        ref = minpack.curve_fit(f, T_EXP, Y_EXP, **kw)
    else:
        ref = scipy.optimize.curve_fit(f, T_EXP, Y_EXP, **kw)
    np.testing.assert_array_equal(ours[0], ref[0])
    if col_deriv and sigma is not None:  # our own pcov: the same Fortran
        np.testing.assert_array_equal(ours[1], ref[1])
    else:  # SciPy's pcov went through BLAS (support.oracle): a few ulps
        assert_cov_close(ours[1], ref[1], what="pcov")
    assert (ours[2]["nfev"], ours[2]["njev"]) == (ref[2]["nfev"], ref[2]["njev"])


def test_model_returning_none_is_an_error_as_in_scipy():
    calls = [0]

    def f(x, a, b):
        calls[0] += 1
        return None if calls[0] > 1 else a * x + b

    x = np.arange(5.0)
    refcount = sys.getrefcount(None)
    with pytest.raises(TypeError, match="unsupported operand"):
        minpack.curve_fit(f, x, 2 * x + 1, p0=[1.0, 1.0])
    calls[0] = 0
    with pytest.raises(TypeError, match="unsupported operand"):
        scipy.optimize.curve_fit(f, x, 2 * x + 1, p0=[1.0, 1.0])
    # no reference to None leaked per call (a few may come and go meanwhile)
    assert sys.getrefcount(None) - refcount < 50


def test_weighted_residual_underflowing_to_zero_honours_errstate():
    """w * d rounding to 0 is an underflow: NumPy's errstate decides."""

    def f(x, a):
        return a * np.full(x.shape, 1e-300)

    x, y, sigma = np.arange(5.0), np.full(5, 1e-300), np.full(5, 1e300)
    for fit in (minpack.curve_fit, scipy.optimize.curve_fit):
        with np.errstate(under="raise"):
            with pytest.raises(FloatingPointError, match="underflow"):
                fit(f, x, y, p0=[1.5], sigma=sigma)


def test_covariance_overflow_warns_as_scipy():
    from minpack._curve_fit import _scaled_covariance

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _scaled_covariance(np.eye(1), np.array([1e200, 1e200]), 1, False)
        np.sum(np.array([1e200, 1e200]) ** 2)  # SciPy's expression
    messages = [str(w.message) for w in caught]
    assert messages == ["overflow encountered in square"] * 2
