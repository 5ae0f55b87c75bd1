"""No leaks: 100,000 fits through each public path keep the process's memory flat.

Each path runs in a fresh subprocess (this file is also the child script;
two run at a time):
after a warm-up (5% of the fits: caches, numba, first allocations) the
resident set size (``/proc/self/statm``) is read, the remaining fits run,
and the RSS is read again; the growth must stay under 5 MB. A second, shorter
run under ``tracemalloc`` compares snapshots before and after and sums the
growth of the allocations made from minpack's own files (its Python code and
everything its C trampoline and f2py glue allocate while running it): under
64 KB, i.e. nothing that grows with the number of fits.

The figures are printed in the test summary.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

FITS = 100_000
TRACED_FITS = 5_000
RSS_LIMIT = 5 * 2**20
TRACED_LIMIT = 64 * 2**10

T = np.linspace(0.0, 1.0, 6)
Y = 2.0 * np.exp(-1.3 * T) + 0.1


class Boom(Exception):
    pass


def _python_residual(p: np.ndarray) -> np.ndarray:
    return p[0] * np.exp(-p[1] * T) + 0.1 - Y


def _python_jacobian(p: np.ndarray) -> np.ndarray:
    e = np.exp(-p[1] * T)
    return np.column_stack([e, -p[0] * T * e])


def _compiled_residual() -> Any:
    import math

    import numba
    from numba import carray, types

    dptr = types.CPointer(types.double)

    @numba.cfunc(types.intc(types.intc, types.intc, dptr, dptr, dptr), nopython=True)
    def residual(m, n, x_, f_, y_):  # pragma: no cover - compiled
        x = carray(x_, (n,))
        f = carray(f_, (m,))
        y = carray(y_, (m,))
        for i in range(m):
            t = i / (m - 1.0)
            f[i] = x[0] * math.exp(-x[1] * t) + 0.1 - y[i]
        return 0

    return residual


def workload(path: str) -> tuple[Callable[[], Any], int]:
    """A function doing one unit of work on `path`, and the fits per unit."""
    import minpack

    x0 = np.array([1.0, 1.0])
    if path == "python":
        return lambda: minpack.leastsq(_python_residual, x0, full_output=True), 1
    if path == "python-jacobian":
        return lambda: minpack.leastsq(_python_residual, x0, Dfun=_python_jacobian,
                                       full_output=True), 1
    if path == "raising":
        state = {"calls": 0}

        def raising(p: np.ndarray) -> np.ndarray:
            state["calls"] += 1
            if state["calls"] % 4 == 0:  # on the first call, or in the middle
                raise Boom("residual raised")
            return _python_residual(p)

        def one() -> None:
            try:
                minpack.leastsq(raising, x0, full_output=True)
            except Boom:
                pass

        return one, 1
    if path == "curve_fit":
        def model(t: np.ndarray, a: float, b: float) -> np.ndarray:
            return a * np.exp(-b * t) + 0.1
        return lambda: minpack.curve_fit(model, T, Y, p0=x0), 1
    if path == "fsolve":
        return lambda: minpack.fsolve(lambda p: [p[0] ** 2 - 2, p[1] - p[0]], x0), 1
    if path == "compiled":
        residual = _compiled_residual()
        return lambda: minpack.leastsq(residual, x0, args=(Y,), m=Y.size,
                                       full_output=True), 1
    if path == "batch":
        residual = _compiled_residual()
        K = 100
        starts = np.tile(x0, (K, 1))
        data = np.tile(Y, (K, 1))
        return lambda: minpack.leastsq_batch(residual, starts, args=data, m=Y.size,
                                             workers=2, full_output=True), K
    raise ValueError(path)


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(path: str) -> dict:
    one, per_unit = workload(path)
    units = FITS // per_unit
    warm = max(units // 20, 1)
    for _ in range(warm):
        one()
    gc.collect()
    before = rss()
    for _ in range(units - warm):
        one()
    gc.collect()
    after = rss()

    # tracemalloc: allocations made while minpack's files are on the stack
    units = TRACED_FITS // per_unit
    tracemalloc.start(25)
    for _ in range(max(units // 10, 1)):
        one()
    gc.collect()
    first = tracemalloc.take_snapshot()
    for _ in range(units):
        one()
    gc.collect()
    second = tracemalloc.take_snapshot()
    tracemalloc.stop()
    ours = tracemalloc.Filter(True, "*/minpack/*")
    stats = second.filter_traces([ours]).compare_to(first.filter_traces([ours]),
                                                    "filename")
    grown = sum(s.size_diff for s in stats)
    top = [f"{s.traceback[0].filename}: {s.size_diff:+d} B" for s in stats[:3]]
    return {"path": path, "fits": FITS, "rss_before": before, "rss_after": after,
            "traced_fits": TRACED_FITS, "traced_growth": grown, "top": top}


PATHS = ["python", "python-jacobian", "raising", "curve_fit", "fsolve", "compiled",
         "batch"]


def run_child(path: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, __file__, path], capture_output=True,
                          text=True, timeout=900)


@pytest.fixture(scope="module")
def children() -> dict:
    """Every path's child process, two at a time."""
    try:
        import numba  # noqa: F401
        paths = PATHS
    except ImportError:
        paths = [p for p in PATHS if p not in ("compiled", "batch")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(paths, pool.map(run_child, paths), strict=True))


@pytest.mark.parametrize("path", PATHS)
def test_no_leak(path: str, children: dict, report: Any) -> None:
    if path not in children:
        pytest.skip("numba is not installed")
    out = children[path]
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    grown = res["rss_after"] - res["rss_before"]
    report("memory: 100,000 fits per path (RSS growth after warm-up; tracemalloc "
           "growth in minpack's files over 5,000 fits)",
           f"{path:16s} RSS {res['rss_before'] / 2**20:7.1f} MB -> "
           f"{res['rss_after'] / 2**20:7.1f} MB ({grown / 2**10:+8.0f} KB); "
           f"tracemalloc {res['traced_growth']:+d} B")
    assert grown < RSS_LIMIT, res
    assert res["traced_growth"] < TRACED_LIMIT, res


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1])))
