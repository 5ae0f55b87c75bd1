"""Fit the 27 NIST StRD nonlinear regression problems with `minpack.leastsq`.

Run it as ``python -m minpack.demo``. Each problem is fitted from both of NIST's
starting vectors with tight tolerances (``ftol = xtol = 1e-15``, ``gtol = 0``) and
forward-difference Jacobians (``Dfun=None``). For every run the table shows the
number of certified digits reached, ``nfev`` and ``ier``. When SciPy is installed,
the same fit is repeated with `scipy.optimize.leastsq`: the table then also shows
SciPy's digits and ``nfev`` and the ratio of run times, minpack over SciPy (the
median of several timings of each, taken in turn).

The data ship with the package in ``minpack/data/nist`` (NIST public-domain data,
see the README there).

Notes
-----
The certified digits are NIST's log relative error (LRE), the minimum over the
parameters of ``-log10(|b - b_cert| / |b_cert|)``, capped at 11 because NIST prints
the certified values to 11 significant digits. LRE >= 4 is the usual pass mark;
about 6 or more is what a good double-precision solver reaches.

The models are stored as numpy expressions (``model_python``). Each one is checked
against a small whitelist of syntax (arithmetic, numbers, the parameter and
predictor names, and a few ``np`` functions) and compiled once into a function.

Examples
--------
.. code-block:: console

    $ python -m minpack.demo
    $ python -m minpack.demo --repeats 3 Misra1a MGH09
    $ python -m minpack.demo --no-scipy
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

__all__ = ["Problem", "RunResult", "fit", "load_problems", "lre", "main"]

#: Tolerances and evaluation budget used for every fit.
FTOL = 1e-15
XTOL = 1e-15
GTOL = 0.0
MAXFEV_PER_PARAMETER = 10000

#: NIST prints certified values to 11 significant digits.
MAX_DIGITS = 11.0

_LEVELS = ("lower", "average", "higher")

# What a model or response expression may use: numbers, names, arithmetic and
# calls of these numpy attributes.
_NUMPY_ATTRIBUTES = frozenset({"exp", "log", "sin", "cos", "arctan", "sqrt", "pi"})
_ALLOWED_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Call,
    ast.Attribute,
    ast.Name,
    ast.Constant,
    ast.Load,
    ast.operator,
    ast.unaryop,
)

Residuals = Callable[[np.ndarray], np.ndarray]
Solver = Callable[..., tuple[Any, ...]]


@dataclass(frozen=True)
class Problem:
    """One NIST StRD problem, ready to fit.

    Attributes
    ----------
    name : str
        NIST's dataset name, e.g. ``"Misra1a"``.
    difficulty : str
        NIST's level: ``"lower"``, ``"average"`` or ``"higher"``.
    starts : tuple of ndarray
        NIST's starting vectors, start 1 then start 2.
    certified : ndarray
        Certified parameter values.
    residuals : callable
        ``residuals(b)`` returns response minus model at parameters ``b``.
    predictors : dict of str to ndarray
        The predictor data by NIST's name (usually just ``"x"``).
    response : ndarray
        The response the model is fitted to (``y``, or e.g. ``log(y)``).
    """

    name: str
    difficulty: str
    starts: tuple[np.ndarray, ...]
    certified: np.ndarray
    residuals: Residuals
    predictors: dict[str, np.ndarray]
    response: np.ndarray


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


def _check_expression(text: str, names: frozenset[str]) -> None:
    """Raise ValueError unless `text` uses only whitelisted syntax and names."""
    tree = ast.parse(text, mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ValueError(
                f"unsupported syntax {type(node).__name__} in expression {text!r}"
            )
        if isinstance(node, ast.Name) and node.id not in names and node.id != "np":
            raise ValueError(f"unknown name {node.id!r} in expression {text!r}")
        if isinstance(node, ast.Attribute) and not (
            isinstance(node.value, ast.Name)
            and node.value.id == "np"
            and node.attr in _NUMPY_ATTRIBUTES
        ):
            allowed = ", ".join(f"np.{a}" for a in sorted(_NUMPY_ATTRIBUTES))
            raise ValueError(
                f"{ast.unparse(node)!r} in expression {text!r}: only {allowed} allowed"
            )
        if isinstance(node, ast.Call) and node.keywords:
            raise ValueError(f"keyword arguments not allowed in {text!r}")
        if isinstance(node, ast.Constant) and (
            isinstance(node.value, bool) or not isinstance(node.value, (int, float))
        ):
            raise ValueError(f"only numeric constants allowed in {text!r}")


def _compile_function(
    text: str, params: Sequence[str], env: dict[str, Any], label: str
) -> Callable[..., Any]:
    """Compile the expression `text` once into ``f(*params)``.

    `env` binds the other names (data arrays); ``np`` is numpy. Builtins are not
    reachable from the compiled code.
    """
    _check_expression(text, frozenset(params) | frozenset(env))
    source = f"lambda {', '.join(params)}: ({text})"
    code = compile(source, f"<{label}>", "eval")
    namespace = {"__builtins__": {}, "np": np, **env}
    return eval(code, namespace)  # names and syntax checked above; no builtins


def _make_problem(record: dict[str, Any]) -> Problem:
    name = record["name"]
    certified = np.array(record["certified_values"], dtype=float)
    params = [f"b{i}" for i in range(1, certified.size + 1)]

    predictors = record["predictor_names"]
    columns = [record["x"]] if len(predictors) == 1 else record["x"]
    env = {
        p: np.array(c, dtype=float) for p, c in zip(predictors, columns, strict=True)
    }
    y = np.array(record["y"], dtype=float)

    response_of = _compile_function(
        record["response_python"], [], {"y": y}, f"{name} response"
    )
    response = np.asarray(response_of(), dtype=float)
    model = _compile_function(record["model_python"], params, env, f"{name} model")

    def residuals(b: np.ndarray) -> np.ndarray:
        return response - model(*b)

    starts = tuple(np.array(record[k], dtype=float) for k in ("start1", "start2"))
    for start in starts:
        if start.shape != certified.shape:
            raise ValueError(f"{name}: start and certified values differ in length")
    if residuals(certified).shape != y.shape:
        raise ValueError(f"{name}: the model does not give one value per observation")
    return Problem(
        name, record["difficulty"], starts, certified, residuals, env, response
    )


def load_problems(names: Sequence[str] | None = None) -> list[Problem]:
    """Load the NIST StRD problems shipped in ``minpack/data/nist``.

    Parameters
    ----------
    names : sequence of str, optional
        Problem names to load (case-insensitive). Default: all 27.

    Returns
    -------
    list of Problem
        Sorted by NIST's difficulty level, then by name.
    """
    folder = resources.files("minpack").joinpath("data", "nist")
    records = [
        json.loads(entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    ]
    if names is not None:
        wanted = {n.lower() for n in names}
        unknown = wanted - {r["name"].lower() for r in records}
        if unknown:
            known = ", ".join(sorted(r["name"] for r in records))
            raise ValueError(
                f"unknown problem(s) {', '.join(sorted(unknown))}; known: {known}"
            )
        records = [r for r in records if r["name"].lower() in wanted]
    records.sort(key=lambda r: (_LEVELS.index(r["difficulty"]), r["name"]))
    return [_make_problem(r) for r in records]


def lre(estimate: np.ndarray, certified: np.ndarray) -> float:
    """Return the certified digits an estimate reaches (NIST's LRE).

    Parameters
    ----------
    estimate, certified : ndarray
        Estimated and certified parameter values (certified values are nonzero).

    Returns
    -------
    float
        ``min(-log10(|estimate - certified| / |certified|))`` over the parameters,
        clipped to ``[0, 11]``; 0 when an estimate is not finite.
    """
    estimate = np.asarray(estimate, dtype=float)
    certified = np.asarray(certified, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        digits = -np.log10(np.abs(estimate - certified) / np.abs(certified))
    digits = np.where(np.isnan(digits), 0.0, digits)
    return float(np.clip(digits.min(), 0.0, MAX_DIGITS))


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
