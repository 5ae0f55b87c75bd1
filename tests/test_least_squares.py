"""``minpack.least_squares`` against ``scipy.optimize.least_squares``.

``method='lm'`` runs on our lmder with the Jacobian formed by the same
finite-difference formulas as SciPy's (or the user's `jac`), so for every
curve-fitting, MGH and NIST problem of the registry, under each Jacobian
('2-point', '3-point', the analytic one), what MINPACK computes must be
SciPy's bit for bit: ``x``, ``fun``, ``jac``, ``nfev``, ``njev``, ``status``,
``message``. That holds on the problems the registry calls well conditioned
(SciPy reproduces itself under one-ulp perturbations); on the others an
independent MINPACK build may round differently, and only the outcome and
the final cost are compared. ``cost``, ``grad`` and ``optimality`` come from
NumPy dot products (BLAS), compared to rtol 1e-13.

The other tests pin SciPy's options, errors and messages with 'lm', the call
pattern of `fun`, and the hand-over of 'trf' and 'dogbox' to SciPy (also when
``scipy.optimize.least_squares`` has been replaced by ours).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.problems import DATA_MISSING_REASON, Problem, select

import minpack

PROBLEMS = select("curve") + select("mgh") + select("nist")
JACOBIANS = ("2-point", "3-point", "analytic")
EXACT = ("x", "fun", "jac", "nfev", "njev", "status", "message", "success")


def _run(solver, p: Problem, jac: str, seen: list | None = None, **kw):
    """`solver` on `p`; `seen`, when given, records whether a residual vector
    was not finite (NaN or inf) at some point the solver tried."""
    if jac == "analytic":
        jac = p.jac
    func = p.func
    if seen is not None:
        def func(x, *args):
            f = p.func(x, *args)
            if not np.isfinite(f).all():
                seen.append(x.copy())
            return f
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow far from x*
        return solver(func, p.start(), jac=jac, method="lm", args=p.args, **kw)


def _assert_same(ours, ref):
    """Compare MINPACK's numbers bit for bit, BLAS reductions to rounding."""
    assert type(ours) is type(ref)
    assert list(ours) == list(ref)
    for k in EXACT:
        if isinstance(ref[k], np.ndarray):
            assert np.array_equal(ours[k], ref[k], equal_nan=True), k
            assert ours[k].dtype == ref[k].dtype, k
        else:
            assert ours[k] == ref[k], k
        assert type(ours[k]) is type(ref[k]), k
    np.testing.assert_array_equal(ours.active_mask, ref.active_mask)
    assert ours.active_mask.dtype == ref.active_mask.dtype
    # np.dot / J.T.dot go through BLAS, which rounds by CPU kernel
    for k in ("cost", "grad", "optimality"):
        np.testing.assert_allclose(ours[k], ref[k], rtol=1e-13, atol=0, err_msg=k)


CASES = [(p, jac) for p in PROBLEMS for jac in JACOBIANS
         if jac != "analytic" or p.jac is not None]


@pytest.mark.parametrize(("p", "jac"), CASES,
                         ids=[f"{p.name}-{jac}" for p, jac in CASES])
def test_lm_matches_scipy(p: Problem, jac: str):
    """Registry problems: SciPy's result (see the module docstring)."""
    nonfinite: list = []
    ref = _run(scipy.optimize.least_squares, p, jac, nonfinite)
    ours = _run(minpack.least_squares, p, jac)
    strict = p.well_conditioned or (jac == "analytic" and p.dfun_well_conditioned)
    if nonfinite:
        # SciPy's MINPACK met NaN or inf residuals at a trial point; ours takes
        # such a point for a failed step (a deliberate difference), so the
        # paths part there: ours must end no worse
        assert ours.success or not ref.success
        if ref.success or ours.success:
            assert ours.cost <= ref.cost * (1 + 1e-6) + 1e-12 * (1 + ref.cost)
    elif strict:
        _assert_same(ours, ref)
    else:
        # rounding may take another path: the outcome and the cost must hold up
        assert ours.success == ref.success
        if ref.success:
            assert ours.cost <= ref.cost * (1 + 1e-6) + 1e-12 * (1 + ref.cost)
        else:
            assert ours.status == ref.status  # stopped for the same reason


def test_registry_is_there():
    """The MGH and NIST problems are part of the comparison."""
    if DATA_MISSING_REASON:
        pytest.skip(DATA_MISSING_REASON)
    assert len(select("mgh")) == 53 and len(select("nist")) == 54


def _exp_residuals(p, t, y):
    return p[0] * np.exp(p[1] * t) - y


def _exp_jac(p, t, y):
    e = np.exp(p[1] * t)
    return np.column_stack([e, p[0] * t * e])


T = np.linspace(0.0, 2.0, 15)
Y = 2.0 * np.exp(-1.3 * T) + 0.01 * np.sin(9 * T)


def _complex_ok(p):
    """Residuals that take a complex x, for jac='cs' (no abs, no conj)."""
    return p[0] * np.exp(p[1] * T) - Y


@pytest.mark.parametrize("kw", [
    {}, {"jac": _exp_jac}, {"jac": "3-point"}, {"x_scale": "jac"},
    {"x_scale": [1.0, 3.0]}, {"x_scale": 2.0}, {"x_scale": 0.5, "jac": _exp_jac},
    {"diff_step": 1e-3}, {"diff_step": [1e-4, 1e-6]}, {"max_nfev": 3},
    {"max_nfev": 2, "jac": _exp_jac}, {"ftol": 1e-3, "xtol": 1e-3, "gtol": 1e-3},
    {"ftol": None, "xtol": 1e-10}, {"kwargs": {}},
], ids=["default", "jac", "3-point", "x_scale-jac", "x_scale-array", "x_scale-scalar",
        "x_scale-with-jac", "diff_step", "diff_step-array", "max_nfev",
        "max_nfev-jac", "loose", "ftol-None", "kwargs"])
def test_lm_options_match_scipy(kw):
    """x_scale, diff_step, max_nfev and the tolerances mean what SciPy's do."""
    results = []
    for solver in (scipy.optimize.least_squares, minpack.least_squares):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                res = solver(_exp_residuals, [1.0, 0.0], method="lm", args=(T, Y), **kw)
            except ValueError as exc:
                res = exc
        results.append((res, [(w.category, str(w.message)) for w in caught]))
    (ref, ref_warnings), (ours, our_warnings) = results
    assert our_warnings == ref_warnings
    if isinstance(ref, Exception):
        assert type(ours) is type(ref) and str(ours) == str(ref)
    else:
        _assert_same(ours, ref)


def test_lm_complex_step_matches_scipy():
    """jac='cs': the imaginary part of a complex step, as SciPy."""
    ref = scipy.optimize.least_squares(_complex_ok, [1.0, 0.0], jac="cs", method="lm")
    ours = minpack.least_squares(_complex_ok, [1.0, 0.0], jac="cs", method="lm")
    _assert_same(ours, ref)


def test_lm_float32_residuals_match_scipy():
    """float32 residuals: SciPy's wider difference step, the same numbers."""
    def f32(p):
        return _exp_residuals(p, T, Y).astype(np.float32)

    ref = scipy.optimize.least_squares(f32, [1.0, 0.0], method="lm")
    ours = minpack.least_squares(f32, [1.0, 0.0], method="lm")
    _assert_same(ours, ref)


def test_lm_calls_fun_where_scipy_does():
    """Call fun and jac at SciPy's points, in SciPy's order."""
    logs = []
    for solver in (scipy.optimize.least_squares, minpack.least_squares):
        log = []

        def fun(p, log=log):
            log.append(("f", p.tolist()))
            return _exp_residuals(p, T, Y)

        def jac(p, log=log):
            log.append(("J", p.tolist()))
            return _exp_jac(p, T, Y)

        solver(fun, [1.0, 0.0], method="lm")
        solver(fun, [1.0, 0.0], jac=jac, method="lm")
        logs.append(log)
    assert logs[0] == logs[1]
    assert len(logs[0]) > 10


def test_lm_verbose_prints_scipys_report(capsys):
    """verbose=1 prints SciPy's termination report."""
    scipy.optimize.least_squares(_exp_residuals, [1.0, 0.0], method="lm",
                                 args=(T, Y), verbose=1)
    ref = capsys.readouterr().out
    minpack.least_squares(_exp_residuals, [1.0, 0.0], method="lm", args=(T, Y),
                          verbose=1)
    assert capsys.readouterr().out == ref
    assert "Function evaluations" in ref


def test_lm_workers_map():
    """A map-like `workers` runs the difference evaluations, as in SciPy."""
    counts = []
    results = []
    for solver in (scipy.optimize.least_squares, minpack.least_squares):
        calls = []

        def workers(f, xs, calls=calls):
            calls.append(1)
            return map(f, xs)

        results.append(solver(_exp_residuals, [1.0, 0.0], method="lm", args=(T, Y),
                              workers=workers))
        counts.append(len(calls))
    _assert_same(results[1], results[0])
    assert counts[1] == counts[0] > 1


def test_lm_callback_warns_and_is_not_called():
    """'lm' takes no callback: SciPy's warning, and it is never called."""
    def callback(*a):
        raise AssertionError("called")

    with pytest.warns(UserWarning, match="Callback function specified, but not "
                      "supported with `lm` method."):
        res = minpack.least_squares(_exp_residuals, [1.0, 0.0], method="lm",
                                    args=(T, Y), callback=callback)
    assert res.success


def _one(x):
    return np.array([x[0] - 1.0, x[1] + 2.0, x[0] * x[1]])


@pytest.mark.parametrize("kw", [
    {"method": "newton"}, {"jac": "4-point"}, {"tr_solver": "qr"},
    {"loss": "l1"}, {"loss": "soft_l1"}, {"loss": lambda z: z}, {"verbose": 3},
    {"max_nfev": 0}, {"x0": [1j, 0]}, {"x0": [[1.0, 2.0]]},
    {"bounds": (0, 1, 2)}, {"bounds": ([-np.inf] * 3, np.inf)},
    {"bounds": ([-np.inf] * 3, [np.inf] * 3)}, {"x_scale": -1.0}, {"x_scale": "auto"},
    {"x_scale": [1.0, 2.0, 3.0]}, {"ftol": 1e-20}, {"gtol": None},
    {"fun": lambda x: x[:1]}, {"fun": lambda x: np.array([np.nan, 1.0])},
    {"fun": lambda x: np.ones((2, 2))}, {"jac": lambda x: np.ones((2, 2))},
    {"jac": lambda x: scipy.sparse.csr_array(np.ones((3, 2)))},
    {"jac_sparsity": np.ones((3, 2))}, {"x0": [np.nan, 0.0]},
], ids=lambda kw: repr(kw)[:40])
def test_lm_errors_match_scipy(kw):
    """Bad arguments with 'lm': SciPy's exception, message and warnings."""
    kw = {"fun": _one, "x0": [0.0, 0.0], "method": "lm", **kw}
    outcomes = []
    for solver in (scipy.optimize.least_squares, minpack.least_squares):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(Exception) as info:
                solver(**kw)
        outcomes.append((type(info.value), str(info.value),
                         [(w.category, str(w.message)) for w in caught]))
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("bounds", [
    (0, 10), ([-np.inf, 0], np.inf), scipy.optimize.Bounds([-1, 0], [1, 10]),
], ids=["scalars", "one-bound", "Bounds"])
def test_lm_with_bounds_runs_where_scipy_refuses(bounds):
    """Finite bounds with 'lm': SciPy's ValueError there, the bounded fit
    here, the same as leastsq(bounds=...) on the same residuals."""
    with pytest.raises(ValueError, match="Method 'lm' doesn't support bounds."):
        scipy.optimize.least_squares(_one, [0.5, 0.5], method="lm", bounds=bounds)
    res = minpack.least_squares(_one, [0.5, 0.5], method="lm", bounds=bounds)
    lb, ub = ((bounds.lb, bounds.ub) if isinstance(bounds, scipy.optimize.Bounds)
              else bounds)
    assert np.all(res.x >= lb) and np.all(res.x <= ub)
    assert res.success and res.active_mask.shape == (2,)
    on_lower = res.x == np.broadcast_to(lb, 2)
    assert np.array_equal(res.active_mask == -1, on_lower)


@pytest.mark.parametrize("kw", [
    {"method": "trf"}, {"method": "dogbox"}, {"bounds": (-5.0, 5.0)},
    {"method": "dogbox", "bounds": ([0, -5], [5, 0])},
    {"loss": "soft_l1", "f_scale": 0.1}, {"jac": _exp_jac, "x_scale": "jac"},
], ids=["trf", "dogbox", "trf-bounds", "dogbox-bounds", "soft_l1", "jac"])
def test_scipy_methods_run_scipys_code(kw, monkeypatch):
    """'trf' and 'dogbox' are SciPy's, also after the public name was replaced."""
    ref = scipy.optimize.least_squares(_exp_residuals, [1.0, -0.5], args=(T, Y), **kw)
    monkeypatch.setattr(scipy.optimize, "least_squares", minpack.least_squares)
    ours = minpack.least_squares(_exp_residuals, [1.0, -0.5], args=(T, Y), **kw)
    assert list(ours) == list(ref)
    for k in ref:
        assert np.array_equal(ours[k], ref[k]), k


def test_scipy_methods_without_scipy(monkeypatch):
    """Without SciPy, 'trf' raises an ImportError saying SciPy provides it."""
    monkeypatch.setitem(sys.modules, "scipy.optimize._lsq.least_squares", None)
    with pytest.raises(ImportError, match=r"least_squares\(method='trf'\) is "
                       "provided by SciPy, which is not installed"):
        minpack.least_squares(_exp_residuals, [1.0, 0.0], args=(T, Y))


def test_replaced_private_name_is_reported(monkeypatch):
    """A program that replaced SciPy's private function gets a clear error."""
    private = sys.modules["scipy.optimize._lsq.least_squares"]  # the module
    monkeypatch.setattr(private, "least_squares", minpack.least_squares)
    with pytest.raises(RuntimeError, match="replaced by minpack's own function"):
        minpack.least_squares(_exp_residuals, [1.0, 0.0], args=(T, Y))


def test_lm_without_scipy():
    """'lm' needs no SciPy: minpack's OptimizeResult, SciPy never imported."""
    code = textwrap.dedent("""
        import sys
        sys.modules["scipy"] = None  # any import of SciPy fails
        import numpy as np
        import minpack
        t = np.linspace(0, 1, 10)
        res = minpack.least_squares(lambda p: p[0] * np.exp(p[1] * t) - 2 * np.exp(-t),
                                    [1.0, 0.0], method="lm")
        assert type(res) is minpack.OptimizeResult, type(res)
        assert res.success and np.allclose(res.x, [2, -1]), res
        print(res.status, sorted(res))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split(" ", 1)[1].strip() == str(sorted(
        ["x", "cost", "fun", "jac", "grad", "optimality", "active_mask", "nfev",
         "njev", "status", "message", "success"]))


def test_optimize_result_repr_and_attributes():
    """minpack.OptimizeResult: attribute access, a readable repr."""
    res = minpack.OptimizeResult(x=np.array([1.0, 2.0]), success=True, nfev=3)
    assert res.x is res["x"] and res.nfev == 3
    res.status = 1
    assert res["status"] == 1
    with pytest.raises(AttributeError, match="cost"):
        _ = res.cost
    assert repr(res).splitlines()[0].strip().startswith("success: True")
    assert repr(minpack.OptimizeResult()) == "OptimizeResult()"


# ---------------------------------------------------------------------------
# Generated inputs, good and bad: SciPy's outcome
# ---------------------------------------------------------------------------

X0S = {
    "ok": [1.0, 0.0], "ints": [1, 0], "float32": np.array([1.0, 0.0], np.float32),
    "scalar": 1.0, "three": [1.0, 0.0, 0.5], "nan": [np.nan, 0.0], "inf": [np.inf, 0.0],
    "complex": [1 + 1j, 0.0], "2-d": [[1.0, 0.0]], "strings": ["a", "b"],
}


def _model(kind: str):
    """Residuals for x of any length, spoiled in one way (`kind`)."""
    state = {"calls": 0}

    def fun(p):
        state["calls"] += 1
        r = p[0] * np.exp(p[-1] * T) - Y
        if kind == "nan":
            r[0] = np.nan
        elif kind == "list":
            return list(r)
        elif kind == "short-later" and state["calls"] > 2:
            return r[:-1]
        elif kind == "scalar":
            return float(r @ r)
        elif kind == "2-d":
            return r.reshape(3, 5)
        elif kind == "raises":
            raise ZeroDivisionError("the model's own error")
        return r

    return fun


def _jacobian(kind: str, n: int):
    if kind in ("2-point", "3-point"):
        return kind

    def jac(p):
        e = np.exp(p[-1] * T)
        J = np.column_stack([e] * (n - 1) + [p[0] * T * e])
        return J.T if kind == "wrong-shape" else J

    return jac


@settings(max_examples=400, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(x0=st.sampled_from(sorted(X0S)),
       fun=st.sampled_from(["ok", "nan", "list", "short-later", "scalar", "2-d",
                            "raises"]),
       jac=st.sampled_from(["2-point", "3-point", "callable", "wrong-shape"]),
       options=st.dictionaries(
           st.sampled_from(["ftol", "xtol", "max_nfev", "x_scale", "diff_step"]),
           st.sampled_from([None, 0, 1, 2, 1e-3, 1e-20, -1.0, [1.0, 2.0], "jac"]),
           max_size=2))
def test_lm_generated_inputs_like_scipy(x0, fun, jac, options):
    """Good and spoiled inputs: SciPy's result, or SciPy's exception type.

    (Non-finite values during the fit, residuals or Jacobian, are left out:
    how the engine treats them is the engine's, pinned by the leastsq tests;
    a NaN residual at x0 is in, SciPy's ValueError.)
    """
    n = np.size(X0S[x0]) if x0 not in ("2-d", "strings") else 2
    outcomes = []
    for solver in (scipy.optimize.least_squares, minpack.least_squares):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out = solver(_model(fun), X0S[x0], jac=_jacobian(jac, max(n, 1)),
                             method="lm", **options)
            except Exception as exc:  # compared below
                out = exc
        outcomes.append(out)
    ref, ours = outcomes
    if isinstance(ref, Exception):
        assert isinstance(ours, Exception), (ref, ours)
        assert type(ours) is type(ref), (ours, ref)
    else:
        assert not isinstance(ours, Exception), (ref, ours)
        _assert_same(ours, ref)



def test_jacobian_not_finite_is_status_minus_two():
    """A Jacobian with NaN stops the fit with status -2 (SciPy's MINPACK goes
    on with it and reports a convergence)."""
    def fun(x):
        return [x[0] ** 2 - 1, x[0] - 3]

    def jac(x):
        return [[np.nan], [1.0]]

    res = minpack.least_squares(fun, [1.0], jac=jac, method="lm")
    assert (res.status, res.success) == (-2, False)
    assert "not finite" in res.message
    np.testing.assert_array_equal(res.x, [1.0])
