"""Fuzz compiled residuals (numba cfuncs): generated bad input for leastsq,
fsolve and leastsq_batch, which must give the Python path's fit.

The contract checked, the profiles (``HYPOTHESIS_PROFILE``) and the shared
harness: ``support/fuzz.py``.
"""

from __future__ import annotations

import ctypes
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from support.fuzz import (
    BAD_MAXFEVS,
    BAD_REALS,
    BOOLEANS,
    SAME_NUMBERS,
    SUCCESS,
    Spec,
    check_common,
    draw_problem,
    effective_maxfev,
    finite_scalar,
    model_jacobian,
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

# The cfuncs compute the same model from a per-problem data row
#   [mode, start, calls, y_0 .. y_{m-1}]
# and, from call `start` on, misbehave as `mode` says: 1 NaN residuals,
# 2 inf residuals, 3 return status 1, 4 return status -7. They count their
# calls in the row (the caller's array: the user's function writes it, so
# the untouched-input check skips that column). Only mutations minpack can
# check are generated: a C function reading past its data (a wrong m, a
# short row) cannot be detected by anyone.


COMPILED_MODES = {"ok": 0, "nan": 1, "inf": 2, "status": 3, "negative-status": 4}
COMPILED_MODE_NAMES = tuple(COMPILED_MODES)
_COMPILED: dict = {}


def compiled_model() -> tuple:
    """The numba cfuncs (func, Dfun), compiled once."""
    if not _COMPILED:
        numba = pytest.importorskip("numba")
        import math

        from numba import carray, types

        dptr = types.CPointer(types.double)
        fsig = types.intc(types.intc, types.intc, dptr, dptr, dptr)
        jsig = types.intc(types.intc, types.intc, dptr, dptr, types.intc, dptr)

        @numba.cfunc(fsig, nopython=True)
        def residual(m, n, x_, f_, d_):  # pragma: no cover - compiled
            x = carray(x_, (n,))
            f = carray(f_, (m,))
            d = carray(d_, (3 + m,))
            d[2] += 1.0
            s = 0.0
            for j in range(n):
                s += x[j] / (j + 1.0)
            for i in range(m):
                t = 0.2 + 0.8 * i / (m - 1) if m > 1 else 0.2
                v = math.exp(-t * s) - d[3 + i]
                tp = t
                for j in range(n):
                    v += x[j] * tp
                    tp *= t
                f[i] = v
            if d[2] >= d[1]:
                mode = int(d[0])
                if mode == 1:
                    for i in range(m):
                        f[i] = math.nan
                elif mode == 2:
                    for i in range(m):
                        f[i] = math.inf
                elif mode == 3:
                    return 1
                elif mode == 4:
                    return -7
            return 0

        @numba.cfunc(jsig, nopython=True)
        def jacobian(m, n, x_, fjac_, ldfjac, d_):  # pragma: no cover - compiled
            x = carray(x_, (n,))
            fjac = carray(fjac_, (ldfjac * n,))
            s = 0.0
            for j in range(n):
                s += x[j] / (j + 1.0)
            for i in range(m):
                t = 0.2 + 0.8 * i / (m - 1) if m > 1 else 0.2
                e = math.exp(-t * s)
                tp = t
                for j in range(n):
                    fjac[i + j * ldfjac] = -t * e / (j + 1.0) + tp
                    tp *= t
            return 0

        _COMPILED["func"], _COMPILED["Dfun"] = residual, jacobian
    return _COMPILED["func"], _COMPILED["Dfun"]


def compiled_rows(y: np.ndarray, K: int, mode: str, start: int) -> np.ndarray:
    rows = np.empty((K, 3 + y.size))
    rows[:, 0] = COMPILED_MODES[mode]
    rows[:, 1] = start
    rows[:, 2] = 0.0
    for k in range(K):
        rows[k, 3:] = y * (1 + 0.05 * k)
    return rows


COMPILED_MUTATIONS = ("x0", "args", "m", "diag", "ftol", "xtol", "factor", "maxfev",
                      "mode", "col_deriv", "python-Dfun", "workers")
COMPILED_MUTATION_LISTS = st.lists(st.sampled_from(COMPILED_MUTATIONS), max_size=3)


@st.composite
def compiled_cases(draw: Any, path: str) -> tuple:
    prob = draw_problem(draw, square=path == "fsolve")
    n, m = prob["n"], prob["m"]
    K = pick(draw, [3, 1, 0]) if path == "batch" else 1
    spec = Spec(f"compiled {path}")
    setup = {"path": path, "n": n, "m": m, "K": K, "y": prob["y"], "mode": "ok",
             "start": 1, "jac": draw(BOOLEANS), "t": prob["t"]}
    x0 = (np.array([prob["x0"] + 0.1 * k for k in range(K)]).reshape(K, n)
          if path == "batch" else prob["x0"])
    call: dict = {"x0": x0, "args": "rows", "maxfev": pick(draw, [0, 50])}
    setup["x0"] = x0
    if path != "fsolve":
        call["m"] = m
    if path != "batch":
        call["full_output"] = draw(BOOLEANS)
    else:
        call["workers"] = pick(draw, [2, 1, None])
        call["full_output"] = draw(BOOLEANS)
    for what in draw(COMPILED_MUTATION_LISTS):
        mutate_compiled(draw, what, spec, call, setup, prob)
    tame(spec, call)
    return spec, call, setup


def mutate_compiled(draw: Any, what: str, spec: Spec, call: dict, setup: dict,
                    prob: dict) -> None:
    n, m, path = setup["n"], setup["m"], setup["path"]
    if what == "x0":
        kind = pick(draw, ["dtype", "empty", "shape"])
        if kind == "empty":
            call["x0"] = np.zeros((setup["K"], 0)) if path == "batch" else np.zeros(0)
            spec.mutate("x0", kind, "x0", "n = 0", "N=", clean=True)
        elif kind == "shape":
            # a longer x0 than the data row expects is safe (the row holds m
            # values, x0 only feeds the model); fewer variables than m too
            call["x0"] = (np.ones((setup["K"], n, 1)) if path == "batch"
                          else np.ones((1, n)))
            spec.mutate("x0", kind, "x0", clean=True)
        else:
            kind, call["x0"] = odd_array(draw, setup["x0"])
            spec.mutate("x0", kind, "x0", "N=", clean=kind in SAME_NUMBERS)
    elif what == "args":
        call["args"] = pick(draw, ["list", "two", "noncontiguous", "tuple-list",
                                   "scalar"])
        spec.mutate("args", call["args"], "args", "user_data", clean=True)
    elif what == "m" and path != "fsolve":
        call["m"] = pick(draw, [None, float(m), "m", -1, 0, n - 1] if n > 1 else
                         [None, float(m), "m", -1, 0])
        spec.mutate("m", "value", "m", "M=", clean=True)
    elif what == "diag":
        call["diag"] = pick(draw, [np.ones(n + 1), np.zeros(n), np.full(n, np.nan),
                                   "d", np.ones((n, 1)), np.linspace(1, 2, n)])
        spec.mutate("diag", "value", "diag", clean=True)
    elif what in ("ftol", "xtol", "factor") and (what != "ftol" or path != "fsolve"):
        call[what] = draw(BAD_REALS)
        spec.mutate(what, "value", what, clean=finite_scalar(call[what]))
    elif what == "maxfev":
        call["maxfev"] = draw(BAD_MAXFEVS)
        spec.mutate("maxfev", "value", "maxfev", clean=True)
    elif what == "mode":
        setup["mode"] = pick(draw, COMPILED_MODE_NAMES)
        setup["start"] = pick(draw, [1, 2, 5, 30])
        spec.mutate("mode", setup["mode"], "status", clean=setup["mode"] == "ok")
    elif what == "col_deriv" and path != "batch":
        call["col_deriv"] = True
        spec.mutate("col_deriv", "x", "col_deriv", clean=True)
    elif what == "python-Dfun":
        setup["jac"] = "python"
        spec.mutate("Dfun", "python", "Dfun", "fprime", "compiled", clean=True)
    elif what == "workers" and path == "batch":
        call["workers"] = pick(draw, [0, -2, 2.5, 64])
        spec.mutate("workers", "value", "workers", clean=True)


def build_compiled(call: dict, setup: dict) -> tuple:
    func, jac = compiled_model()
    path, K = setup["path"], setup["K"]
    rows = compiled_rows(setup["y"], K, setup["mode"], setup["start"])
    kwargs = dict(call)
    x0 = kwargs.pop("x0")
    jname = "fprime" if path == "fsolve" else "Dfun"
    if setup["jac"] == "python":
        kwargs[jname] = lambda p, *a: model_jacobian(p, setup["t"])
    elif setup["jac"]:
        kwargs[jname] = jac
    which = kwargs.pop("args")
    data: Any = rows if path == "batch" else (rows[0],)
    if which == "list":
        data = rows.tolist() if path == "batch" else (rows[0].tolist(),)
    elif which == "two":
        data = (rows, rows) if path == "batch" else (rows[0], rows[0])
    elif which == "noncontiguous":
        wide = np.repeat(rows, 2, axis=-1)[..., ::2]
        data = wide if path == "batch" else (wide[0],)
    elif which == "tuple-list":
        data = (list(rows[0]),) if path != "batch" else tuple(rows)
    elif which == "scalar":
        data = 1.0
    kwargs["args"] = data
    return func, x0, kwargs, rows


COMPILED_FUNCTIONS = {"leastsq": minpack.leastsq, "fsolve": minpack.fsolve,
                      "batch": minpack.leastsq_batch}


def one_compiled_case(case: tuple, tally: Counter) -> None:
    spec, call, setup = case
    path = setup["path"]
    func, x0, kwargs, rows = build_compiled(call, setup)
    inputs = [x0, kwargs.get("diag")]
    snap = snapshot(inputs)
    row_snap = rows[:, [0, 1, *range(3, rows.shape[1])]].copy()
    ours = run(COMPILED_FUNCTIONS[path], func, x0, **kwargs)
    check_common(spec, ours, [], inputs, snap)
    np.testing.assert_array_equal(rows[:, [0, 1, *range(3, rows.shape[1])]], row_snap)
    tally[outcome_label(ours)] += 1
    if ours.raised:
        if isinstance(ours.exc, RuntimeError):  # a non-zero status, named
            assert setup["mode"] in ("status", "negative-status")
        return
    n = setup["n"]
    limit = effective_maxfev(kwargs.get("maxfev", 0), n, bool(setup["jac"]))
    calls = rows[:, 2]
    if path == "batch":
        res = ours.value
        ier, nfev, xs = res.ier, res.nfev, res.x
    elif path == "leastsq" and kwargs.get("full_output"):
        xs, _, info, _, ier = ours.value
        ier, nfev, xs = np.array([ier]), np.array([info["nfev"]]), xs[None]
    elif path == "fsolve" and kwargs.get("full_output"):
        xs, info, ier, _ = ours.value
        ier, nfev, xs = np.array([ier]), np.array([info["nfev"]]), xs[None]
    else:
        return
    copied = path == "batch" and call["args"] == "noncontiguous"  # (made contiguous)
    for k in range(len(ier)):
        # each call counted once; a status that stops a difference Jacobian
        # counts the whole Jacobian, as MINPACK-1 does
        assert copied or nfev[k] == calls[k] or (ier[k] < 0 and nfev[k] > calls[k]), (
            nfev[k], calls[k])
        if limit is not None:
            assert calls[k] <= max(limit, 2) + (0 if setup["jac"] else n)
        if ier[k] in ((1,) if path == "fsolve" else SUCCESS):
            assert np.isfinite(xs[k]).all(), (xs[k], ier[k])
        if (setup["mode"] in ("status", "negative-status") and not copied
                and calls[k] >= setup["start"]):
            assert ier[k] < 0, ier[k]  # the status stops the fit and shows as ier
    if path == "batch" and len(ier):
        compare_batch_with_single(call, setup, ours.value)
    if spec.clean and path == "leastsq" and setup["jac"] != "python":
        compare_compiled_with_python(call, setup, ours.value)
        tally["clean, same as the Python path"] += 1


def compare_batch_with_single(call: dict, setup: dict, res: Any) -> None:
    """Row k of a compiled batch is the compiled leastsq fit of problem k."""
    func, jac = compiled_model()
    rows = compiled_rows(setup["y"], setup["K"], setup["mode"], setup["start"])
    options = {key: call[key] for key in ("ftol", "xtol", "factor", "maxfev", "diag")
               if key in call}
    for k in range(setup["K"]):
        x0 = np.asarray(call["x0"], dtype=float).reshape(setup["K"], -1)[k]
        single = run(minpack.leastsq, func, x0, args=(rows[k],), m=call["m"],
                     Dfun=jac if setup["jac"] else None, full_output=True, **options)
        if single.raised and isinstance(single.exc, NonFiniteStartError):
            # residuals not finite at x0: leastsq raises, the batch row is ier 10
            assert (res.ier[k], res.nfev[k]) == (NONFINITE_START, 1)
            continue
        if single.raised:
            # leastsq refuses a non-finite start; the batch runs that row
            # (its ier is then checked not to claim success)
            assert "x0 must be finite" in str(single.exc), single.exc
            continue
        x, _, info, _, ier = single.value
        assert (res.ier[k], res.nfev[k]) == (ier, info["nfev"])
        np.testing.assert_array_equal(res.x[k], x)


def compare_compiled_with_python(call: dict, setup: dict, value: Any) -> None:
    """The compiled fit is exactly the Python fit of the same function: the
    Python path calls the very same cfunc (through ctypes), so only the
    marshalling differs, and x, ier and nfev must agree to the last bit."""
    func, jac = compiled_model()
    m = setup["m"]
    rows = compiled_rows(setup["y"], 1, setup["mode"], setup["start"])
    dp = ctypes.POINTER(ctypes.c_double)

    def ptr(a: np.ndarray) -> Any:
        return a.ctypes.data_as(dp)

    def residual(p: np.ndarray) -> np.ndarray:
        p = np.ascontiguousarray(p, dtype=np.float64)
        f = np.empty(m)
        assert func.ctypes(m, p.size, ptr(p), ptr(f), ptr(rows)) == 0
        return f

    def jacobian(p: np.ndarray) -> np.ndarray:
        p = np.ascontiguousarray(p, dtype=np.float64)
        J = np.empty((p.size, m))  # column-major m x n
        assert jac.ctypes(m, p.size, ptr(p), ptr(J), m, ptr(rows)) == 0
        return J.T

    options = {key: call[key] for key in ("ftol", "xtol", "factor", "maxfev", "diag")
               if key in call}
    x0 = np.asarray(call["x0"], dtype=float).reshape(-1)
    ref = run(minpack.leastsq, residual, x0, Dfun=jacobian if setup["jac"] else None,
              full_output=True, **options)
    assert not ref.raised, ref.exc
    rx, _, rinfo, _, rier = ref.value
    if isinstance(value, tuple) and len(value) == 5:
        x, _, info, _, ier = value
        assert (ier, info["nfev"]) == (rier, rinfo["nfev"])
    else:
        x, ier = value
        assert ier == rier
    np.testing.assert_array_equal(x, rx)


@pytest.mark.parametrize("path", ["leastsq", "fsolve", "batch"])
def test_fuzz_compiled(path: str, report: Any) -> None:
    compiled_model()
    name = {"batch": "leastsq_batch"}.get(path, path)
    run_fuzz(compiled_cases(path), one_compiled_case,
             f"{name} (compiled numba residuals)", report)
