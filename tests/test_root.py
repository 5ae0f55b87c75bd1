"""``minpack.root`` against ``scipy.optimize.root``.

'hybr' runs our hybrd/hybrj (through fsolve), on the fourteen systems of
MINPACK-1's equations test set at the driver's three starts, and 'lm' our
lmdif/lmder (through leastsq), on the curve-fitting and MGH problems of the
least-squares registry, with and without the Jacobian. What MINPACK
computes must be SciPy's bit for bit: ``x``, ``fun``, ``status``,
``message``, ``njev``, ``fjac``, ``r``, ``qtf``, ``ipvt`` (for 'lm' on the
problems the registry calls well conditioned; on the others the outcome and
the residual norm); ``cov_x`` is SciPy's LAPACK inverse against our Fortran
one, compared to rtol 1e-13.
``nfev`` counts the calls of `fun`, in both: SciPy's also counts the calls it
makes at `x0` before MINPACK's first evaluation (two, for 'hybr' and 'lm'),
which ours does not make.

The other tests pin the options, the warnings, ``jac=True`` and the
hand-over of the other methods to SciPy.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
import scipy.optimize
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.equations import CASES, Case
from support.oracle import assert_cov_close
from support.problems import Problem, select

import minpack

EXACT = ("x", "fun", "status", "message", "success", "method", "njev", "fjac", "r",
         "qtf", "ipvt")
# SciPy's calls of fun at x0 before MINPACK's first evaluation
SHAPE_CHECKS = {"hybr": 2, "lm": 2}


def _assert_same(ours, ref, method: str, exact_nfev: bool = True):
    assert type(ours) is type(ref)
    assert sorted(ours) == sorted(ref)
    for k in EXACT:
        if ref.status == 0 and k in ("fjac", "r", "qtf", "ipvt"):
            continue  # improper input: SciPy hands out its buffers uninitialised
        if k in ref:
            if isinstance(ref[k], np.ndarray):
                assert np.array_equal(ours[k], ref[k], equal_nan=True), k
                assert ours[k].dtype == ref[k].dtype, k
            else:
                assert ours[k] == ref[k], k
    if ref.get("cov_x") is not None:
        # SciPy inverts R with LAPACK, we in Fortran: equal to the rounding of
        # a matrix product (OpenBLAS rounds by CPU kernel)
        assert_cov_close(ours.cov_x, ref.cov_x, what="cov_x")
    else:
        assert ours.get("cov_x", None) is None
    if exact_nfev:
        assert ours.nfev == ref.nfev - SHAPE_CHECKS[method]
    else:
        assert ours.nfev < ref.nfev


def _counting(func):
    calls = []

    def counted(x, *args):
        calls.append(1)
        return func(x, *args)

    return counted, calls


def _solve_both(fun, x0, method, **kw):
    results = []
    for solver in (scipy.optimize.root, minpack.root):
        counted, calls = _counting(fun)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow far out
            res = solver(counted, np.array(x0, dtype=float), method=method, **kw)
        assert res.nfev == len(calls)  # nfev counts the calls, in both
        results.append(res)
    return results


@pytest.mark.parametrize("with_jac", [False, True], ids=["fd", "jac"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hybr_matches_scipy(case: Case, with_jac: bool):
    """'hybr' on MINPACK-1's equations: SciPy's result on every case."""
    ref, ours = _solve_both(case.eq.func, case.start(), "hybr",
                            jac=case.eq.jac if with_jac else None)
    _assert_same(ours, ref, "hybr")


LM_CASES = [(p, with_jac) for p in select("curve") + select("mgh")
            for with_jac in (False, True) if not with_jac or p.jac is not None]


@pytest.mark.parametrize(("p", "with_jac"), LM_CASES,
                         ids=[f"{p.name}-{'jac' if j else 'fd'}" for p, j in LM_CASES])
def test_lm_matches_scipy(p: Problem, with_jac: bool):
    """'lm' on the least-squares registry: SciPy's result.

    Bit for bit where SciPy reproduces itself under one-ulp perturbations
    (see problems.py), else the outcome and the residual norm.
    """
    ref, ours = _solve_both(p.func, p.start(), "lm", args=p.args,
                            jac=p.jac if with_jac else None)
    if p.well_conditioned or (with_jac and p.dfun_well_conditioned):
        _assert_same(ours, ref, "lm")
    else:
        assert ours.success == ref.success
        if ref.success:
            norm, ref_norm = np.linalg.norm(ours.fun), np.linalg.norm(ref.fun)
            assert norm <= ref_norm * (1 + 1e-6) + 1e-12 * (1 + ref_norm)


def _system(x, a):
    return [x[0] + 0.5 * (x[0] - x[1]) ** 3 - a, 0.5 * (x[1] - x[0]) ** 3 + x[1]]


def _system_jac(x, a):
    d = 1.5 * (x[0] - x[1]) ** 2
    return np.array([[1 + d, -d], [-d, 1 + d]])


def _system_both(x, a):
    return _system(x, a), _system_jac(x, a)


@pytest.mark.parametrize(("method", "kw"), [
    ("hybr", {"tol": 1e-3}), ("hybr", {"options": {"xtol": 1e-4, "factor": 0.5}}),
    ("hybr", {"options": {"maxfev": 4}}), ("hybr", {"options": {"band": (1, 1)}}),
    ("hybr", {"options": {"eps": 1e-6, "diag": [1.0, 2.0]}}),
    ("hybr", {"jac": _system_jac, "options": {"col_deriv": True}}),
    ("hybr", {"jac": True, "fun": _system_both}), ("hybr", {"args": 2.0}),
    ("lm", {"tol": 1e-3}), ("lm", {"options": {"ftol": 1e-3, "gtol": 1e-2}}),
    ("lm", {"options": {"maxiter": 5}}), ("lm", {"options": {"eps": 1e-5}}),
    ("lm", {"jac": _system_jac, "options": {"factor": 1.0, "diag": [1, 3]}}),
    ("lm", {"jac": True, "fun": _system_both}), ("HYBR", {}), ("LM", {}),
], ids=lambda v: v if isinstance(v, str) else repr(v)[:50])
def test_options_match_scipy(method, kw):
    """The options, tol, jac=True, args and the method's case mean SciPy's."""
    kw = {"fun": _system, "x0": [0.0, 0.0], "args": (1.0,), **kw}
    ref = scipy.optimize.root(method=method, **kw)
    ours = minpack.root(method=method, **kw)
    _assert_same(ours, ref, method.lower())


@pytest.mark.parametrize("method", ["hybr", "lm"])
def test_jac_true_evaluates_once_per_point(method):
    """jac=True: fun returns (f, J), called once per point as in SciPy."""
    points = []

    def both(x, a):
        points.append(tuple(x))
        return _system_both(x, a)

    minpack.root(both, [0.0, 0.0], args=(1.0,), jac=True, method=method)
    assert len(points) == len(set(points))


@pytest.mark.parametrize("method", ["hybr", "lm"])
def test_callback_and_unknown_options_warn_as_scipy(method):
    """A callback and unknown options warn with SciPy's texts and classes."""
    caught_by = []
    for solver in (scipy.optimize.root, minpack.root):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            solver(_system, [0.0, 0.0], args=(1.0,), method=method,
                   callback=lambda *a: None, options={"maxiterations": 3, "disp": 1})
        caught_by.append([(w.category, str(w.message), w.filename) for w in caught])
    assert caught_by[1] == caught_by[0]
    assert len(caught_by[0]) == 2 and caught_by[0][0][2] == __file__


@pytest.mark.parametrize("method", ["krylov", "broyden1", "anderson", "df-sane"])
def test_other_methods_are_scipys(method, monkeypatch):
    """SciPy's own methods run SciPy's code.

    Also after the public name was replaced by ours.
    """
    kw = {"args": (1.0,), "method": method, "options": {"maxiter": 50}}
    if method == "df-sane":
        kw["options"] = {"maxfev": 200}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = scipy.optimize.root(_system, [0.5, 0.0], **kw)
        monkeypatch.setattr(scipy.optimize, "root", minpack.root)
        ours = minpack.root(_system, [0.5, 0.0], **kw)
    assert sorted(ours) == sorted(ref)
    assert np.array_equal(ours.x, ref.x) and ours.nfev == ref.nfev


def test_unknown_method():
    """An unknown method: SciPy's ValueError."""
    with pytest.raises(ValueError, match="Unknown solver newton"):
        minpack.root(_system, [0.0, 0.0], args=(1.0,), method="newton")


def test_other_methods_without_scipy(monkeypatch):
    """Without SciPy, its methods raise an ImportError saying so."""
    monkeypatch.setitem(sys.modules, "scipy.optimize._root", None)
    with pytest.raises(ImportError, match=r"root\(method='krylov'\) is provided by "
                       "SciPy, which is not installed"):
        minpack.root(_system, [0.0, 0.0], args=(1.0,), method="krylov")
    # the MINPACK methods need no SciPy
    assert minpack.root(_system, [0.0, 0.0], args=(1.0,)).success


# ---------------------------------------------------------------------------
# Generated inputs, good and bad: SciPy's outcome
# ---------------------------------------------------------------------------

X0S = {"ok": [0.0, 0.0], "ints": [0, 0], "float32": np.zeros(2, np.float32),
       "2-d": [[0.0, 0.0]], "nan": [np.nan, 0.0], "complex": [1j, 0.0],
       "strings": ["a", "b"], "three": [0.0, 0.0, 0.0]}


X0_CHECKED_FIRST = {"nan": ValueError, "complex": TypeError}


def _equations(kind: str):
    def fun(x, a):
        f = np.array(_system(x[:2], a), dtype=float)
        if kind == "list":
            return list(f)
        if kind == "long":
            return np.append(f, 1.0)
        if kind == "scalar":
            return float(f[0])
        if kind == "raises":
            raise ZeroDivisionError("the function's own error")
        return f
    return fun


@settings(max_examples=400, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(method=st.sampled_from(["hybr", "lm"]), x0=st.sampled_from(sorted(X0S)),
       fun=st.sampled_from(["ok", "list", "long", "scalar", "raises"]),
       jac=st.sampled_from([None, "callable", "wrong-shape", True]),
       options=st.dictionaries(
           st.sampled_from(["xtol", "maxfev", "maxiter", "eps", "factor", "diag",
                            "col_deriv", "ftol", "band"]),
           st.sampled_from([0, 1, 5, 1e-3, 0.5, [1.0, 2.0], (1, 0)]),
           max_size=2))
def test_generated_inputs_like_scipy(method, x0, fun, jac, options):
    """Good and spoiled inputs: SciPy's result, or SciPy's exception type."""
    spoiled = ((x0 not in ("ok", "ints", "float32", "2-d")) + (fun != "ok")
               + (jac == "wrong-shape") + bool(options))
    f = _equations(fun)
    if jac is True:
        def f(x, a, g=f):  # noqa: F811 - the pair (value, Jacobian)
            return g(x, a), _system_jac(x, a)
    elif jac == "callable":
        jac = _system_jac
    elif jac == "wrong-shape":
        def jac(x, a):
            return _system_jac(x, a)[:1]
    outcomes = []
    for solver in (scipy.optimize.root, minpack.root):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out = solver(f, X0S[x0], args=(1.0,), method=method, jac=jac,
                             options=dict(options))
            except Exception as exc:  # compared below
                out = exc
        outcomes.append(out)
    ref, ours = outcomes
    if (isinstance(ref, TypeError) and not isinstance(ours, Exception)
            and not isinstance(options.get("col_deriv", 0), int)):
        # SciPy's C layer wants an integer col_deriv; fsolve and leastsq take
        # its truth value (LENIENT in tests/support/fuzz.py)
        assert "integer" in str(ref)
    elif x0 in X0_CHECKED_FIRST:
        # fsolve and leastsq refuse a complex or non-finite x0 at once, naming
        # it (their Raises); SciPy calls fun and fails or fits NaNs later
        assert isinstance(ours, X0_CHECKED_FIRST[x0]) and "x0" in str(ours), ours
    elif isinstance(ref, Exception):
        assert isinstance(ours, Exception), (ref, ours)
        if spoiled >= 2 and type(ours) in (TypeError, ValueError):
            pass  # several bad inputs: fsolve/leastsq check the arguments
            # before calling fun, and may name another one first
        else:
            assert type(ours) is type(ref), (ours, ref)
    else:
        assert not isinstance(ours, Exception), (ref, ours)
        # fewer calls than SciPy's; exactly 2 fewer unless x0 is not float64
        # (then fsolve/leastsq evaluate at x0 once more, see their Notes)
        _assert_same(ours, ref, method, exact_nfev=False)
