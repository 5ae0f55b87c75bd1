"""Fit the 27 NIST StRD nonlinear regression problems with `minpack.leastsq`.

Run it as ``python -m minpack.demo``. Each problem is fitted from both of NIST's
starting vectors with tight tolerances (``ftol = xtol = 1e-15``, ``gtol = 0``) and
forward-difference Jacobians (``Dfun=None``). For every run the table shows the
number of certified digits reached, ``nfev`` and ``ier``. When SciPy is installed,
the same fit is repeated with `scipy.optimize.leastsq`: the table then also shows
SciPy's digits and ``nfev`` and the ratio of run times, minpack over SciPy (the
median of several timings of each, taken in turn).

The data ship with the package in ``minpack/data/nist`` (NIST public-domain data,
see the README there); the tests read them with the same loader.

Notes
-----
The certified digits are NIST's log relative error (LRE), the minimum over the
parameters of ``-log10(|b - b_cert| / |b_cert|)``, capped at 11 because NIST prints
the certified values to 11 significant digits. LRE >= 4 is the usual pass mark;
about 6 or more is what a good double-precision solver reaches.

The models are stored as numpy expressions (``model_python``), checked against a
small whitelist of syntax and compiled once into functions.

Examples
--------
.. code-block:: console

    $ python -m minpack.demo
    $ python -m minpack.demo --repeats 3 Misra1a MGH09
    $ python -m minpack.demo --no-scipy
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._nist import Problem, load_problems, lre

__all__ = ["Problem", "RunResult", "fit", "load_problems", "lre", "main"]

#: Tolerances and evaluation budget used for every fit.
FTOL = 1e-15
XTOL = 1e-15
GTOL = 0.0
MAXFEV_PER_PARAMETER = 10000

Solver = Callable[..., tuple[Any, ...]]


@dataclass(frozen=True)
class RunResult:
    """Outcome of one fit.

    Attributes
    ----------
    x : ndarray
        Parameters returned by the solver.
    nfev : int
        Number of function evaluations the solver reports.
    ier : int
        The solver's integer flag (1 to 4 means a solution was found).
    digits : float
        Certified digits reached, see `lre`.
    """

    x: np.ndarray
    nfev: int
    ier: int
    digits: float


def fit(problem: Problem, start: np.ndarray, solver: Solver) -> RunResult:
    """Fit `problem` from `start` with a `leastsq`-compatible `solver`.

    Parameters
    ----------
    problem : Problem
        The problem to fit.
    start : ndarray
        Starting parameters.
    solver : callable
        `minpack.leastsq` or `scipy.optimize.leastsq`.

    Returns
    -------
    RunResult
        Parameters, ``nfev``, ``ier`` and certified digits.
    """
    maxfev = MAXFEV_PER_PARAMETER * (start.size + 1)
    # Far starts overflow exp() on the way; the solvers cope, so stay quiet.
    with np.errstate(all="ignore"):
        x, _, infodict, _, ier = solver(
            problem.residuals,
            start,
            full_output=True,
            ftol=FTOL,
            xtol=XTOL,
            gtol=GTOL,
            maxfev=maxfev,
        )
    return RunResult(
        np.asarray(x), int(infodict["nfev"]), int(ier), lre(x, problem.certified)
    )


def _seconds(problem: Problem, start: np.ndarray, solver: Solver, number: int) -> float:
    """Mean wall time of `number` back-to-back fits."""
    begin = time.perf_counter()
    for _ in range(number):
        fit(problem, start, solver)
    return (time.perf_counter() - begin) / number


def _time_ratio(
    problem: Problem,
    start: np.ndarray,
    ours: Solver,
    theirs: Solver,
    repeats: int,
    min_sample: float,
) -> float:
    """Median time of `ours` over median time of `theirs`, timings interleaved."""
    once = max(_seconds(problem, start, theirs, 1), 1e-7)
    number = max(1, math.ceil(min_sample / once))
    mine: list[float] = []
    reference: list[float] = []
    for _ in range(repeats):
        mine.append(_seconds(problem, start, ours, number))
        reference.append(_seconds(problem, start, theirs, number))
    return statistics.median(mine) / statistics.median(reference)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m minpack.demo",
        description="Fit the 27 NIST StRD nonlinear regression problems with "
        "minpack.leastsq from both starts, and compare with scipy.optimize.leastsq "
        "when SciPy is installed.",
    )
    parser.add_argument(
        "problems", nargs="*", metavar="NAME", help="fit only these problems"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=7,
        help="timings per solver and run; the median is used (default: 7)",
    )
    parser.add_argument(
        "--min-sample",
        type=float,
        default=2e-3,
        metavar="SECONDS",
        help="repeat short fits within one timing to last at least this long "
        "(default: 0.002)",
    )
    parser.add_argument(
        "--no-scipy", action="store_true", help="do not compare with SciPy"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.min_sample < 0:
        parser.error("--min-sample must not be negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo: fit, print the table and the summary.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0.
    """
    args = _parse_args(argv)

    import minpack
    from minpack import leastsq

    reference: Solver | None = None
    version = getattr(minpack, "__version__", "(unknown version)")
    version_line = f"minpack {version}, numpy {np.__version__}"
    if not args.no_scipy:
        try:
            import scipy
            from scipy.optimize import leastsq as reference
        except ImportError:
            version_line += ", SciPy not installed: no comparison"
        else:
            version_line += f", scipy {scipy.__version__}"

    try:
        problems = load_problems(args.problems or None)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    print(f"NIST StRD nonlinear regression with minpack.leastsq ({version_line})")
    print(
        f"Dfun=None, ftol={FTOL:g}, xtol={XTOL:g}, gtol={GTOL:g}, "
        f"maxfev={MAXFEV_PER_PARAMETER}*(n+1); digits = certified digits (LRE, max 11)"
    )
    print()
    header = (
        f"{'problem':<10} {'level':<8} {'start':>5} "
        f"{'digits':>6} {'nfev':>6} {'ier':>3}"
    )
    if reference is not None:
        header += f" | {'scipy digits':>12} {'nfev':>6} | {'time minpack/scipy':>18}"
    print(header)
    print("-" * len(header))

    digits_ok = 0
    runs = 0
    ratios: list[float] = []
    for problem in problems:
        for index, start in enumerate(problem.starts, start=1):
            ours = fit(problem, start, leastsq)
            runs += 1
            digits_ok += ours.digits >= 4.0
            line = (
                f"{problem.name:<10} {problem.difficulty:<8} {index:>5} "
                f"{ours.digits:>6.1f} {ours.nfev:>6} {ours.ier:>3}"
            )
            if reference is not None:
                theirs = fit(problem, start, reference)
                ratio = _time_ratio(
                    problem, start, leastsq, reference, args.repeats, args.min_sample
                )
                ratios.append(ratio)
                line += f" | {theirs.digits:>12.1f} {theirs.nfev:>6} | {ratio:>18.2f}"
            print(line, flush=True)

    print()
    summary = f"{digits_ok}/{runs} runs reached at least 4 certified digits"
    if ratios:
        geometric_mean = math.exp(statistics.fmean(math.log(r) for r in ratios))
        summary += f"; time minpack/scipy, geometric mean: {geometric_mean:.2f}"
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
