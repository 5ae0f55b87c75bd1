"""Fuzz ``minpack.fsolve``: generated bad input, compared with SciPy.

The same mutations as leastsq's on a square system, plus ``band``.

The contract checked, the profiles (``HYPOTHESIS_PROFILE``) and the shared
harness: ``support/fuzz.py``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest
import scipy.optimize as so
from hypothesis import strategies as st
from support.fuzz import (
    BOOLEANS,
    Outcome,
    Spec,
    UserCallable,
    agree_or_equivalent,
    assert_calls_counted,
    build_leastsq,
    calls_of,
    check_against_scipy,
    check_common,
    draw_problem,
    effective_maxfev,
    first_call,
    leastsq_inputs,
    met_nonfinite,
    mutate_leastsq,
    outcome_label,
    pick,
    residual_norm,
    run,
    run_fuzz,
    snapshot,
    solver_warned,
    tame,
)

import minpack

pytestmark = pytest.mark.scipy_oracle  # compared with SciPy: see conftest.py


FSOLVE_MUTATIONS = ("x0", "args", "diag", "xtol", "factor", "epsfcn", "maxfev",
                    "func", "Dfun", "col_deriv", "arity", "callable", "band")
FSOLVE_MUTATION_LISTS = st.lists(st.sampled_from(FSOLVE_MUTATIONS), max_size=3)


@st.composite
def fsolve_cases(draw: Any) -> tuple:
    prob = draw_problem(draw, square=True)
    spec = Spec("fsolve")
    call: dict = {"x0": prob["x0"], "args": (prob["y"],),
                  "full_output": draw(BOOLEANS)}
    behaviour = {"func": ("ok", 1), "Dfun": None, "arity": None, "callable": None}
    if draw(BOOLEANS):
        behaviour["Dfun"] = ("ok", 1)
        call["col_deriv"] = draw(BOOLEANS)
    call["maxfev"] = pick(draw, [0, 50, 200])
    for what in draw(FSOLVE_MUTATION_LISTS):
        mutate_leastsq(draw, what, spec, call, behaviour, prob, jac="fprime")
    tame(spec, call)
    return spec, call, behaviour, prob["t"]


def check_fsolve_result(out: Outcome, call: dict, callables: list, x0: Any) -> None:
    func, fprime = callables
    n = np.size(x0) if not isinstance(x0, (str, type(None))) else 1
    limit = effective_maxfev(call.get("maxfev", 0), n, fprime is not None)
    if limit is not None:
        # As lmdif/lmder (see check_leastsq_result); a banded difference
        # Jacobian takes fewer evaluations.
        limit = max(limit, 2)
        jacobian_calls = n if fprime is None else 0
        assert calls_of(func) <= limit + jacobian_calls + first_call(x0), (
            calls_of(func), limit, n)
        assert calls_of(fprime) <= limit, (calls_of(fprime), limit)
    if out.raised:
        return
    if call.get("full_output"):
        x, info, ier, mesg = out.value
        assert isinstance(mesg, str)
        if isinstance(func, UserCallable):
            assert_calls_counted(info["nfev"], ier, func.calls, x0)
        if isinstance(fprime, UserCallable):
            assert info["njev"] == fprime.calls
    else:
        x = out.value
        ier = None
        warned = solver_warned(out)
        if not warned:
            ier = 1
    if ier == 1:
        assert np.isfinite(x).all(), (x, ier)
    assert x.dtype == np.float64 and x.ndim == 1


def compare_fsolve(spec: Spec, ours: Outcome, ref: Outcome, call: dict,
                   norm: Any, nonfinite: bool = False) -> str | None:
    check_against_scipy(spec, ours, ref)
    if ours.raised or ref.raised or not spec.clean:
        return None
    if call.get("full_output"):
        x, info, ier, mesg = ours.value
        rx, rinfo, rier, rmesg = ref.value
    else:
        x, rx = ours.value, ref.value
        ier = rier = 1
    verdict = agree_or_equivalent(x, rx, ier, rier, norm, nonfinite)
    if verdict == "same" and call.get("full_output"):
        if not isinstance(call.get("maxfev"), bool):
            assert mesg == rmesg
        # SciPy counts its two extra evaluations at x0 (see fsolve's Notes)
        assert info["nfev"] + 2 == rinfo["nfev"] or ier == 0
    return verdict


def one_fsolve_case(case: tuple, tally: Counter) -> None:
    spec, call, behaviour, t = case
    callables, x0, kwargs = build_leastsq(call, behaviour, t, jac="fprime")
    inputs = leastsq_inputs(kwargs, x0)
    snap = snapshot(inputs)
    ours = run(minpack.fsolve, callables[0], x0, **kwargs)
    ref_callables, ref_x0, ref_kwargs = build_leastsq(call, behaviour, t, jac="fprime")
    ref = run(so.fsolve, ref_callables[0], ref_x0, **ref_kwargs)
    check_common(spec, ours, callables, inputs, snap, ref)
    check_fsolve_result(ours, kwargs, callables, x0)
    verdict = compare_fsolve(spec, ours, ref, kwargs, residual_norm(call, behaviour, t),
                             met_nonfinite(*callables, *ref_callables))
    tally[outcome_label(ours)] += 1
    if verdict:
        tally[f"clean, {verdict} as SciPy"] += 1


def test_fuzz_fsolve(report: Any) -> None:
    run_fuzz(fsolve_cases(), one_fsolve_case, "fsolve", report)
