"""Fuzz ``minpack.leastsq_batch`` with Python callables: generated bad input.

Row k must be leastsq's fit of problem k.

The contract checked, the profiles (``HYPOTHESIS_PROFILE``) and the shared
harness: ``support/fuzz.py``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from hypothesis import strategies as st
from support.fuzz import (
    BAD_MAXFEVS,
    BAD_REALS,
    BOOLEANS,
    JACOBIAN_NAMES,
    RESIDUAL_NAMES,
    SAME_NUMBERS,
    SUCCESS,
    Boom,
    Spec,
    build_leastsq,
    check_common,
    draw_problem,
    finite,
    finite_scalar,
    odd_array,
    outcome_label,
    pick,
    run,
    run_fuzz,
    snapshot,
    tame,
)

import minpack
from minpack._nonfinite import NONFINITE_START, NonFiniteStartError

BATCH_MUTATIONS = ("x0", "args", "m", "diag", "ftol", "maxfev", "workers",
                   "callback", "func", "Dfun")
BATCH_MUTATION_LISTS = st.lists(st.sampled_from(BATCH_MUTATIONS), max_size=3)


@st.composite
def batch_cases(draw: Any) -> tuple:
    prob = draw_problem(draw)
    n, m = prob["n"], prob["m"]
    K = pick(draw, [2, 0, 1, 3])
    spec = Spec("leastsq_batch")
    x0 = np.array([prob["x0"] + 0.1 * k for k in range(K)]).reshape(K, n)
    data = np.array([prob["y"] * (1 + 0.05 * k) for k in range(K)]).reshape(K, m)
    call: dict = {"x0": x0, "args": data, "full_output": draw(BOOLEANS),
                  "maxfev": pick(draw, [0, 50])}
    behaviour = {"func": ("ok", 1), "Dfun": ("ok", 1) if draw(BOOLEANS) else None,
                 "callback": None}
    prob = {**prob, "X0": x0, "data": data}
    for what in draw(BATCH_MUTATION_LISTS):
        mutate_batch(draw, what, spec, call, behaviour, prob, K)
    tame(spec, call)
    return spec, call, behaviour, prob["t"]


def mutate_batch(draw: Any, what: str, spec: Spec, call: dict, behaviour: dict,
                 prob: dict, K: int) -> None:
    n, m, X0, data = prob["n"], prob["m"], prob["X0"], prob["data"]
    if what == "x0":
        kind = pick(draw, ["1d", "3d", "no-variables", "dtype", "nan-row", "list"])
        if kind == "1d":
            call["x0"] = prob["x0"]
        elif kind == "3d":
            call["x0"] = X0[None]
        elif kind == "no-variables":
            call["x0"] = np.zeros((K, 0))
        elif kind == "list":
            call["x0"] = X0.tolist()
        elif kind == "nan-row":
            call["x0"] = X0.copy()
            if K:
                call["x0"][-1, 0] = np.nan
        else:
            kind, call["x0"] = odd_array(draw, X0)
        spec.mutate("x0", kind, "x0", "N=", "n = 0", "M=",
                    clean=kind in SAME_NUMBERS or kind in ("1d", "3d", "no-variables"))
    elif what == "args":
        kind = pick(draw, ["none", "list", "rows", "1d", "nan-row", "complex", "3d"])
        if kind == "none":
            call["args"] = None
        elif kind == "list":
            call["args"] = data.tolist()
        elif kind == "rows":
            call["args"] = np.ones((K + 1, m))
        elif kind == "1d":
            call["args"] = np.ones(K)
        elif kind == "nan-row":
            call["args"] = data.copy()
            if K:
                call["args"][0, 0] = np.nan
        elif kind == "complex":
            call["args"] = data + 0j
        else:
            call["args"] = data[:, None, :]
        spec.mutate("args", kind, "args", "func", "M=",
                    clean=kind not in ("nan-row",))
    elif what == "m":
        call["m"] = pick(draw, [m, m + 1, 0, -1, 2.0, "m", None])
        spec.mutate("m", "value", "m", "M=", clean=True)
    elif what == "diag":
        call["diag"] = pick(draw, [np.ones(n + 1), np.ones((1, n)),
                                   np.linspace(1, 2, n), np.zeros(n), "d"])
        spec.mutate("diag", "value", "diag", clean=True)
    elif what == "ftol":
        call["ftol"] = draw(BAD_REALS)
        spec.mutate("ftol", "value", clean=finite_scalar(call["ftol"]))
    elif what == "maxfev":
        call["maxfev"] = draw(BAD_MAXFEVS)
        spec.mutate("maxfev", "value", clean=True)
    elif what == "workers":
        call["workers"] = pick(draw, [None, 1, 2, 0, -1, 2.0, "2"])
        spec.mutate("workers", "value", "workers", clean=True)
    elif what == "callback":
        behaviour["callback"] = pick(draw, ["quiet", "raise", "stop", "not-callable"])
        spec.mutate("callback", behaviour["callback"], "callback", clean=True)
    elif what == "func":
        kind = pick(draw, RESIDUAL_NAMES)  # stateless: calls are shared by rows
        behaviour["func"] = (kind, 1)
        spec.mutate("func", kind, "func", "M=", "Dfun", "m=", clean=finite(kind))
    elif what == "Dfun":
        kind = pick(draw, JACOBIAN_NAMES)
        behaviour["Dfun"] = (kind, 1)
        spec.mutate("Dfun", kind, "Dfun", clean=finite(kind))


class Callback:
    """An iteration callback that records, raises, or stops a fit."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.seen: list = []
        self.raised: BaseException | None = None

    def __call__(self, it: Any) -> None:
        self.seen.append((it.k, it.iteration))
        if self.kind == "raise" and len(self.seen) == 2:
            self.raised = Boom("callback raised")
            raise self.raised
        if self.kind == "stop" and it.iteration == 2:
            raise StopIteration


def build_batch(call: dict, behaviour: dict, t: np.ndarray) -> tuple:
    single = {"func": behaviour["func"], "Dfun": behaviour["Dfun"], "arity": None,
              "callable": None}
    callables, _, _ = build_leastsq({"x0": None, "col_deriv": False}, single, t)
    kwargs = dict(call)
    x0 = kwargs.pop("x0")
    callback = behaviour["callback"]
    if callback == "not-callable":
        kwargs["callback"] = 3
    elif callback is not None:
        kwargs["callback"] = Callback(callback)
    return callables, x0, kwargs


def one_batch_case(case: tuple, tally: Counter) -> None:
    spec, call, behaviour, t = case
    callables, x0, kwargs = build_batch(call, behaviour, t)
    inputs = [x0, kwargs.get("args"), kwargs.get("diag")]
    snap = snapshot(inputs)
    ours = run(minpack.leastsq_batch, callables[0], x0, Dfun=callables[1], **kwargs)
    callback = kwargs.get("callback")
    if isinstance(callback, Callback) and callback.raised is not None:
        assert ours.exc is callback.raised  # re-raised unchanged
        tally["re-raised the callback's exception"] += 1
        return
    check_common(spec, ours, callables, inputs, snap)
    if ours.raised:
        tally[outcome_label(ours)] += 1
        return
    res = ours.value
    K = res.x.shape[0]
    # each row is leastsq's fit of that problem alone (callback-free rows)
    stopped = isinstance(callback, Callback) and callback.kind == "stop"
    for k in range(K):
        f, D = build_batch(call, behaviour, t)[0]
        data = kwargs.get("args")
        kargs = () if data is None else (np.asarray(data)[k],)
        options = {key: kwargs[key] for key in ("ftol", "maxfev", "diag", "m")
                   if key in kwargs}
        single = run(minpack.leastsq, f, np.asarray(x0, dtype=float)[k], args=kargs,
                     Dfun=D, full_output=True, **options)
        if single.raised and isinstance(single.exc, NonFiniteStartError):
            # leastsq raises for residuals not finite at x0; the batch gives
            # that row ier 10 after the one evaluation
            assert (res.ier[k], res.nfev[k]) == (NONFINITE_START, 1)
            np.testing.assert_array_equal(res.x[k], np.asarray(x0, dtype=float)[k])
            continue
        assert not single.raised, single.exc
        x, cov_x, info, mesg, ier = single.value
        if stopped and res.ier[k] == 9:
            continue
        assert res.ier[k] == ier, (k, res.ier[k], ier)
        np.testing.assert_array_equal(res.x[k], x)
        assert res.nfev[k] == info["nfev"]
        if ier in SUCCESS:
            assert np.isfinite(res.x[k]).all()
        fvec = info["fvec"]
        if spec.clean and np.isfinite(fvec).all():
            # (KNOWN_ISSUES["batch-fnorm-overflow"])
            scale = np.abs(fvec).max(initial=0.0)
            norm = scale * np.sqrt(np.sum((fvec / scale) ** 2)) if scale else 0.0
            np.testing.assert_allclose(res.fnorm[k], norm, rtol=1e-13)
        if kwargs.get("full_output"):
            np.testing.assert_array_equal(res.fvec[k], info["fvec"])
            if cov_x is None:
                assert np.isnan(res.cov_x[k]).all()
            else:
                np.testing.assert_array_equal(res.cov_x[k], cov_x)
    tally[outcome_label(ours)] += 1


def test_fuzz_leastsq_batch(report: Any) -> None:
    run_fuzz(batch_cases(), one_batch_case, "leastsq_batch (Python callables)", report)
