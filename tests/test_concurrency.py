"""Many threads at once give exactly what one thread gives.

* 8 threads x 1,000 mixed fits (Python and compiled residuals, leastsq,
  fsolve, curve_fit, some raising) are bit-identical to the same fits run
  serially;
* leastsq_batch called from several threads at once (each with its own
  worker threads) gives every thread its serial result;
* a fit inside a callback inside a batch, and a fit inside a residual, give
  the results of the same fits run on their own.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import minpack

T = np.linspace(0.0, 2.0, 12)


class Boom(Exception):
    pass


def exponential(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    return p[0] * np.exp(-p[1] * T) + p[2] - y


def truth(i: int) -> np.ndarray:
    return np.array([1.0 + 0.01 * i, 0.5 + 0.003 * (i % 97), 0.1 * (i % 5)])


def data(i: int) -> np.ndarray:
    a, b, c = truth(i)
    return a * np.exp(-b * T) + c


_COMPILED: dict = {}


def compiled_exponential() -> Any:
    if not _COMPILED:
        import math

        import numba
        from numba import carray, types

        dptr = types.CPointer(types.double)

        @numba.cfunc(types.intc(types.intc, types.intc, dptr, dptr, dptr),
                     nopython=True)
        def residual(m, n, x_, f_, y_):  # pragma: no cover - compiled
            x = carray(x_, (n,))
            f = carray(f_, (m,))
            y = carray(y_, (m,))
            for i in range(m):
                t = 2.0 * i / (m - 1.0)
                f[i] = x[0] * math.exp(-x[1] * t) + x[2] - y[i]
            return 0

        _COMPILED["f"] = residual
    return _COMPILED["f"]


def outcome(fn: Callable[[], Any]) -> Any:
    """A comparable record of a call: its arrays as bytes, or its exception."""
    try:
        value = fn()
    except Boom as exc:
        return ("raised", str(exc))
    return freeze(value)


def freeze(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (tuple, list)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, minpack.BatchResult):
        return freeze([value.x, value.ier, value.nfev, value.njev, value.fnorm])
    return value


def task(i: int, compiled: bool) -> Callable[[], Any]:
    """Fit number i of the mixed workload."""
    y = data(i)
    x0 = np.array([1.0, 1.0, 0.0])
    kind = i % (6 if compiled else 5)
    if kind == 0:
        return lambda: minpack.leastsq(exponential, x0, args=(y,), full_output=True)
    if kind == 1:
        calls = [0]

        def raising(p: np.ndarray) -> np.ndarray:
            calls[0] += 1
            if calls[0] == 3 + i % 7:
                raise Boom(f"task {i} raised at call {calls[0]}")
            return exponential(p, y)

        return lambda: minpack.leastsq(raising, x0, full_output=True)
    if kind == 2:
        noisy = y + 1e-3 * np.sin(7.0 * T + i)  # (exact data can leave pcov unknown)
        return lambda: minpack.curve_fit(
            lambda t, a, b, c: a * np.exp(-b * t) + c, T, noisy, p0=x0,
            full_output=True)
    if kind == 3:
        shift = 1.0 + 0.001 * i
        return lambda: minpack.fsolve(
            lambda p: [p[0] ** 2 - shift, p[0] * p[1] - 1.0], [1.0, 1.0],
            full_output=True)
    if kind == 4:
        return lambda: minpack.check_jacobian(
            lambda p: exponential(p, y),
            lambda p: np.column_stack([np.exp(-p[1] * T),
                                       -p[0] * T * np.exp(-p[1] * T), np.ones_like(T)]),
            x0 + 0.1 * (i % 3))
    residual = compiled_exponential()
    return lambda: minpack.leastsq(residual, x0, args=(y,), m=T.size, full_output=True)


def run_threads(n: int, target: Callable[[int], Any]) -> list:
    results: list = [None] * n
    errors: list = []
    barrier = threading.Barrier(n)

    def work(k: int) -> None:
        try:
            barrier.wait()
            results[k] = target(k)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "mixed"])
def test_threads_match_serial(compiled: bool, report: Any) -> None:
    if compiled:
        pytest.importorskip("numba")
        compiled_exponential()
    fits = 1000
    serial = [outcome(task(i, compiled)) for i in range(fits)]
    raised = sum(1 for s in serial if s[0] == "raised")
    assert raised > 0

    def each_thread(k: int) -> list:
        order = list(range(fits))
        random.Random(k).shuffle(order)  # every thread its own order
        got: list = [None] * fits
        for i in order:
            got[i] = outcome(task(i, compiled))
        return got

    per_thread = run_threads(8, each_thread)
    for k, got in enumerate(per_thread):
        mismatched = [i for i in range(fits) if got[i] != serial[i]]
        assert not mismatched, f"thread {k}: fits {mismatched[:10]} differ"
    kinds = "Python and compiled" if compiled else "Python"
    report("concurrency", f"8 threads x {fits} fits ({kinds} residuals, {raised} "
           f"raising): identical to serial")


def test_batch_from_many_threads() -> None:
    pytest.importorskip("numba")
    residual = compiled_exponential()
    K = 500
    inputs = []
    for k in range(4):
        ys = np.array([data(1000 * k + i) for i in range(K)])
        inputs.append((np.tile([1.0, 1.0, 0.0], (K, 1)), ys))
    serial = [minpack.leastsq_batch(residual, x0, args=ys, m=T.size, workers=1,
                                    full_output=True) for x0, ys in inputs]

    def each(k: int) -> Any:
        x0, ys = inputs[k]
        return minpack.leastsq_batch(residual, x0, args=ys, m=T.size, workers=2,
                                     full_output=True)

    for _ in range(3):
        results = run_threads(4, each)
        for k, (got, want) in enumerate(zip(results, serial, strict=True)):
            for name in ("x", "ier", "nfev", "njev", "fnorm", "fvec", "cov_x"):
                np.testing.assert_array_equal(getattr(got, name), getattr(want, name),
                                              err_msg=f"thread {k}, {name}")
    assert not [t for t in threading.enumerate() if t.name.startswith("minpack-batch")]


def test_fit_inside_callback_inside_batch() -> None:
    """The batch's iteration callback and its residual both run fits of their
    own; everything equals the same fits run alone."""
    K = 6
    ys = np.array([data(i) for i in range(K)])
    x0 = np.tile([1.0, 1.0, 0.0], (K, 1))
    inner_y = data(99)
    alone = minpack.leastsq(exponential, [1.0, 1.0, 0.0], args=(inner_y,),
                            full_output=True)
    inner_results: list = []

    def callback(it: minpack.Iteration) -> None:
        inner_results.append(minpack.leastsq(exponential, [1.0, 1.0, 0.0],
                                             args=(inner_y,), full_output=True))

    def residual(p: np.ndarray, y: np.ndarray) -> np.ndarray:
        if len(inner_results) % 5 == 0:  # now and then, a fit inside the residual
            inner_results.append(minpack.leastsq(exponential, [1.0, 1.0, 0.0],
                                                 args=(inner_y,), full_output=True))
        return exponential(p, y)

    nested = minpack.leastsq_batch(residual, x0, args=ys, callback=callback,
                                   full_output=True)
    plain = minpack.leastsq_batch(exponential, x0, args=ys, full_output=True)
    assert len(inner_results) > K
    for got in inner_results:
        assert freeze(got) == freeze(alone)
    for name in ("x", "ier", "nfev", "fnorm", "fvec"):
        np.testing.assert_array_equal(getattr(nested, name), getattr(plain, name))


def test_fit_inside_callback_inside_compiled_batch() -> None:
    """A compiled batch with a callback (run one problem after another): the
    callback runs a compiled fit and a Python fit."""
    pytest.importorskip("numba")
    residual = compiled_exponential()
    K = 5
    ys = np.array([data(i) for i in range(K)])
    x0 = np.tile([1.0, 1.0, 0.0], (K, 1))
    inner_y = data(42)
    alone_c = minpack.leastsq(residual, [1.0, 1.0, 0.0], args=(inner_y,), m=T.size,
                              full_output=True)
    alone_p = minpack.leastsq(exponential, [1.0, 1.0, 0.0], args=(inner_y,),
                              full_output=True)
    seen: list = []

    def callback(it: minpack.Iteration) -> None:
        seen.append((freeze(minpack.leastsq(residual, [1.0, 1.0, 0.0], args=(inner_y,),
                                            m=T.size, full_output=True)),
                     freeze(minpack.leastsq(exponential, [1.0, 1.0, 0.0],
                                            args=(inner_y,), full_output=True))))

    with_cb = minpack.leastsq_batch(residual, x0, args=ys, m=T.size, callback=callback)
    without = minpack.leastsq_batch(residual, x0, args=ys, m=T.size)
    assert seen and all(s == (freeze(alone_c), freeze(alone_p)) for s in seen)
    for name in ("x", "ier", "nfev", "fnorm"):
        np.testing.assert_array_equal(getattr(with_cb, name), getattr(without, name))
