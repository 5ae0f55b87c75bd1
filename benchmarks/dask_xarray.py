"""minpack.xarray and minpack.dask side by side with xarray's curvefit.

Two measurements, each run round after round in one process (median of the
rounds):

1. ``curvefit`` on a 100 x 100 x 50 cube of decays (``y = a exp(-k t) + c``
   with its own a, k, c and noise in every pixel), the same plain NumPy model
   for both: xarray's ``DataArray.curvefit`` (one SciPy ``curve_fit`` per
   pixel) against ``minpack.xarray.curvefit`` (one ``curve_fit_batch`` per
   block of pixels), in memory and chunked (Dask's threads).
2. 10^6 exponential fits (50 points, 3 parameters) on a ``dask.distributed``
   LocalCluster of 2 worker processes (one thread each), the data already on
   the workers, against the in-process ``curve_fit_batch(workers=2)``.

It prints the times, the ratios and how far the coefficients are apart.

Usage::

    python benchmarks/dask_xarray.py             # 3 rounds, full sizes
    python benchmarks/dask_xarray.py --quick     # small sizes, 1 round

Needs SciPy, xarray, dask and distributed (``ci/requirements-test.txt`` has
them; ``pip install minpack[dask,xarray] scipy`` for a user).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import dask
import dask.array as da
import distributed
import numpy as np
import scipy
import xarray as xr

import minpack
import minpack.dask
import minpack.xarray  # noqa: F401 - the accessor


def model(t, a, k, c):
    """The model of both measurements, plain NumPy."""
    return a * np.exp(-k * t) + c


P0 = {"a": 2.0, "k": 1.0, "c": 0.0}


def cube(side: int, nt: int = 50) -> xr.DataArray:
    """A side x side x nt cube of noisy decays."""
    rng = np.random.default_rng(20261207)
    t = np.linspace(0.0, 5.0, nt)
    a = rng.uniform(1.0, 3.0, (side, side, 1))
    k = rng.uniform(0.5, 2.0, (side, side, 1))
    c = rng.uniform(-0.5, 0.5, (side, side, 1))
    y = model(t, a, k, c) + 0.01 * rng.standard_normal((side, side, nt))
    return xr.DataArray(y, dims=("y", "x", "t"), coords={"t": t})


def timed(run) -> tuple[float, object]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def curvefit_rounds(side: int, rounds: int) -> None:
    data = cube(side)
    chunked = data.chunk({"y": max(1, side // 4)})
    pixels = side * side
    print(f"\n1. curvefit on a {side} x {side} x {data.sizes['t']} cube ({pixels} "
          f"fits), {rounds} round(s); chunked: {len(chunked.chunks[0])} chunks of "
          f"pixels on Dask's threads")
    runs = {
        "xarray, in memory": lambda: data.curvefit("t", model, p0=P0),
        "minpack, in memory": lambda: data.minpack.curvefit("t", model, p0=P0),
        "xarray, chunked": lambda: chunked.curvefit("t", model, p0=P0).compute(
            scheduler="threads"),
        "minpack, chunked": lambda: chunked.minpack.curvefit("t", model, p0=P0).compute(
            scheduler="threads"),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    results = {}
    for _ in range(rounds):
        for name, run in runs.items():
            elapsed, results[name] = timed(run)
            times[name].append(elapsed)
    median = {name: statistics.median(v) for name, v in times.items()}
    for name in runs:
        print(f"  {name:20s} {median[name]:8.3f} s  {median[name] / pixels * 1e6:8.1f} "
              f"us a pixel")
    for how in ("in memory", "chunked"):
        ratio = median[f"xarray, {how}"] / median[f"minpack, {how}"]
        ours = results[f"minpack, {how}"].curvefit_coefficients.values
        theirs = results[f"xarray, {how}"].curvefit_coefficients.values
        rel = np.max(np.abs(ours - theirs) / np.abs(theirs))
        print(f"  {how:9s}: minpack {ratio:6.1f}x faster than xarray; coefficients "
              f"max relative difference {rel:.1e}")


def synthetic_block(block_id: tuple, t: np.ndarray, size: int) -> np.ndarray:
    """The data of one chunk of the 10^6 fits, made from its index (the same
    values on a worker as in this process).
    """
    rng = np.random.default_rng([20261207, block_id[0]])
    truth = rng.uniform([1.0, 0.5, -0.5], [3.0, 2.0, 0.5], size=(size, 3))
    y = model(t, truth[:, :1], truth[:, 1:2], truth[:, 2:])
    return y + 0.01 * rng.standard_normal(y.shape)


# Dask's nanny starts worker processes with MALLOC_TRIM_THRESHOLD_=65536, to
# hand freed memory back to the system at once. Setting it also fixes glibc's
# mmap threshold at 128 kB, so every large temporary array of a batch's rounds
# would be a fresh mmap whose pages fault in again (2.7x slower fits); the
# batch raises both thresholds while it runs (minpack._malloc). The second
# configuration raises them for the whole worker instead, for comparison.
MALLOC_ENVIRON = {"MALLOC_TRIM_THRESHOLD_": str(256 * 2**20),
                  "MALLOC_MMAP_THRESHOLD_": str(32 * 2**20)}  # glibc's largest


def cluster_rounds(fits: int, chunk: int, rounds: int, environ: dict | None) -> None:
    t = np.linspace(0.0, 4.0, 50)
    sizes = [chunk] * (fits // chunk) + ([fits % chunk] if fits % chunk else [])
    y = np.concatenate([synthetic_block((i,), t, s) for i, s in enumerate(sizes)])
    p0 = [1.0, 1.0, 0.0]
    setting = "Dask's default worker environment" if environ is None else (
        "workers with " + ", ".join(f"{k}={v}" for k, v in environ.items()))
    print(f"\n2. {fits} exponential fits (m = 50, n = 3), {rounds} round(s): a "
          f"LocalCluster of 2 worker processes (1 thread each; {len(sizes)} chunks "
          f"of {chunk}, the data on the workers) vs curve_fit_batch(workers=2) here; "
          f"{setting}")
    config = {"distributed.comm.timeouts.connect": "60s"}
    if environ is not None:
        config.update({f"distributed.nanny.pre-spawn-environ.{k}": v
                       for k, v in environ.items()})
    cluster = distributed.LocalCluster  # two worker processes on loopback
    with dask.config.set(config), \
            cluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                    dashboard_address=None) as local, \
            distributed.Client(local) as client:
        lazy_y = da.map_blocks(synthetic_block, t=t, size=chunk, dtype=np.float64,
                               chunks=(tuple(sizes), (t.size,)))
        on_workers = client.persist(lazy_y)
        distributed.wait(on_workers)
        times: dict[str, list[float]] = {"cluster": [], "in-process": []}
        results = {}
        for _ in range(rounds):
            elapsed, results["in-process"] = timed(
                lambda: minpack.curve_fit_batch(model, t, y, p0=p0, workers=2))
            times["in-process"].append(elapsed)
            elapsed, results["cluster"] = timed(
                lambda: minpack.dask.curve_fit_batch(model, t, on_workers, p0=p0)
                .compute(scheduler=client))
            times["cluster"].append(elapsed)
    median = {name: statistics.median(v) for name, v in times.items()}
    for name in ("in-process", "cluster"):
        each = median[name] / fits * 1e6
        print(f"  {name:12s} {median[name]:8.3f} s  {each:6.2f} us a fit")
    same = all(np.array_equal(getattr(results["cluster"], name),
                              getattr(results["in-process"], name), equal_nan=True)
               for name in ("popt", "pcov", "ier", "nfev"))
    print(f"  cluster / in-process: {median['cluster'] / median['in-process']:.2f}; "
          f"results identical: {same}; converged: "
          f"{int(results['cluster'].success.sum())} of {fits}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=None,
                        help="rounds of each measurement (default 3, 1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="a 30 x 30 cube and 20,000 fits")
    parser.add_argument("--skip-cluster", action="store_true",
                        help="only the curvefit measurement")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    print(f"minpack {minpack.__version__}, xarray {xr.__version__}, dask "
          f"{dask.__version__}, distributed {distributed.__version__}, SciPy "
          f"{scipy.__version__}, numpy {np.__version__}, Python "
          f"{platform.python_version()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}")
    curvefit_rounds(30 if args.quick else 100, rounds)
    if not args.skip_cluster:
        fits, chunk = (20_000, 2_500) if args.quick else (1_000_000, 62_500)
        for environ in (None, MALLOC_ENVIRON):
            cluster_rounds(fits, chunk, rounds, environ)


if __name__ == "__main__":
    main()
