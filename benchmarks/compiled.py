"""Compiled residuals and `leastsq_batch` against the floor and SciPy.

The floor is ``benchmarks/fit_exp.f90``: the fit of ``y = a exp(-b t) + c``
(m = 50, n = 3) with a Fortran residual through our engine, no Python at all.
In the same run this script times

* one fit with a numba ``cfunc`` residual through ``minpack.leastsq`` (lmdif,
  and lmder with a compiled Jacobian), against the floor and against
  ``scipy.optimize.leastsq`` with a NumPy residual on the same problem;
* the same on MGH problem 8, Bard (m = 15, n = 3), where SciPy's per-call
  overhead dominates;
* ``minpack.leastsq_batch`` on 20,000 such problems with ``workers=1`` and
  ``workers=2``: 20,000 copies of the floor's problem (the same work as the
  floor) and 20,000 different data sets, against a Python loop over
  ``scipy.optimize.leastsq`` (timed on a subset and extrapolated);
* the batch throughput for m = 64 (fits per second), against the 86,000 fits/s
  that cminpack-numba reached on 2 cores.

It prints median times, then the ratios minpack aims for, each with its target.
Timings of the candidates are taken in turn, round after round, so that drift
in the machine's speed hits all of them; the load average is printed at the
start and the end, since other processes skew every number.

Usage::

    python benchmarks/compiled.py                      # builds fit_exp into build/bench
    python benchmarks/compiled.py --fit-exp PATH       # an fit_exp already built
    python benchmarks/compiled.py --quick              # fewer rounds and problems

Needs numba and SciPy (``ci/requirements-test.txt``), and meson, ninja and
gfortran to build ``fit_exp``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numba
import numpy as np
import scipy
import scipy.optimize
from numba import types

import minpack

ROOT = Path(__file__).resolve().parents[1]
# Bard's data (MGH problem 8) from the tests' registry of compiled models.
sys.path.insert(0, str(ROOT / "tests"))
from support.compiled_models import BARD_Y  # noqa: E402

X0 = (1.0, 1.0, 0.0)
BARD_X0 = (1.0, 1.0, 1.0)
PEER_FITS_PER_S = 86_000  # cminpack-numba, m = 64, 2 cores

# ---------------------------------------------------------------------------
# the problems
# ---------------------------------------------------------------------------


def exp_data(m: int = 50, a: float = 3.0, b: float = 1.3, c: float = 0.5,
             phase: float = 0.0) -> np.ndarray:
    """``[t_1..t_m, y_1..y_m]`` as fit_exp.f90 makes them (the defaults).

    Computed with the C library's ``exp`` and ``sin``, as gfortran's are, in
    the same order of operations, so the floor and this script fit the same
    numbers to the bit.
    """
    t = [4.0 * i / (m - 1) for i in range(m)]
    y = [a * math.exp(-b * ti) + c + 0.01 * math.sin(7.0 * ti + phase) for ti in t]
    return np.array(t + y)


def varied_data(count: int, m: int, seed: int = 4) -> np.ndarray:
    """`count` different data sets of the exp model, one per row."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(1.0, 5.0, count)
    b = rng.uniform(0.5, 2.5, count)
    c = rng.uniform(0.0, 1.0, count)
    t = 4.0 * np.arange(m) / (m - 1)
    y = (a[:, None] * np.exp(-b[:, None] * t) + c[:, None]
         + 0.01 * np.sin(7.0 * t + rng.uniform(0.0, 6.0, count)[:, None]))
    return np.hstack([np.broadcast_to(t, (count, m)), y])


FUNC_SIG = types.intc(types.intc, types.intc, types.CPointer(types.double),
                      types.CPointer(types.double), types.voidptr)
JAC_SIG = types.intc(types.intc, types.intc, types.CPointer(types.double),
                     types.CPointer(types.double), types.intc, types.voidptr)


@numba.cfunc(FUNC_SIG)
def exp_residuals(m, n, x, fvec, user_data):
    """Residuals of the exp model; user_data points at ``[t, y]``."""
    d = numba.carray(user_data, (2 * m,), np.float64)
    for i in range(m):
        fvec[i] = d[m + i] - (x[0] * math.exp(-x[1] * d[i]) + x[2])
    return 0


@numba.cfunc(JAC_SIG)
def exp_jacobian(m, n, x, fjac, ldfjac, user_data):
    """Jacobian of the exp model, column-major."""
    d = numba.carray(user_data, (2 * m,), np.float64)
    for i in range(m):
        e = math.exp(-x[1] * d[i])
        fjac[i] = -e
        fjac[ldfjac + i] = x[0] * d[i] * e
        fjac[2 * ldfjac + i] = -1.0
    return 0


@numba.cfunc(FUNC_SIG)
def bard_residuals(m, n, x, fvec, user_data):
    """Residuals of Bard's problem; user_data points at y."""
    y = numba.carray(user_data, (m,), np.float64)
    for i in range(m):
        u = i + 1.0
        v = 15.0 - i
        w = min(u, v)
        fvec[i] = y[i] - (x[0] + u / (v * x[1] + w * x[2]))
    return 0


@numba.cfunc(JAC_SIG)
def bard_jacobian(m, n, x, fjac, ldfjac, user_data):
    """Jacobian of Bard's problem, column-major."""
    for i in range(m):
        u = i + 1.0
        v = 15.0 - i
        w = min(u, v)
        den = v * x[1] + w * x[2]
        fjac[i] = -1.0
        fjac[ldfjac + i] = u * v / (den * den)
        fjac[2 * ldfjac + i] = u * w / (den * den)
    return 0


def exp_numpy(x, d):
    """Return the exp residuals with NumPy (for SciPy)."""
    m = d.size // 2
    return d[m:] - (x[0] * np.exp(-x[1] * d[:m]) + x[2])


def exp_numpy_jac(x, d):
    """Return the exp Jacobian with NumPy (for SciPy)."""
    m = d.size // 2
    t = d[:m]
    e = np.exp(-x[1] * t)
    return np.column_stack([-e, x[0] * t * e, np.full(m, -1.0)])


_U = np.arange(1.0, 16.0)
_V = 16.0 - _U
_W = np.minimum(_U, _V)


def bard_numpy(x, y):
    """Return Bard's residuals with NumPy (for SciPy)."""
    return y - (x[0] + _U / (_V * x[1] + _W * x[2]))


def bard_numpy_jac(x, y):
    """Return Bard's Jacobian with NumPy (for SciPy)."""
    den = _V * x[1] + _W * x[2]
    return np.column_stack([np.full(15, -1.0), _U * _V / den**2, _U * _W / den**2])


# ---------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------


class Timing(NamedTuple):
    """Seconds per call: wall-clock, and CPU time of the whole process."""

    wall: float
    cpu: float


def calls_for(fn: Callable[[], object], seconds: float) -> int:
    """How many calls of `fn` take about `seconds` (after one warm-up call)."""
    fn()
    count, elapsed = 1, 0.0
    while elapsed < seconds / 4:
        count *= 2
        t0 = time.perf_counter()
        for _ in range(count):
            fn()
        elapsed = time.perf_counter() - t0
    return max(1, int(count * seconds / elapsed))


def interleaved(candidates: dict[str, tuple[Callable[[], object], int]],
                rounds: int) -> dict[str, Timing]:
    """Time each candidate ``name: (fn, calls per timing)``: the median per call.

    The candidates are timed in turn, round after round.
    """
    walls: dict[str, list] = {name: [] for name in candidates}
    cpus: dict[str, list] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, (fn, number) in candidates.items():
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(number):
                fn()
            cpus[name].append((time.process_time() - c0) / number)
            walls[name].append((time.perf_counter() - w0) / number)
    return {name: Timing(statistics.median(walls[name]), statistics.median(cpus[name]))
            for name in candidates}


def load_average() -> str:
    """Return the load average, for the record."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} CPUs"


# ---------------------------------------------------------------------------
# the Fortran floor
# ---------------------------------------------------------------------------


def meson_command() -> list[str]:
    """Return the command that runs meson: the venv's, PATH's, or the module."""
    beside = Path(sys.executable).with_name("meson")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("meson")
    return [found] if found else [sys.executable, "-m", "mesonbuild.mesonmain"]


def build_fit_exp(build_dir: Path) -> Path:
    """Build benchmarks/fit_exp.f90 (the library alone, no Python) into `build_dir`."""
    meson = meson_command()
    if not (build_dir / "build.ninja").exists():
        subprocess.run([*meson, "setup", str(build_dir), "-Dpython=disabled"],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*meson, "compile", "-C", str(build_dir), "fit_exp"], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    return build_dir / "benchmarks" / "fit_exp"


def build_scalar_floor(build_dir: Path) -> Path | None:
    """fit_exp again, compiled with -fno-tree-vectorize, or None if that fails.

    At -O3 gfortran vectorizes the residual loop and calls glibc's libmvec
    (``_ZGVbN2v_exp``: two exponentials at once, to within 4 ulp), which a
    numba residual does not: its ``math.exp`` is the scalar C library
    function. This variant shows how much of the floor that is.
    """
    try:
        commands = json.loads((build_dir / "compile_commands.json").read_text())
        entry = next(c for c in commands if c["file"].endswith("fit_exp.f90"))
        argv = shlex.split(entry["command"])
        out_dir = build_dir / "fit_exp_scalar"
        out_dir.mkdir(exist_ok=True)
        obj = out_dir / "fit_exp.o"
        argv[argv.index("-o") + 1] = str(obj)
        argv = [f"-J{out_dir}" if a.startswith("-J") else a for a in argv]
        argv.append("-fno-tree-vectorize")
        exe = out_dir / "fit_exp"
        subprocess.run(argv, cwd=entry["directory"], check=True)
        subprocess.run([argv[0], "-o", str(exe), str(obj),
                        str(build_dir / "minpack" / "libminpack.a")],
                       cwd=entry["directory"], check=True)
        return exe
    except (OSError, ValueError, StopIteration, subprocess.CalledProcessError) as exc:
        print(f"  (no scalar-exp floor: {exc})")
        return None


def run_floor(exe: Path, repeats: int) -> dict:
    """Run fit_exp: time per fit for lmdif and lmder, and its final x.

    fit_exp reports wall-clock medians; the CPU time per fit is estimated by
    scaling them with the share of the run the program was on a CPU (its CPU
    time from getrusage over its wall-clock time).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    w0 = time.perf_counter()
    out = subprocess.run([str(exe), str(repeats)], check=True, capture_output=True,
                         text=True).stdout
    wall = time.perf_counter() - w0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    share = min(1.0, (after.ru_utime + after.ru_stime - before.ru_utime
                      - before.ru_stime) / wall)
    result: dict = {}
    for line in out.splitlines():
        words = line.split()
        if words and words[0] in ("lmdif_us", "lmder_us"):
            t = float(words[1]) * 1e-6
            result[words[0][:5]] = Timing(t, t * share)
        elif words and words[0] == "x":
            result["x"] = np.array([float(w.replace("D", "E")) for w in words[1:]])
    return result


def fastest(*runs: dict | None) -> dict:
    """Per method, the smaller wall and CPU times over several floor runs."""
    runs = tuple(r for r in runs if r is not None)
    return {method: Timing(min(r[method].wall for r in runs),
                           min(r[method].cpu for r in runs))
            for method in ("lmdif", "lmder")}


# ---------------------------------------------------------------------------
# the benchmark
# ---------------------------------------------------------------------------


def us(t: Timing) -> str:
    """Format a timing in microseconds: wall, CPU."""
    return f"{t.wall * 1e6:9.2f} us {t.cpu * 1e6:9.2f} us"


def per_second(t: Timing) -> str:
    """Format a timing as calls per second: wall, CPU."""
    return f"{1 / t.wall:9.0f} /s {1 / t.cpu:9.0f} /s"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fit-exp", type=Path,
                        help="the fit_exp executable (default: build it)")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build" / "bench",
                        help="where to build fit_exp (default: build/bench)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer rounds and problems: a smoke test")
    parser.add_argument("--rounds", type=int, default=None,
                        help="timing rounds per candidate (default 7, --quick 3)")
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 7)
    batch_rounds = max(3, rounds // 2)
    seconds = 0.02 if args.quick else 0.1  # per timing of a single-fit candidate
    K = 2000 if args.quick else 20_000
    scipy_subset = 100 if args.quick else 1000
    floor_repeats = 2000 if args.quick else 20_000
    cores = os.cpu_count() or 1

    print("minpack benchmark: compiled residuals and leastsq_batch")
    print(f"  python {platform.python_version()}, numpy {np.__version__}, "
          f"scipy {scipy.__version__}, numba {numba.__version__}, minpack "
          f"{minpack.__version__} ({Path(minpack.__file__).parent})")
    print(f"  load average at start: {load_average()}")

    exe = args.fit_exp or build_fit_exp(args.build_dir)
    scalar_exe = build_scalar_floor(Path(exe).resolve().parents[1])
    floor = [run_floor(exe, floor_repeats)]
    scalar = [None if scalar_exe is None else run_floor(scalar_exe, floor_repeats)]

    # -- single fits: the exp problem and Bard -----------------------------
    data = exp_data()
    x0 = np.array(X0)
    bard_x0 = np.array(BARD_X0)
    ours = {
        "exp lmdif": lambda: minpack.leastsq(exp_residuals, x0, args=(data,), m=50),
        "exp lmder": lambda: minpack.leastsq(exp_residuals, x0, args=(data,), m=50,
                                             Dfun=exp_jacobian),
        "bard lmdif": lambda: minpack.leastsq(bard_residuals, bard_x0, args=(BARD_Y,),
                                              m=15),
        "bard lmder": lambda: minpack.leastsq(bard_residuals, bard_x0, args=(BARD_Y,),
                                              m=15, Dfun=bard_jacobian),
    }
    theirs = {
        "exp lmdif": lambda: scipy.optimize.leastsq(exp_numpy, x0, args=(data,)),
        "exp lmder": lambda: scipy.optimize.leastsq(exp_numpy, x0, args=(data,),
                                                    Dfun=exp_numpy_jac),
        "bard lmdif": lambda: scipy.optimize.leastsq(bard_numpy, bard_x0,
                                                     args=(BARD_Y,)),
        "bard lmder": lambda: scipy.optimize.leastsq(
            bard_numpy, bard_x0, args=(BARD_Y,), Dfun=bard_numpy_jac),
    }
    # diagnostic: the extension called directly, without leastsq's Python layer
    eps = float(np.finfo(np.float64).eps)
    direct = {
        "exp lmdif": lambda: minpack._minpack.lm_compiled(
            exp_residuals.address, 0, None, (data,), x0, 50,
            1.49012e-8, 1.49012e-8, 0.0, 0, eps, 100.0, None, False),
        "exp lmder": lambda: minpack._minpack.lm_compiled(
            exp_residuals.address, exp_jacobian.address, None, (data,), x0, 50,
            1.49012e-8, 1.49012e-8, 0.0, 0, eps, 100.0, None, False),
    }
    candidates = {}
    for name in ours:
        candidates["minpack " + name] = (ours[name], calls_for(ours[name], seconds))
        candidates["scipy " + name] = (theirs[name], calls_for(theirs[name], seconds))
    for name, fn in direct.items():
        try:
            candidates["direct " + name] = (fn, calls_for(fn, seconds))
        except (TypeError, ValueError, AttributeError) as exc:  # a changed private API
            print(f"  (no direct lm_compiled timing: {exc})")
    single = interleaved(candidates, rounds)
    x_lmder = minpack.leastsq(exp_residuals, x0, args=(data,), m=50,
                              Dfun=exp_jacobian)[0]
    x_scipy = scipy.optimize.leastsq(exp_numpy, x0, args=(data,))[0]

    # -- batches ---------------------------------------------------------
    same = np.ascontiguousarray(np.broadcast_to(data, (K, data.size)))
    varied = varied_data(K, 50)
    varied64 = varied_data(K, 64)
    starts = np.tile(X0, (K, 1))

    def batch(func_data: np.ndarray, workers: int, jac: bool, m: int = 50):
        def run():
            return minpack.leastsq_batch(exp_residuals, starts, args=func_data, m=m,
                                         Dfun=exp_jacobian if jac else None,
                                         workers=workers)
        return run

    candidates = {}
    for jac, method in ((False, "lmdif"), (True, "lmder")):
        for workers in (1, 2):
            candidates[f"same {method} w{workers}"] = (batch(same, workers, jac), 1)
            candidates[f"varied {method} w{workers}"] = (batch(varied, workers, jac), 1)
        candidates[f"m=64 {method} w2"] = (batch(varied64, 2, jac, m=64), 1)
    batched = {name: Timing(t.wall / K, t.cpu / K)
               for name, t in interleaved(candidates, batch_rounds).items()}
    check = minpack.leastsq_batch(exp_residuals, starts[:3], args=same[:3], m=50,
                                  Dfun=exp_jacobian)
    varied_nfev = {
        method: minpack.leastsq_batch(exp_residuals, starts, args=varied, m=50,
                                      Dfun=exp_jacobian if jac else None).nfev
        for jac, method in ((False, "lmdif"), (True, "lmder"))}

    def scipy_loop(jac: bool):
        def run():
            for k in range(scipy_subset):
                scipy.optimize.leastsq(exp_numpy, X0, args=(varied[k],),
                                       Dfun=exp_numpy_jac if jac else None)
        return run

    loop = {name: Timing(t.wall / scipy_subset, t.cpu / scipy_subset)
            for name, t in interleaved({"lmdif": (scipy_loop(False), 1),
                                        "lmder": (scipy_loop(True), 1)},
                                       batch_rounds).items()}
    floor.append(run_floor(exe, floor_repeats))
    scalar.append(None if scalar_exe is None else run_floor(scalar_exe, floor_repeats))

    # -- report ----------------------------------------------------------
    print("\nAll times are medians per fit: wall-clock, then CPU time (the CPU time of")
    print("the process over the same calls; under load it is the better guide to an")
    print("idle machine, except for what only the wall clock shows: parallel speedup).")
    header = f"{'wall':>12}{'CPU':>13}"
    print(f"\nFortran floor ({exe}), {floor_repeats} fits x 7 rounds, run before and "
          f"after the rest")
    print(f"  {'':<32}{header}")
    for method in ("lmdif", "lmder"):
        for i, run in enumerate(floor):
            print(f"  {method + (' (before)' if i == 0 else ' (after)'):<32}"
                  f"{us(run[method])}")
    print(f"  |x - minpack.leastsq's x| (lmder): "
          f"{np.max(np.abs(floor[0]['x'] - x_lmder)):.1e} (gfortran vectorizes the "
          f"residual loop: libmvec's exp rounds differently)")
    if scalar[0] is not None:
        print("Fortran floor with the scalar C-library exp, as numba's "
              "(-fno-tree-vectorize)")
        for method in ("lmdif", "lmder"):
            for i, run in enumerate(scalar):
                print(f"  {method + (' (before)' if i == 0 else ' (after)'):<32}"
                      f"{us(run[method])}")
        print(f"  x equals minpack.leastsq's (lmder) bit for bit: "
              f"{np.array_equal(scalar[0]['x'], x_lmder)}")
    best = fastest(*floor)
    best_scalar = fastest(*scalar) if scalar[0] is not None else None

    print(f"\nSingle fits from Python, median of {rounds} rounds")
    print(f"  {'':<32}{header}")
    for name in ours:
        print(f"  {'minpack cfunc ' + name:<32}{us(single['minpack ' + name])}")
        print(f"  {'scipy NumPy ' + name:<32}{us(single['scipy ' + name])}")
    for name in direct:
        if "direct " + name in single:
            print(f"  {'(diagnostic) lm_compiled ' + name:<32}"
                  f"{us(single['direct ' + name])}")
    print(f"  exp: |minpack x - scipy x| = {np.max(np.abs(x_lmder - x_scipy)):.1e}")

    print(f"\nleastsq_batch, K = {K}, median of {batch_rounds} rounds "
          f"('same': K copies of the floor's problem)")
    print(f"  {'':<32}{header}{'fits/s (wall, CPU)':>24}")
    for name, t in batched.items():
        print(f"  {name:<32}{us(t)}   {per_second(t)}")
    print(f"  mean nfev of the varied problems: lmdif "
          f"{varied_nfev['lmdif'].mean():.1f}, lmder {varied_nfev['lmder'].mean():.1f}"
          f" (the floor's problem: lmdif 25, lmder 7)")
    rows_equal = all(np.array_equal(check.x[k], x_lmder) for k in range(3))
    print(f"  rows equal leastsq: {rows_equal}")
    print(f"\nPython loop over scipy.optimize.leastsq (NumPy residual), the first "
          f"{scipy_subset} varied problems")
    for method, t in loop.items():
        print(f"  {method:<32}{us(t)}   {per_second(t)}")

    print("\nTargets: measured (wall clock) and estimated for an idle machine")
    print("(CPU times; the speedup and 2-core throughputs as if each worker had a "
          "core)")
    rows = []

    def row(label, wall, cpu, op, target):
        rows.append((label, wall, cpu, op, target))

    for method in ("lmdif", "lmder"):
        t = single[f"minpack exp {method}"]
        row(f"numba single fit / Fortran ({method})", t.wall / best[method].wall,
            t.cpu / best[method].cpu, "<=", 1.3)
        if best_scalar is not None:
            row(f"  against the scalar-exp floor ({method})",
                t.wall / best_scalar[method].wall, t.cpu / best_scalar[method].cpu,
                "<=", 1.3)
    for problem, target in (("exp", 8), ("bard", 12)):
        for method in ("lmdif", "lmder"):
            a = single[f"minpack {problem} {method}"]
            b = single[f"scipy {problem} {method}"]
            row(f"SciPy / numba, {problem} ({method})", b.wall / a.wall, b.cpu / a.cpu,
                ">=", target)
    for method in ("lmdif", "lmder"):
        t = batched[f"same {method} w1"]
        row(f"batch per fit, 1 worker / Fortran ({method})", t.wall / best[method].wall,
            t.cpu / best[method].cpu, "<=", 1.3)
        if best_scalar is not None:
            row(f"  against the scalar-exp floor ({method})",
                t.wall / best_scalar[method].wall, t.cpu / best_scalar[method].cpu,
                "<=", 1.3)
    for kind in ("same", "varied"):
        for method in ("lmdif", "lmder"):
            one, two = batched[f"{kind} {method} w1"], batched[f"{kind} {method} w2"]
            row(f"workers=2 speedup ({kind}, {method})", one.wall / two.wall,
                2 * one.cpu / two.cpu, ">=", 1.7)
    for method in ("lmdif", "lmder"):
        t = batched[f"varied {method} w2"]
        row(f"batch, 2 workers / SciPy loop ({method})", loop[method].wall / t.wall,
            2 * loop[method].cpu / t.cpu, ">=", 15)
    for method in ("lmdif", "lmder"):
        t = batched[f"m=64 {method} w2"]
        row(f"m=64 fits/s, 2 workers / 86,000 ({method})",
            1 / t.wall / PEER_FITS_PER_S, 2 / t.cpu / PEER_FITS_PER_S, ">=", 1.0)
    print(f"  {'':<46}{'measured':>9}{'idle est.':>10}")
    for label, wall, cpu, op, target in rows:
        verdict = ["not met", "met"][wall <= target if op == "<=" else wall >= target]
        estimate = ["at risk", "ok"][cpu <= target if op == "<=" else cpu >= target]
        print(f"  {label:<46}{wall:9.2f}{cpu:10.2f}  target {op} {target:<4} "
              f"{verdict:>8}, idle: {estimate}")
    if cores < 2:
        print("  (one CPU: the 2-worker figures are estimates only)")
    print(f"\n  load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
