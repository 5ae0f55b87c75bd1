"""Many fits of a plain NumPy model: ``curve_fit_batch`` against the loops.

On K exponential fits (``a exp(-k t) + c``, m = 50, n = 3, each data set its
own noisy curve) with the model written as plain NumPy, this script times in
one process, round after round:

* a Python loop of ``scipy.optimize.curve_fit`` (on a subset of the problems,
  extrapolated to K);
* a Python loop of ``minpack.curve_fit`` (idem);
* ``minpack.curve_fit_batch`` with ``workers=1`` and ``workers=2``;
* ``minpack.leastsq_batch`` with a numba ``cfunc`` residual of the same model
  on one worker: the compiled floor.

and the same for a second model, a Gaussian peak on a baseline (m = 40,
n = 4) with per-problem ``xdata`` and ``p0``. It prints the median time per
fit of each, then the ratios the batch aims for: at least 15x the SciPy loop
on one worker, 25x on two, and within 2.5x of the compiled batch.

Usage::

    python benchmarks/batch.py            # K = 20,000, 5 rounds
    python benchmarks/batch.py --quick    # K = 2,000, 3 rounds

Needs SciPy and numba (``ci/requirements-test.txt``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numba
import numpy as np
import scipy.optimize

import minpack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.compiled_models import FUNC_SIG, exp_cfunc  # noqa: E402


def decay(t, a, k, c):
    return a * np.exp(-k * t) + c


def peak(x, h, mu, s, b):
    return h * np.exp(-0.5 * ((x - mu) / s) ** 2) + b


@numba.cfunc(FUNC_SIG)
def peak_cfunc(m, n, p, fvec, user_data):
    """Residuals of the peak model; user_data points at ``[x, y]``."""
    d = numba.carray(user_data, (2 * m,), np.float64)
    for i in range(m):
        u = (d[i] - p[1]) / p[2]
        fvec[i] = d[m + i] - (p[0] * np.exp(-0.5 * u * u) + p[3])
    return 0


def exp_problems(K: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 4.0, 50)
    truth = rng.uniform([1.0, 0.5, 0.0], [3.0, 2.0, 0.5], size=(K, 3))
    y = decay(t, *truth.T[:, :, None]) + 0.01 * rng.standard_normal((K, t.size))
    p0 = np.array([1.0, 1.0, 0.0])
    return dict(name="exp, m=50, n=3", f=decay, cfunc=exp_cfunc, x=t, y=y,
                p0=np.tile(p0, (K, 1)), shared_x=True)


def peak_problems(K: int, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-5.0, 5.0, (K, 40)), axis=1)
    truth = np.column_stack([rng.uniform(1, 3, K), rng.uniform(-1.5, 1.5, K),
                             rng.uniform(0.5, 1.5, K), rng.uniform(0, 0.3, K)])
    y = peak(x, *truth.T[:, :, None]) + 0.02 * rng.standard_normal(x.shape)
    p0 = truth * rng.uniform(0.8, 1.2, truth.shape)
    return dict(name="peak, m=40, n=4, per-problem x, p0", f=peak, cfunc=peak_cfunc,
                x=x, y=y, p0=p0, shared_x=False)


def candidates(pr: dict, K: int, subset: int) -> dict:
    f, x, y, p0 = pr["f"], pr["x"], pr["y"], pr["p0"]
    xk = (lambda k: x) if pr["shared_x"] else (lambda k: x[k])
    xfull = np.broadcast_to(x, y.shape)
    args = np.ascontiguousarray(np.concatenate([xfull, y], axis=1))

    def loop(curve_fit):
        def run():
            for k in range(subset):
                curve_fit(f, xk(k), y[k], p0[k])
            return subset
        return run

    def batch(workers):
        def run():
            res = minpack.curve_fit_batch(f, x, y, p0, workers=workers)
            assert res.success.mean() > 0.99
            return K
        return run

    def compiled():
        res = minpack.leastsq_batch(pr["cfunc"], p0, args=args, m=y.shape[1], workers=1)
        assert res.success.mean() > 0.99
        return K

    return {
        "SciPy curve_fit loop": loop(scipy.optimize.curve_fit),
        "minpack curve_fit loop": loop(minpack.curve_fit),
        "curve_fit_batch, 1 worker": batch(1),
        "curve_fit_batch, 2 workers": batch(2),
        "leastsq_batch numba cfunc, 1 worker": compiled,
    }


def measure(pr: dict, K: int, subset: int, rounds: int) -> dict[str, float]:
    runs = candidates(pr, K, subset)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():  # interleaved: drift hits all alike
            t0 = time.perf_counter()
            count = run()
            times[name].append((time.perf_counter() - t0) / count)
    return {name: statistics.median(v) for name, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="K = 2,000, 3 rounds")
    parser.add_argument("-K", type=int, default=None, help="problems per batch")
    parser.add_argument("--rounds", type=int, default=None)
    opts = parser.parse_args()
    K = opts.K or (2000 if opts.quick else 20000)
    rounds = opts.rounds or (3 if opts.quick else 5)
    subset = min(K, 500)
    print(f"minpack {minpack.__version__}, numpy {np.__version__}, scipy "
          f"{scipy.__version__}; {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    print(f"K = {K} fits per batch, loops timed on {subset} and extrapolated; "
          f"median of {rounds} rounds")
    warnings.simplefilter("ignore")
    for pr in (exp_problems(K), peak_problems(K)):
        t = measure(pr, K, subset, rounds)
        print(f"\n{pr['name']}")
        for name, v in t.items():
            print(f"  {name:38s} {v * 1e6:9.2f} us/fit   {v * K:8.2f} s for K")
        scipy_loop = t["SciPy curve_fit loop"]
        one, two = t["curve_fit_batch, 1 worker"], t["curve_fit_batch, 2 workers"]
        floor = t["leastsq_batch numba cfunc, 1 worker"]
        print(f"  speed-up over the SciPy loop, 1 worker: {scipy_loop / one:6.1f}x "
              f"(target >= 15x)")
        print(f"  speed-up over the SciPy loop, 2 workers: {scipy_loop / two:5.1f}x "
              f"(target >= 25x)")
        print(f"  1 worker against the compiled batch:     {one / floor:5.2f}x "
              f"(target <= 2.5x)")
    print(f"\nload at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
