"""Fuzz ``minpack.leastsq``: generated bad input, compared with SciPy.

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
    SUCCESS,
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


LEASTSQ_MUTATIONS = ("x0", "args", "diag", "ftol", "xtol", "gtol", "factor",
                     "epsfcn", "maxfev", "func", "Dfun", "col_deriv", "arity",
                     "callable")
LEASTSQ_MUTATION_LISTS = st.lists(st.sampled_from(LEASTSQ_MUTATIONS), max_size=3)


@st.composite
def leastsq_cases(draw: Any) -> tuple:
    prob = draw_problem(draw)
    t, y = prob["t"], prob["y"]
    spec = Spec("leastsq")
    call: dict = {"x0": prob["x0"], "args": (y,), "full_output": draw(BOOLEANS)}
    behaviour = {"func": ("ok", 1), "Dfun": None, "arity": None,
                 "callable": None}
    if draw(BOOLEANS):
        behaviour["Dfun"] = ("ok", 1)
        call["col_deriv"] = draw(BOOLEANS)
    # Reasonable limits keep the NaN cases (which run to maxfev) fast.
    call["maxfev"] = pick(draw, [0, 50, 200])
    for what in draw(LEASTSQ_MUTATION_LISTS):
        mutate_leastsq(draw, what, spec, call, behaviour, prob)
    tame(spec, call)
    return spec, call, behaviour, t


def check_leastsq_result(spec: Spec, out: Outcome, call: dict, callables: list,
                         x0: Any) -> None:
    func, Dfun = callables
    n = np.size(x0) if not isinstance(x0, (str, type(None))) else 1
    limit = effective_maxfev(call.get("maxfev", 0), n, Dfun is not None)
    if limit is not None:
        # MINPACK tests nfev >= maxfev after each trial step, so it ends within
        # maxfev evaluations plus one Jacobian (n evaluations for lmdif, one
        # Dfun call for lmder); and whatever maxfev, it makes the first
        # iteration: x0, one Jacobian and one trial step.
        limit = max(limit, 2)
        assert calls_of(func) <= limit + (n if Dfun is None else 0) + first_call(x0), (
            calls_of(func), limit, n)
        assert calls_of(Dfun) <= limit, (calls_of(Dfun), limit)
    if out.raised:
        return
    if call.get("full_output"):
        x, cov_x, info, mesg, ier = out.value
        assert isinstance(mesg, str)
        if isinstance(func, UserCallable):
            assert_calls_counted(info["nfev"], ier, func.calls, x0)
        if isinstance(Dfun, UserCallable):
            assert info["njev"] == Dfun.calls
        assert info["ipvt"].dtype == np.int32
        if ier in SUCCESS:
            assert np.isfinite(x).all(), (x, ier, mesg)
    else:
        x, ier = out.value
        if ier in SUCCESS:
            assert np.isfinite(x).all(), (x, ier)
        warned = solver_warned(out)
        assert warned == (ier in (5, 6, 7, 8, 11)), (ier, out.warnings)
    assert x.dtype == np.float64 and x.ndim == 1


def compare_leastsq(spec: Spec, ours: Outcome, ref: Outcome, call: dict,
                    norm: Any, nonfinite: bool = False) -> str | None:
    check_against_scipy(spec, ours, ref)
    if ours.raised or ref.raised or not spec.clean:
        return None
    if call.get("full_output"):
        x, _, info, mesg, ier = ours.value
        rx, _, rinfo, rmesg, rier = ref.value
    else:
        (x, ier), (rx, rier) = ours.value, ref.value
    verdict = agree_or_equivalent(x, rx, ier, rier, norm, nonfinite)
    if verdict == "same" and call.get("full_output"):
        if not isinstance(call.get("maxfev"), bool):  # SciPy: "maxfev = True."
            assert mesg == rmesg
        assert info["nfev"] == rinfo["nfev"]
    return verdict


def one_leastsq_case(case: tuple, tally: Counter) -> None:
    spec, call, behaviour, t = case
    callables, x0, kwargs = build_leastsq(call, behaviour, t)
    inputs = leastsq_inputs(kwargs, x0)
    snap = snapshot(inputs)
    ours = run(minpack.leastsq, callables[0], x0, **kwargs)
    ref_callables, ref_x0, ref_kwargs = build_leastsq(call, behaviour, t)
    ref = run(so.leastsq, ref_callables[0], ref_x0, **ref_kwargs)
    check_common(spec, ours, callables, inputs, snap, ref)
    check_leastsq_result(spec, ours, kwargs, callables, x0)
    norm = residual_norm(call, behaviour, t)
    verdict = compare_leastsq(spec, ours, ref, kwargs, norm,
                              met_nonfinite(*callables, *ref_callables))
    tally[outcome_label(ours)] += 1
    if verdict:
        tally[f"clean, {verdict} as SciPy"] += 1


def test_fuzz_leastsq(report: Any) -> None:
    run_fuzz(leastsq_cases(), one_leastsq_case, "leastsq", report)
