"""Fuzz ``minpack.check_jacobian``: generated bad input.

No SciPy counterpart: its own contract only.

The contract checked, the profiles (``HYPOTHESIS_PROFILE``) and the shared
harness: ``support/fuzz.py``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from hypothesis import strategies as st
from support.fuzz import (
    BOOLEANS,
    Spec,
    build_leastsq,
    calls_of,
    check_common,
    draw_problem,
    mutate_leastsq,
    outcome_label,
    run,
    run_fuzz,
    snapshot,
)

import minpack

CHECK_MUTATIONS = ("x0", "args", "func", "Dfun", "col_deriv", "arity", "callable")
CHECK_MUTATION_LISTS = st.lists(st.sampled_from(CHECK_MUTATIONS), max_size=3)


@st.composite
def check_jacobian_cases(draw: Any) -> tuple:
    prob = draw_problem(draw)
    spec = Spec("check_jacobian")
    call: dict = {"x0": prob["x0"], "args": (prob["y"],),
                  "col_deriv": draw(BOOLEANS)}
    behaviour = {"func": ("ok", 1), "Dfun": ("ok", 1), "arity": None,
                 "callable": None}
    for what in draw(CHECK_MUTATION_LISTS):
        mutate_leastsq(draw, what, spec, call, behaviour, prob)
    return spec, call, behaviour, prob["t"]


def one_check_jacobian_case(case: tuple, tally: Counter) -> None:
    spec, call, behaviour, t = case
    callables, x0, kwargs = build_leastsq(call, behaviour, t)
    func, Dfun = callables
    kwargs.pop("Dfun")
    inputs = [x0, kwargs.get("args")]
    snap = snapshot(inputs)
    ours = run(minpack.check_jacobian, func, Dfun, x0, **kwargs)
    check_common(spec, ours, callables, inputs, snap)
    assert calls_of(func) <= 2 and calls_of(Dfun) <= 1
    if not ours.raised:
        err = ours.value
        assert calls_of(func) == 2 and calls_of(Dfun) == 1
        assert isinstance(err, np.ndarray) and err.dtype == np.float64 and err.ndim == 1
        assert np.all((err >= 0) & (err <= 1)), err
        if not spec.mutations:
            assert err.shape == t.shape  # one measure per residual
    tally[outcome_label(ours)] += 1


def test_fuzz_check_jacobian(report: Any) -> None:
    run_fuzz(check_jacobian_cases(), one_check_jacobian_case, "check_jacobian", report)
