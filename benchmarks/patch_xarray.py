"""xarray's ``DataArray.curvefit`` on SciPy and under ``minpack.patch_scipy``.

A 40 x 40 cube of decays, 50 samples each (``y = a exp(-k t) + c`` with a
different a, k, c and noise in every pixel), fitted along ``t`` by xarray's
own ``curvefit``, which calls ``scipy.optimize.curve_fit`` once per pixel.
The same call runs with SciPy's functions and inside ``minpack.patched_scipy()``,
in turn, round after round (median of the rounds); the user's code is the same
line both times. It prints the time per pixel, the ratio, how many curve_fit
calls reached minpack, and how far the two sets of coefficients are apart
(``popt`` is computed by the same MINPACK steps: identical; the covariance
goes through LAPACK in SciPy: a few ulps).

Usage::

    python benchmarks/patch_xarray.py            # 5 rounds
    python benchmarks/patch_xarray.py --rounds 1

Needs SciPy and xarray (``benchmarks/requirements-patch_xarray.txt``); xarray is
not a dependency of minpack.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import scipy
import xarray as xr

import minpack
from minpack import _patch


def model(t, a, k, c):
    return a * np.exp(-k * t) + c


def cube(ny: int = 40, nx: int = 40, nt: int = 50) -> xr.DataArray:
    rng = np.random.default_rng(20261207)
    t = np.linspace(0.0, 5.0, nt)
    a = rng.uniform(1.0, 3.0, (ny, nx, 1))
    k = rng.uniform(0.5, 2.0, (ny, nx, 1))
    c = rng.uniform(-0.5, 0.5, (ny, nx, 1))
    y = model(t, a, k, c) + 0.01 * rng.standard_normal((ny, nx, nt))
    return xr.DataArray(y, dims=("y", "x", "t"), coords={"t": t})


def fit(data: xr.DataArray) -> tuple[float, xr.Dataset]:
    start = time.perf_counter()
    result = data.curvefit("t", model, p0={"a": 2.0, "k": 1.0, "c": 0.0})
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    data = cube()
    pixels = data.sizes["y"] * data.sizes["x"]
    print(f"xarray {xr.__version__}, SciPy {scipy.__version__}, minpack "
          f"{minpack.__version__}, numpy {np.__version__}, Python "
          f"{platform.python_version()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"DataArray.curvefit on a {' x '.join(map(str, data.shape))} cube "
          f"({pixels} fits of {data.sizes['t']} points), {rounds} rounds, "
          "SciPy and patched in turn")
    times: dict[str, list[float]] = {"scipy": [], "minpack": []}
    results = {}
    for _ in range(rounds):
        elapsed, results["scipy"] = fit(data)
        times["scipy"].append(elapsed)
        before = _patch.calls().get("curve_fit", 0)
        with minpack.patched_scipy():
            elapsed, results["minpack"] = fit(data)
        times["minpack"].append(elapsed)
        reached = _patch.calls()["curve_fit"] - before
        assert reached == pixels, f"{reached} of {pixels} curve_fit calls reached minpack"
    median = {k: statistics.median(v) for k, v in times.items()}
    for k in ("scipy", "minpack"):
        print(f"  {k:8s} {median[k]:7.3f} s   {median[k] / pixels * 1e6:7.1f} us a pixel")
    print(f"  ratio minpack / SciPy {median['minpack'] / median['scipy']:.2f} "
          f"({median['scipy'] / median['minpack']:.2f}x faster); curve_fit calls "
          f"that reached minpack: {pixels} a round")
    ours, theirs = (results[k].curvefit_coefficients.values for k in ("minpack", "scipy"))
    cov_ours, cov_theirs = (results[k].curvefit_covariance.values
                            for k in ("minpack", "scipy"))
    identical = np.array_equal(ours, theirs)
    print(f"  coefficients identical: {identical} (max relative difference "
          f"{np.max(np.abs(ours - theirs) / np.abs(theirs)):.1e}); covariance max "
          f"relative difference {np.max(np.abs(cov_ours - cov_theirs) / np.abs(cov_theirs)):.1e}")


if __name__ == "__main__":
    main()
