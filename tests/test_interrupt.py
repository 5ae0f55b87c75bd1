"""Ctrl-C: a long fit stops promptly, and the process stays usable.

Each scenario runs in a subprocess (this file is also the child script), so
that a KeyboardInterrupt arriving at the wrong moment can never abort the
pytest session. In the child, a timer thread sends SIGINT to the process
(``os.kill(os.getpid(), signal.SIGINT)``) in the middle of a long fit; the
child measures the latency from the signal to the KeyboardInterrupt reaching
the caller, counts the residual evaluations started after the signal, lists
the threads still alive, then runs a small fit and checks that it gives
exactly what the same fit gave before the interrupt.

The latencies are printed in the test summary.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import numpy as np
import pytest

# A fit that takes many evaluations: the extended Rosenbrock function.
N = 10


def rosenbrock(p: np.ndarray) -> np.ndarray:
    r = np.empty(N)
    r[0::2] = 10.0 * (p[1::2] - p[0::2] ** 2)
    r[1::2] = 1.0 - p[0::2]
    return r


START = np.tile([-1.2, 1.0], N // 2)


def reference_fit() -> tuple:
    import minpack

    x, cov, info, mesg, ier = minpack.leastsq(rosenbrock, START, full_output=True)
    return x.tolist(), info["nfev"], ier


def interrupt_after(delay: float) -> dict:
    """Send SIGINT to this process after `delay` seconds; the dict gets the time."""
    sent: dict = {}

    def fire() -> None:
        sent["t"] = time.perf_counter()
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(delay, fire)
    timer.daemon = True
    timer.start()
    sent["timer"] = timer
    return sent


def scenario_python() -> dict:
    """leastsq with a slow Python residual (2 ms per evaluation)."""
    import minpack

    before = reference_fit()
    starts: list = []

    def slow(p: np.ndarray) -> np.ndarray:
        starts.append(time.perf_counter())
        time.sleep(0.002)
        return rosenbrock(p)

    sent = interrupt_after(0.15)
    try:
        minpack.leastsq(slow, START, maxfev=100_000, ftol=0.0, xtol=0.0)
        raise SystemExit("the fit ended before the interrupt")
    except KeyboardInterrupt:
        caught = time.perf_counter()
    after_signal = sum(1 for s in starts if s > sent["t"])
    return {"latency": caught - sent["t"], "evaluations_after_signal": after_signal,
            "evaluations": len(starts), "usable": reference_fit() == before,
            "threads": [t.name for t in threading.enumerate()
                        if t is not threading.main_thread() and t.is_alive()
                        and t is not sent["timer"]]}


def scenario_python_busy() -> dict:
    """As scenario_python, with a residual that computes (no sleep): the
    signal is noticed at the next bytecode of the residual."""
    import minpack

    before = reference_fit()
    starts: list = []

    def busy(p: np.ndarray) -> np.ndarray:
        starts.append(time.perf_counter())
        end = time.perf_counter() + 0.002
        while time.perf_counter() < end:
            pass
        return rosenbrock(p)

    sent = interrupt_after(0.15)
    try:
        minpack.leastsq(busy, START, maxfev=100_000, ftol=0.0, xtol=0.0)
        raise SystemExit("the fit ended before the interrupt")
    except KeyboardInterrupt:
        caught = time.perf_counter()
    after_signal = sum(1 for s in starts if s > sent["t"])
    return {"latency": caught - sent["t"], "evaluations_after_signal": after_signal,
            "evaluations": len(starts), "usable": reference_fit() == before,
            "threads": []}


def scenario_python_batch() -> dict:
    """leastsq_batch with a slow Python residual, problem after problem."""
    import minpack

    before = reference_fit()
    starts: list = []

    def slow(p: np.ndarray, shift: np.ndarray) -> np.ndarray:
        starts.append(time.perf_counter())
        time.sleep(0.001)
        return rosenbrock(p) + shift

    K = 2000
    sent = interrupt_after(0.2)
    try:
        minpack.leastsq_batch(slow, np.tile(START, (K, 1)), args=np.zeros((K, N)))
        raise SystemExit("the batch ended before the interrupt")
    except KeyboardInterrupt:
        caught = time.perf_counter()
    after_signal = sum(1 for s in starts if s > sent["t"])
    return {"latency": caught - sent["t"], "evaluations_after_signal": after_signal,
            "evaluations": len(starts), "usable": reference_fit() == before,
            "threads": []}


def compiled_rosenbrock() -> Any:
    import numba
    from numba import carray, types

    dptr = types.CPointer(types.double)

    @numba.cfunc(types.intc(types.intc, types.intc, dptr, dptr, types.voidptr),
                 nopython=True)
    def residual(m, n, x_, f_, user_data):  # pragma: no cover - compiled
        x = carray(x_, (n,))
        f = carray(f_, (m,))
        for i in range(0, n, 2):
            f[i] = 10.0 * (x[i + 1] - x[i] * x[i])
            f[i + 1] = 1.0 - x[i]
        return 0

    return residual


def scenario_compiled_batch() -> dict:
    """A long leastsq_batch with a compiled residual on 2 threads."""
    import minpack

    residual = compiled_rosenbrock()
    small = np.tile(START, (64, 1))
    before = minpack.leastsq_batch(residual, small, m=N, workers=2)
    K = 2_000_000  # far more than can run before the signal
    starts = np.tile(START, (K, 1))
    # how long the whole batch would run, from 1% of it on this machine now
    t = time.perf_counter()
    minpack.leastsq_batch(residual, starts[: K // 100], m=N, workers=2)
    full = 100 * (time.perf_counter() - t)
    t0 = time.perf_counter()
    sent = interrupt_after(0.3)
    try:
        minpack.leastsq_batch(residual, starts, m=N, workers=2)
        raise SystemExit("the batch ended before the interrupt")
    except KeyboardInterrupt:
        caught = time.perf_counter()
    sent["timer"].join()
    threads = [t.name for t in threading.enumerate()
               if t is not threading.main_thread() and t.is_alive()]
    again = minpack.leastsq_batch(residual, small, m=N, workers=2)
    usable = all(np.array_equal(getattr(again, name), getattr(before, name))
                 for name in ("x", "ier", "nfev"))
    return {"latency": caught - sent["t"], "ran_for": caught - t0, "threads": threads,
            "usable": usable, "full": full}


def scenario_compiled_single() -> dict:
    """One long compiled leastsq: the fit runs in Fortran without the GIL and
    Python cannot act on Ctrl-C before it returns (measured, not gated)."""
    import minpack

    residual = compiled_rosenbrock()
    n = 600  # 600 columns: each iteration is a 600 x 600 QR and more
    start = np.tile([-1.2, 1.0], n // 2)
    sent = interrupt_after(0.05)
    t0 = time.perf_counter()
    try:
        minpack.leastsq(residual, start, m=n, maxfev=3000)
        for _ in range(100):  # the signal is handled here, if not before
            time.sleep(0.01)
        raise SystemExit("no KeyboardInterrupt")
    except KeyboardInterrupt:
        caught = time.perf_counter()
    return {"latency": caught - sent["t"], "ran_for": caught - t0, "threads": [],
            "usable": True}


SCENARIOS = {
    "python": scenario_python,
    "python-busy": scenario_python_busy,
    "python-batch": scenario_python_batch,
    "compiled-batch": scenario_compiled_batch,
    "compiled-single": scenario_compiled_single,
}


def run_scenario(name: str) -> dict:
    out = subprocess.run([sys.executable, __file__, name], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["python", "python-busy", "python-batch"])
def test_python_fit_stops_within_one_evaluation(name: str, report: Any) -> None:
    res = run_scenario(name)
    report("interrupts: SIGINT during a long fit (latency to KeyboardInterrupt)",
           f"{name:16s} {1000 * res['latency']:6.1f} ms, "
           f"{res['evaluations_after_signal']} evaluation(s) started after the "
           f"signal (of {res['evaluations']})")
    # the gate is a count, not a time (the latency is only reported)
    assert res["evaluations_after_signal"] <= 1, res
    assert res["usable"], res
    assert not res["threads"], res


def test_compiled_batch_stops_promptly(report: Any) -> None:
    pytest.importorskip("numba")
    res = run_scenario("compiled-batch")
    report("interrupts: SIGINT during a long fit (latency to KeyboardInterrupt)",
           f"compiled-batch   {1000 * res['latency']:6.1f} ms (2 worker threads; "
           f"threads left: {res['threads'] or 'none'}; the whole batch would "
           f"take {res['full']:.1f} s)")
    # stopped long before the end: within 1% of the batch's duration as
    # measured on this machine in the same run (so a loaded machine, where
    # every chunk takes longer, is judged by its own speed), or 0.2 s
    assert res["latency"] < max(0.2, res["full"] / 100), res
    assert not res["threads"], res
    assert res["usable"], res


def test_compiled_single_fit_latency(report: Any) -> None:
    """Not gated: a single compiled fit holds no GIL and cannot be interrupted
    before it returns; the measured delay is reported."""
    pytest.importorskip("numba")
    res = run_scenario("compiled-single")
    report("interrupts: SIGINT during a long fit (latency to KeyboardInterrupt)",
           f"compiled-single  {1000 * res['latency']:6.1f} ms (one leastsq call "
           f"with a compiled residual, {1000 * res['ran_for']:.0f} ms long: "
           f"answered when the fit returns; not gated)")


if __name__ == "__main__":
    # A process started in the background by a non-interactive shell inherits
    # SIGINT as ignored, and Python then installs no KeyboardInterrupt handler;
    # the scenarios are about a normal interactive process, so install it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print(json.dumps(SCENARIOS[sys.argv[1]]()))
