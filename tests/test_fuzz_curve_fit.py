"""Fuzz ``minpack.curve_fit``: generated bad input, compared with SciPy.

The model ``y = f(x, *p)`` with data, weights and options.

The contract checked, the profiles (``HYPOTHESIS_PROFILE``) and the shared
harness: ``support/fuzz.py``.
"""

from __future__ import annotations

import inspect
from collections import Counter
from typing import Any

import numpy as np
import pytest
import scipy.optimize as so
from hypothesis import strategies as st
from support.fuzz import (
    BAD_MAXFEVS,
    BAD_REALS,
    BOOLEANS,
    JACOBIAN_KINDS,
    JACOBIAN_NAMES,
    RESIDUAL_KINDS,
    RESIDUAL_NAMES,
    SAME_NUMBERS,
    SUCCESS,
    Outcome,
    Spec,
    UserCallable,
    WrongArity,
    agree_or_equivalent,
    check_against_scipy,
    check_common,
    draw_problem,
    finite,
    finite_scalar,
    met_nonfinite,
    model_jacobian,
    model_residual,
    norm_of,
    odd_array,
    outcome_label,
    pick,
    rank_deficient,
    run,
    run_fuzz,
    snapshot,
    stateless,
    tame,
    wrong_shape,
)

import minpack

pytestmark = pytest.mark.scipy_oracle  # compared with SciPy: see conftest.py


class CurveModel(UserCallable):
    """``f(x, *p)`` (or ``jac(x, *p)``) for curve_fit, with a signature of
    `n` parameters so that p0=None can be used."""

    def __init__(self, n: int, core: Any, kind: str, start: int, name: str,
                 kinds: dict) -> None:
        super().__init__(core, kind, start, name, kinds)
        params = [inspect.Parameter("x", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        params += [inspect.Parameter(f"p{j}", inspect.Parameter.POSITIONAL_OR_KEYWORD)
                   for j in range(n)]
        self.__signature__ = inspect.Signature(params)

    def __call__(self, x: Any, *p: Any) -> Any:  # type: ignore[override]
        return super().__call__(np.array(p), x)


def curve_value(p: np.ndarray, x: Any) -> Any:
    return model_residual(p, np.asarray(x, dtype=float), 0.0)


def curve_jacobian(p: np.ndarray, x: Any) -> Any:
    return model_jacobian(p, np.asarray(x, dtype=float))


CURVE_MUTATIONS = ("p0", "xdata", "ydata", "sigma", "absolute_sigma", "check_finite",
                   "nan_policy", "method", "bounds", "f", "jac", "kwargs", "arity")
CURVE_MUTATION_LISTS = st.lists(st.sampled_from(CURVE_MUTATIONS), max_size=3)


@st.composite
def curve_fit_cases(draw: Any) -> tuple:
    prob = draw_problem(draw)
    n = prob["n"]
    spec = Spec("curve_fit")
    call: dict = {"xdata": prob["t"], "ydata": prob["y"], "p0": prob["x0"],
                  "full_output": draw(BOOLEANS)}
    behaviour = {"f": ("ok", 1), "jac": None, "arity": None, "n": n}
    if draw(BOOLEANS):
        behaviour["jac"] = ("ok", 1)
    call["maxfev"] = pick(draw, [0, 50, 200])
    for what in draw(CURVE_MUTATION_LISTS):
        mutate_curve_fit(draw, what, spec, call, behaviour, prob)
    tame(spec, call)
    return spec, call, behaviour


def mutate_curve_fit(draw: Any, what: str, spec: Spec, call: dict, behaviour: dict,
                     prob: dict) -> None:
    n, m = prob["n"], prob["m"]
    if what == "p0":
        kind = pick(draw, ["none", "length", "dtype", "empty", "2d", "scalar"])
        if kind == "none":
            call["p0"] = None
            spec.mutate("p0", "none", "p0", clean=True)
        elif kind == "length":
            call["p0"] = np.ones(pick(draw, [n + 1, max(n - 1, 1)]))
            spec.mutate("p0", "length", "p0", "number of func parameters", clean=True)
        elif kind == "empty":
            call["p0"] = []
            spec.mutate("p0", "empty", "p0", clean=True)
        elif kind == "2d":
            call["p0"] = prob["x0"].reshape(1, -1)
            spec.mutate("p0", "2d", "p0", clean=True)
        elif kind == "scalar":
            call["p0"] = pick(draw, [0.5, "a", 1j])
            spec.mutate("p0", "scalar", "p0", "number of func parameters", clean=True)
        else:
            kind, call["p0"] = odd_array(draw, prob["x0"])
            spec.mutate("p0", "dtype", "p0", clean=kind in SAME_NUMBERS)
    elif what in ("xdata", "ydata"):
        base = prob["t"] if what == "xdata" else prob["y"]
        kind = pick(draw, ["shape", "values", "empty", "scalar", "object", "2d"])
        if kind == "shape":
            call[what] = wrong_shape(draw, m)
        elif kind == "empty":
            call[what] = np.zeros(0)
        elif kind == "scalar":
            call[what] = 0.5
        elif kind == "object":
            call[what] = pick(draw, [None, {"x": 1}, "abc", object()])
        elif kind == "2d":
            call[what] = np.vstack([base, base])
        else:
            kind, call[what] = odd_array(draw, base)
        # a wrong xdata or ydata shows up in the model's output, or as
        # numpy's error inside it, or in the finite check
        spec.mutate(what, kind, what, "`ydata`", "model function", "array must not",
                    "Dfun",
                    "number of func parameters", "could not convert",
                    clean=kind in SAME_NUMBERS or kind in ("shape", "empty", "scalar",
                                                           "object", "2d"))
    elif what == "sigma":
        kind = pick(draw, ["scalar", "1d", "2d", "length", "values", "notpd", "3d",
                           "str", "empty"])
        if kind == "scalar":
            call["sigma"] = pick(draw, [2.0, 0.0, -1.0, np.nan])
        elif kind == "1d":
            call["sigma"] = np.linspace(0.5, 2, m)
        elif kind == "2d":
            call["sigma"] = np.diag(np.linspace(0.5, 2, m)) + 0.01
        elif kind == "length":
            call["sigma"] = np.ones(m + 1)
        elif kind == "notpd":
            call["sigma"] = -np.eye(m)
        elif kind == "3d":
            call["sigma"] = np.ones((m, m, 1))
        elif kind == "str":
            call["sigma"] = "sigma"
        elif kind == "empty":
            call["sigma"] = []
        else:
            kind, call["sigma"] = odd_array(draw, np.linspace(0.5, 2, m))
        spec.mutate("sigma", kind, "sigma", "`sigma`", "could not convert",
                    clean=kind in ("1d", "2d", "length", "notpd", "3d", "str", "empty")
                    or kind in SAME_NUMBERS)
    elif what == "absolute_sigma":
        call["absolute_sigma"] = pick(draw, [True, False, 1, None])
        spec.mutate("absolute_sigma", "value", clean=True)
    elif what == "check_finite":
        call["check_finite"] = pick(draw, [True, False, None])
        spec.mutate("check_finite", "value", clean=True)
    elif what == "nan_policy":
        call["nan_policy"] = pick(draw, [None, "raise", "omit", "propagate", "bad"])
        valid = call["nan_policy"] in (None, "raise", "omit")
        spec.mutate("nan_policy", "value" if valid else "invalid", "nan_policy",
                    clean=True)
    elif what == "method":
        call["method"] = pick(draw, [None, "lm", "trf", "dogbox", "bad"])
        spec.mutate("method", str(call["method"]), "method", clean=True)
    elif what == "bounds":
        call["bounds"] = pick(draw, [(-np.inf, np.inf), (0.0, np.inf), (-1.0, 1.0),
                                     "bad", (np.full(n, -np.inf), np.full(n, np.inf))])
        bounded = isinstance(call["bounds"], tuple) and np.isfinite(
            np.asarray(call["bounds"][0], dtype=float)).any()
        spec.mutate("bounds", "finite" if bounded else "value", "bounds", clean=True)
    elif what == "f":
        kind = pick(draw, RESIDUAL_NAMES)
        start = pick(draw, [1, 1, 2, 5])
        behaviour["f"] = (kind, start)
        spec.mutate("f", kind, "model function", "func", "f(xdata", "number of func",
                    "jac", "Dfun", "M=",
                    clean=stateless(kind, start) and finite(kind))
    elif what == "jac":
        kind = pick(draw, JACOBIAN_NAMES)
        start = pick(draw, [1, 1, 2])
        behaviour["jac"] = (kind, start)
        spec.mutate("jac", kind, "jac", "Dfun",
                    clean=stateless(kind, start) and finite(kind))
    elif what == "kwargs":
        key, value = pick(draw, [("maxfev", None), ("ftol", None), ("xtol", None),
                                 ("args", (1,)), ("bogus", 1), ("col_deriv", True),
                                 ("epsfcn", None), ("factor", None)])
        if value is None:
            value = draw(BAD_MAXFEVS if key == "maxfev" else BAD_REALS)
        call[key] = value
        spec.mutate(key, "value", key, "args", clean=finite_scalar(value)
                    or key in ("maxfev", "args", "bogus", "col_deriv"))
    elif what == "arity":
        behaviour["arity"] = pick(draw, [("f", -1), ("jac", -1)])
        spec.mutate("arity", "x", "positional", "argument", "Unable to determine",
                    clean=True)


def build_curve_fit(call: dict, behaviour: dict) -> tuple:
    n = behaviour["n"]
    kind, start = behaviour["f"]
    f = CurveModel(n, curve_value, kind, start, "model", RESIDUAL_KINDS)
    jac = None
    if behaviour["jac"] is not None:
        kind, start = behaviour["jac"]
        core = curve_jacobian
        if call.get("col_deriv"):
            def core(p: Any, x: Any) -> Any:
                return np.ascontiguousarray(curve_jacobian(p, x).T)
        jac = CurveModel(n, core, kind, start, "model_jacobian", JACOBIAN_KINDS)
    callables = [f, jac]
    if behaviour["arity"] is not None:
        which, extra = behaviour["arity"]
        if which == "f":
            callables[0] = WrongArity(f, extra)
        elif jac is not None:
            callables[1] = WrongArity(jac, extra)
    kwargs = dict(call)
    kwargs["jac"] = callables[1]
    return callables, kwargs


def has_finite_bound(call: dict) -> bool:
    bounds = call.get("bounds")
    return isinstance(bounds, tuple) and any(
        np.isfinite(np.asarray(b, dtype=float)).any() for b in bounds)


def handed_to_scipy(call: dict) -> bool:
    """Whether curve_fit hands this fit to SciPy's own implementation
    (bounds alone do not: they run on the bounded LM)."""
    return call.get("method") in ("trf", "dogbox") or isinstance(call.get("jac"), str)


def bounded_here(call: dict) -> bool:
    """A finite bound on our bounded LM (SciPy would pick 'trf' there)."""
    return has_finite_bound(call) and not handed_to_scipy(call) and call.get(
        "method") in (None, "lm")


def compare_bounded(spec: Spec, ours: Outcome, ref: Outcome, call: dict,
                    norm: Any) -> str | None:
    """A bounded fit here against SciPy's unbounded 'lm' fit of the same call
    (SciPy has no bounded LM to compare with; its 'trf' takes other options):
    the result lies in the box, and where SciPy's unbounded optimum lies
    inside it, ours reaches its cost."""
    if ours.raised:
        exc = ours.exc
        if isinstance(exc, ValueError) and "outside of provided bounds" in str(exc):
            return "x0 outside the box"
        return None  # classified by check_common
    popt = ours.value[0]
    lb, ub = (np.broadcast_to(np.asarray(b, dtype=float), popt.shape)
              for b in call["bounds"])
    assert np.all(popt >= lb) and np.all(popt <= ub), (popt, call["bounds"])
    if ref.raised or not spec.clean:
        return None
    rpopt = ref.value[0]
    if np.all(rpopt > lb) and np.all(rpopt < ub):
        ours_cost = float(np.sum(np.square(norm(popt))))
        ref_cost = float(np.sum(np.square(norm(rpopt))))
        assert ours_cost <= ref_cost * (1 + 1e-6) + 1e-20, (ours_cost, ref_cost)
        return "inside the box, SciPy's cost"
    return "bound active"


def check_curve_fit_result(out: Outcome, call: dict, callables: list) -> None:
    if out.raised:
        return
    popt, pcov = out.value[:2]
    n = popt.shape[0]
    assert popt.dtype == np.float64 and popt.ndim == 1
    assert np.isfinite(popt).all(), popt
    assert pcov.shape == (n, n)
    if call.get("full_output"):
        info, mesg, ier = out.value[2:]
        assert ier in SUCCESS
        f = callables[0]
        # SciPy's trf/dogbox count no difference calls in nfev
        if isinstance(f, UserCallable) and not handed_to_scipy(call):
            assert info["nfev"] == f.calls, (info["nfev"], f.calls)


def compare_curve_fit(spec: Spec, ours: Outcome, ref: Outcome, call: dict,
                      norm: Any, nonfinite: bool = False) -> str | None:
    if (ours.raised and not ref.raised and spec.has("sigma")
            and returned_pcov_inf_or_nan(ref)):
        return None  # SciPy "fits" with zero or NaN weights; minpack says it failed
    if (spec.clean and not ref.raised and isinstance(ours.exc, RuntimeError)
            and rank_deficient(norm, ref.value[0])):
        return "different where J loses rank (KNOWN_ISSUES)"
    two_d = np.ndim(call.get("sigma")) == 2
    if two_d and spec.clean and ours.raised != ref.raised and isinstance(
            ours.exc if ours.raised else ref.exc, RuntimeError):
        # 2-D sigma: SciPy solves a triangular system at every evaluation,
        # minpack multiplies by inv(L) (its Notes): equal to rounding, so a
        # fit that ends right at maxfev may end just before it in the other
        return "different rounding with a 2-D sigma (documented)"
    check_against_scipy(spec, ours, ref)
    if ours.raised or ref.raised or not spec.clean:
        return None
    popt, pcov = ours.value[:2]
    rpopt, rpcov = ref.value[:2]
    ier = rier = 1
    if call.get("full_output"):
        ier, rier = ours.value[4], ref.value[4]
    verdict = agree_or_equivalent(popt, rpopt, ier, rier, norm, nonfinite)
    exact = norm_of(norm, rpopt) <= 1e-8 and not call.get("absolute_sigma")
    if verdict == "same" and not exact:
        # (with exact data pcov is the rounding noise of the residuals,
        # ~1e-18: not compared.) Relative to the largest entry: an
        # ill-conditioned pcov holds entries 1e-20 times its largest that
        # are noise; with a 2-D sigma the rounding of inv(L) against SciPy's
        # triangular solve grows with the condition of pcov.
        scale = np.abs(rpcov).max(initial=0.0)
        rtol = 1e-6
        if two_d and np.isfinite(rpcov).all():
            cond = np.linalg.cond(rpcov)
            rtol = max(1e-4, 1e-10 * cond) if np.isfinite(cond) else 1e-4
        np.testing.assert_allclose(pcov, rpcov, rtol=rtol,
                                   atol=1e-9 * scale + 1e-20)
    return verdict


def returned_pcov_inf_or_nan(out: Outcome) -> bool:
    popt, pcov = out.value[:2]
    return not np.isfinite(pcov).all() or not np.isfinite(popt).all()


def curve_norm(call: dict, behaviour: dict) -> Any:
    """The unweighted residual of a curve_fit case (its model as mutated)."""
    def residual(p: np.ndarray) -> Any:
        f = build_curve_fit(call, behaviour)[0][0]
        x = np.asarray(call["xdata"], dtype=float)
        y = np.asarray(call["ydata"], dtype=float)
        return np.asarray(f(x, *p), dtype=float) - y
    return residual


def one_curve_fit_case(case: tuple, tally: Counter) -> None:
    spec, call, behaviour = case
    callables, kwargs = build_curve_fit(call, behaviour)
    inputs = [kwargs.get(k) for k in ("xdata", "ydata", "p0", "sigma")]
    snap = snapshot(inputs)
    ours = run(minpack.curve_fit, callables[0], **kwargs)
    ref_callables, ref_kwargs = build_curve_fit(call, behaviour)
    if bounded_here(kwargs):  # the reference: SciPy's lm without the bounds
        ref_kwargs = {k: v for k, v in ref_kwargs.items() if k not in ("bounds",
                                                                       "method")}
    ref = run(so.curve_fit, ref_callables[0], **ref_kwargs)
    check_common(spec, ours, callables, inputs, snap, ref)
    check_curve_fit_result(ours, kwargs, callables)
    if bounded_here(kwargs):
        verdict = compare_bounded(spec, ours, ref, kwargs, curve_norm(call, behaviour))
    else:
        verdict = compare_curve_fit(spec, ours, ref, kwargs, curve_norm(call, behaviour),
                                    met_nonfinite(*callables, *ref_callables))
    tally[outcome_label(ours)] += 1
    if verdict:
        tally[f"clean, {verdict} as SciPy"] += 1


def test_fuzz_curve_fit(report: Any) -> None:
    run_fuzz(curve_fit_cases(), one_curve_fit_case, "curve_fit", report)
