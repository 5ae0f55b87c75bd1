#!/usr/bin/env python3
"""Time `minpack` against SciPy on the problems users fit.

Run it from a checkout as ``python benchmarks/bench.py`` (with minpack and SciPy
installed). Every problem is solved by ``minpack`` and by ``scipy.optimize`` in
the same process with the same Python function, the timings of the two taken in
turn so that drift in the machine's speed hits both; each row quotes the median
of several timings.

The suite comes from the tests' registry of reference problems
(``tests/support``):

* small curve fits of synthetic data (exponential decay, double exponential,
  Gaussian + baseline, two Lorentzians, sinusoid, Michaelis-Menten, rational,
  logistic, power law, damped oscillation, Hill);
* MINPACK-1 / Moré-Garbow-Hillstrom least-squares problems (Bard,
  Kowalik-Osborne, scaled Meyer, Box 3-D, Osborne 1);
* NIST StRD nonlinear regression problems, from NIST's second start;
* large data, a sum of two exponentials plus a constant (n = 5) on
  m = 20,000 and m = 200,000 points;
* MINPACK-1 systems of nonlinear equations for `fsolve`;
* bounded curve fits: the small problems with physical bounds (positive
  parameters kept positive, the first one capped halfway to its unbounded
  fit, the boxes of the tests' bounded suite), ``minpack.curve_fit(...,
  bounds=...)`` (the bounded Levenberg-Marquardt) against SciPy's
  ``curve_fit`` (which picks 'trf' for bounds).

The MGH and NIST problems read their data from ``../shared/data`` beside the
checkout; without it their rows are left out (the run says so).

Each problem runs with and without an analytic Jacobian, through `leastsq`,
`curve_fit` (the curve-fitting problems) and `fsolve` (the equations), and
``leastsq(..., vectorized=True)`` is timed against SciPy's plain `leastsq` on
the small problems. A row is flagged, and left out of the geometric means, when
the two libraries do not reach the same solution (for the bounded rows: when
our final sum of squares is above trf's by more than a relative 1e-6).

Then a few single measurements: the extra cost of ``full_output=True``, the time
per function evaluation spent outside the user's function, the growth of the
resident memory over many consecutive fits, and the peak memory of one large fit
(measured in a child process). The run ends with the targets minpack aims for
(speed against SciPy, overhead, memory) and whether this run meets them.

Examples
--------
.. code-block:: console

    $ python benchmarks/bench.py
    $ python benchmarks/bench.py --quick --only leastsq
    $ python benchmarks/bench.py --repeats 11 --png bench.png
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from inspect import unwrap
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# `import minpack` must find the installed package, never the checkout's root
# (whose minpack/ folder holds the Fortran sources), even with PYTHONPATH=.; the
# problems come from the tests' registry, the package tests/support.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != str(ROOT)]
sys.path.insert(0, str(ROOT / "tests"))

from support.bounded import physical_box  # noqa: E402
from support.equations import Equation, by_id  # noqa: E402
from support.problems import (  # noqa: E402
    DATA_MISSING_REASON,
    CurveFit,
    curve_fits,
    large_fit,
)

#: The functions a case can time; ``--only`` picks one (vectorized goes with
#: leastsq).
FUNCTIONS = ("leastsq", "vectorized", "curve_fit", "fsolve", "bounded")

#: The problem sizes of the large-data rows.
LARGE_SIZES = (20_000, 200_000)

_SUCCESS = (1, 2, 3, 4)

# Two solutions count as the same when every component agrees to this relative
# tolerance (relative to the largest component for components near zero).
_SAME_X_RTOL = 1e-5

# A row whose timings spread more than this (interquartile range over median)
# is marked noisy.
_NOISY = 0.2


# ---------------------------------------------------------------------------
# Problems: from the registry
# ---------------------------------------------------------------------------

#: The systems of the `fsolve` rows, by their registry id.
EQUATIONS = ("rosenbrock-2", "powell-singular-4", "helical-valley-3",
             "broyden-tridiagonal-10", "discrete-boundary-10", "trigonometric-10")


def fits() -> list[CurveFit]:
    """Return the least-squares problems of the suite, small ones first.

    Returns
    -------
    list of CurveFit
        The registry's curve fits, MGH and NIST problems in curve-fitting form,
        then the large-data problems (`LARGE_SIZES`).
    """
    return curve_fits() + [large_fit(m) for m in LARGE_SIZES]


def equations() -> list[Equation]:
    """Return the systems of nonlinear equations of the `fsolve` rows.

    Returns
    -------
    list of Equation
        Rosenbrock, Powell singular, helical valley, and the n = 10 Broyden
        tridiagonal, discrete boundary value and trigonometric systems.
    """
    return [by_id(ident) for ident in EQUATIONS]


# ---------------------------------------------------------------------------
# Cases: one timed pair of calls each
# ---------------------------------------------------------------------------


class Outcome(NamedTuple):
    """What a solver returned, for the same-solution check and the nfev columns."""

    x: np.ndarray | None
    nfev: int
    ier: int
    ok: bool
    error: str = ""


@dataclass(frozen=True, eq=False)
class Case:
    """One row of the table: a problem solved by minpack and by SciPy.

    Attributes
    ----------
    function : str
        ``"leastsq"``, ``"vectorized"`` (``leastsq(..., vectorized=True)``
        against SciPy's plain `leastsq`), ``"curve_fit"``, ``"fsolve"`` or
        ``"bounded"`` (``curve_fit`` with bounds: SciPy's is 'trf').
    problem : str
        The problem's name.
    group : str
        ``"curve"``, ``"MGH"``, ``"NIST"``, ``"large"`` or ``"equations"``.
    jac : bool
        Whether an analytic Jacobian is given.
    m, n : int
        Residuals and parameters.
    ours, theirs : callable
        The timed calls, minpack's and SciPy's (default outputs).
    ours_outcome, theirs_outcome : callable
        The same calls with ``full_output=True``, returning an `Outcome`.
    """

    function: str
    problem: str
    group: str
    jac: bool
    m: int
    n: int
    ours: Callable[[], Any]
    theirs: Callable[[], Any]
    ours_outcome: Callable[[], Outcome]
    theirs_outcome: Callable[[], Outcome]
    cost: Callable[[np.ndarray], float] | None = None
    """For the bounded rows: the sum of squares at a solution (the rows are
    compared by it, as trf and LM stop at different points of the optimum's
    tolerance)."""

    @property
    def small(self) -> bool:
        """Whether this is one of the small problems (not large data)."""
        return self.group != "large"

    @property
    def label(self) -> str:
        """A short label for plots."""
        return f"{self.function}: {self.problem}{' +jac' if self.jac else ''}"


def residual_function(fit: CurveFit) -> Callable[[np.ndarray], np.ndarray]:
    """Return ``func(p) = model(t, *p) - y``, as a user would write it."""
    model, t, y = fit.model, fit.t, fit.y

    def residuals(p):
        return model(t, *p) - y

    return residuals


def jacobian_function(fit: CurveFit) -> Callable[[np.ndarray], np.ndarray]:
    """Return ``Dfun(p)``, the ``(m, n)`` Jacobian of `residual_function`."""
    jacobian, t = fit.jacobian, fit.t

    def dfun(p):
        return jacobian(t, *p)

    return dfun


def vectorized_function(fit: CurveFit) -> Callable[[np.ndarray], np.ndarray]:
    """Return the residuals for ``vectorized=True``: p of shape (n, k) -> (m, k)."""
    model, t, y = fit.model, fit.t[:, np.newaxis], fit.y[:, np.newaxis]

    def residuals(p):
        return model(t, *p) - y

    return residuals


def _leastsq_outcome(out: tuple) -> Outcome:
    # leastsq and curve_fit: (x, cov, infodict, mesg, ier)
    return Outcome(np.asarray(out[0]), int(out[2]["nfev"]), int(out[4]),
                   out[4] in _SUCCESS)


def _bounded_outcome(out: tuple) -> Outcome:
    # SciPy's bounded curve_fit (trf): (popt, pcov, infodict, mesg, status);
    # it raises when the fit fails
    return Outcome(np.asarray(out[0]), int(out[2]["nfev"]), int(out[4]), True)


def _fsolve_outcome(out: tuple) -> Outcome:
    # fsolve: (x, infodict, ier, mesg)
    return Outcome(np.asarray(out[0]), int(out[1]["nfev"]), int(out[2]),
                   out[2] == 1)


def _calls(solver: Callable[..., Any], args: tuple, kwargs: dict,
           outcome: Callable[[tuple], Outcome]) -> tuple[Callable[[], Any],
                                                         Callable[[], Outcome]]:
    """Return the timed call and the full-output call of `solver` on one input."""

    def timed():
        return solver(*args, **kwargs)

    def full():
        try:
            return outcome(solver(*args, full_output=True, **kwargs))
        except Exception as exc:  # a failed fit is reported, not fatal
            return Outcome(None, 0, 0, False, f"{type(exc).__name__}: {exc}")

    return timed, full


def _case(function: str, problem: str, group: str, jac: bool, m: int, n: int,
          ours: tuple, theirs: tuple,
          cost: Callable[[np.ndarray], float] | None = None) -> Case:
    return Case(function, problem, group, jac, m, n, ours[0], theirs[0],
                ours[1], theirs[1], cost)


def bounded_fits(problems: list[CurveFit]) -> list[tuple[CurveFit, tuple]]:
    """The small problems with physical bounds (``support.bounded``), placed
    by their unbounded fit; problems whose unbounded fit fails are left out."""
    import minpack as mp

    out = []
    for fit in problems:
        if fit.group == "large":
            continue
        try:
            xs = mp.curve_fit(fit.model, fit.t, fit.y, p0=fit.p0)[0]
        except RuntimeError:
            continue
        out.append((fit, physical_box(fit.p0, xs)))
    return out


def sum_of_squares(fit: CurveFit) -> Callable[[np.ndarray], float]:
    """The sum of squares of a curve fit at p."""
    def cost(p: np.ndarray) -> float:
        r = fit.model(fit.t, *p) - fit.y
        return float(r @ r)

    return cost


def cases(only: str | None = None, include_large: bool = True) -> list[Case]:
    """Build the rows of the benchmark.

    Parameters
    ----------
    only : {"leastsq", "curve_fit", "fsolve", "bounded"}, optional
        Keep the rows of one function (``"leastsq"`` includes the vectorized
        rows, ``"curve_fit"`` the bounded ones). Default: all.
    include_large : bool, optional
        Include the large-data rows.

    Returns
    -------
    list of Case
        leastsq rows, vectorized rows, curve_fit rows, then fsolve rows.
    """
    import scipy.optimize as sp

    import minpack as mp

    wanted = FUNCTIONS if only is None else (
        ("leastsq", "vectorized") if only == "leastsq" else
        ("curve_fit", "bounded") if only == "curve_fit" else (only,))
    problems = fits() if "fsolve" not in wanted or len(wanted) > 1 else []
    if not include_large:
        problems = [f for f in problems if f.group != "large"]
    rows: list[Case] = []

    if "leastsq" in wanted:
        for fit in problems:
            func = residual_function(fit)
            for jac in (False, True):
                kw = {"Dfun": jacobian_function(fit) if jac else None}
                rows.append(_case(
                    "leastsq", fit.name, fit.group, jac, fit.m, fit.n,
                    _calls(mp.leastsq, (func, fit.p0), kw, _leastsq_outcome),
                    _calls(sp.leastsq, (func, fit.p0), kw, _leastsq_outcome)))
    if "vectorized" in wanted:
        for fit in problems:
            if fit.group == "large":
                continue
            rows.append(_case(
                "vectorized", fit.name, fit.group, False, fit.m, fit.n,
                _calls(mp.leastsq, (vectorized_function(fit), fit.p0),
                       {"vectorized": True}, _leastsq_outcome),
                _calls(sp.leastsq, (residual_function(fit), fit.p0), {},
                       _leastsq_outcome)))
    if "curve_fit" in wanted:
        for fit in problems:
            args = (fit.model, fit.t, fit.y)
            for jac in (False, True):
                kw = {"p0": fit.p0, "jac": fit.jacobian if jac else None}
                rows.append(_case(
                    "curve_fit", fit.name, fit.group, jac, fit.m, fit.n,
                    _calls(mp.curve_fit, args, kw, _leastsq_outcome),
                    _calls(sp.curve_fit, args, kw, _leastsq_outcome)))
    if "fsolve" in wanted:
        for eq in equations():
            # The registry's functions without its warnings guard: the timed
            # calls run under np.errstate(all="ignore") anyway.
            func, x0 = unwrap(eq.func), eq.start()
            for jac in (False, True):
                kw = {"fprime": unwrap(eq.jac) if jac else None}
                rows.append(_case(
                    "fsolve", eq.id, "equations", jac, eq.n, eq.n,
                    _calls(mp.fsolve, (func, x0), kw, _fsolve_outcome),
                    _calls(sp.fsolve, (func, x0), kw, _fsolve_outcome)))
    if "bounded" in wanted:
        for fit, box in bounded_fits(problems):
            args = (fit.model, fit.t, fit.y)
            for jac in (False, True):
                kw = {"p0": fit.p0, "jac": fit.jacobian if jac else None,
                      "bounds": box}
                rows.append(_case(
                    "bounded", fit.name, fit.group, jac, fit.m, fit.n,
                    _calls(mp.curve_fit, args, kw, _leastsq_outcome),
                    _calls(sp.curve_fit, args, kw, _bounded_outcome),
                    sum_of_squares(fit)))
    return rows


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


#: The clock of the timings: `time.perf_counter` (wall) or `time.process_time`.
_clock: Callable[[], float] = time.perf_counter


def _per_call(call: Callable[[], Any], number: int) -> float:
    """Mean time of `number` back-to-back calls."""
    clock = _clock
    begin = clock()
    for _ in range(number):
        call()
    return (clock() - begin) / number


def _interleaved_samples(calls: Sequence[Callable[[], Any]], repeats: int,
                         min_sample: float) -> list[list[float]]:
    """Time each of `calls` `repeats` times, in turn; the times per call.

    Every timing runs a call back to back until the sample lasts about
    `min_sample` seconds (the same count for all calls). The order rotates from
    one repeat to the next, so no call always runs first.
    """
    once = max(max(_per_call(call, 1) for call in calls), 1e-7)
    number = max(1, math.ceil(min_sample / once))
    samples: list[list[float]] = [[] for _ in calls]
    k = len(calls)
    for r in range(repeats):
        for j in range(k):
            i = (j + r) % k if r % 2 == 0 else (k - 1 - j + r) % k
            samples[i].append(_per_call(calls[i], number))
    return samples


def _interleaved(calls: Sequence[Callable[[], Any]], repeats: int,
                 min_sample: float) -> list[float]:
    """Return the median time per call of each of `calls`, timed in turn."""
    samples = _interleaved_samples(calls, repeats, min_sample)
    return [statistics.median(s) for s in samples]


def _spread(samples: Sequence[float]) -> float:
    """Return the interquartile range of timings relative to their median."""
    if len(samples) < 2:
        return 0.0
    q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return (q3 - q1) / statistics.median(samples)


def _same_solution(ours: Outcome, theirs: Outcome) -> tuple[str, str]:
    """Check that both libraries did the same work: ``(flag, note)``.

    `flag` is empty when both reached the same point with the same verdict
    (success, or the same ier); otherwise it says what differs and the row is
    left out of the means. `note` describes an unflagged row.
    """
    if ours.x is None:
        return f"DIFFERENT: minpack raised {ours.error.split(':')[0]}", ""
    if theirs.x is None:
        return f"DIFFERENT: scipy raised {theirs.error.split(':')[0]}", ""
    if ours.x.shape != theirs.x.shape:
        return "DIFFERENT: x shapes differ", ""
    scale = np.abs(theirs.x) + 1e-6 * np.max(np.abs(theirs.x)) + 1e-300
    worst = float(np.max(np.abs(ours.x - theirs.x) / scale))
    if not worst <= _SAME_X_RTOL:
        return f"DIFFERENT x (rel. {worst:.1e})", ""
    if ours.ok != theirs.ok or (not ours.ok and ours.ier != theirs.ier):
        return f"DIFFERENT ier: minpack {ours.ier}, scipy {theirs.ier}", ""
    if not ours.ok:
        return "", f"same x, both stop with ier {ours.ier}"
    return "", "same x"


@dataclass
class Row:
    """A measured row of the table."""

    case: Case
    scipy_time: float
    ours_time: float
    scipy_nfev: int
    ours_nfev: int
    flag: str
    note: str = ""
    spread: float = 0.0

    @property
    def ratio(self) -> float:
        """Our median time over SciPy's."""
        return self.ours_time / self.scipy_time


def _same_cost(ours: Outcome, theirs: Outcome,
               cost: Callable[[np.ndarray], float]) -> tuple[str, str]:
    """The bounded rows: both succeed, ours at most trf's sum of squares
    (relative 1e-6); `note` gives the ratio."""
    if ours.x is None:
        return f"DIFFERENT: minpack raised {ours.error.split(':')[0]}", ""
    if theirs.x is None:
        return f"DIFFERENT: scipy raised {theirs.error.split(':')[0]}", ""
    ratio = cost(ours.x) / cost(theirs.x) if cost(theirs.x) > 0 else 1.0
    if not ratio <= 1 + 1e-6:
        return f"DIFFERENT cost (ours/trf {ratio:.6g})", ""
    return "", f"cost ours/trf {ratio:.6g}"


def _measure(case: Case, repeats: int, min_sample: float) -> Row:
    ours = case.ours_outcome()
    theirs = case.theirs_outcome()
    if case.cost is not None:
        flag, note = _same_cost(ours, theirs, case.cost)
    else:
        flag, note = _same_solution(ours, theirs)
    if ours.x is None or theirs.x is None:
        return Row(case, math.nan, math.nan, theirs.nfev, ours.nfev, flag, note)
    mine, reference = _interleaved_samples((case.ours, case.theirs), repeats,
                                           min_sample)
    return Row(case, statistics.median(reference), statistics.median(mine),
               theirs.nfev, ours.nfev, flag, note,
               max(_spread(mine), _spread(reference)))


def _fmt_time(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.3f} s"


def geometric_mean(values: Sequence[float]) -> float:
    """Return the geometric mean of the positive values (nan for none)."""
    values = [v for v in values if math.isfinite(v) and v > 0]
    if not values:
        return math.nan
    return math.exp(statistics.fmean(math.log(v) for v in values))


_HEADER = (f"{'function':<10} {'problem':<26} {'jac':<3} {'m':>7} {'n':>2} "
           f"{'scipy':>10} {'minpack':>10} {'ratio':>6} "
           f"{'nfev scipy':>10} {'nfev ours':>9}  check")


def _format_row(row: Row) -> str:
    c = row.case
    return (f"{c.function:<10} {c.problem:<26} {'yes' if c.jac else 'no':<3} "
            f"{c.m:>7} {c.n:>2} {_fmt_time(row.scipy_time):>10} "
            f"{_fmt_time(row.ours_time):>10} {row.ratio:>6.2f} "
            f"{row.scipy_nfev:>10} {row.ours_nfev:>9}  {row.flag or row.note}"
            + (f"; noisy (IQR {row.spread:.0%})" if row.spread > _NOISY else ""))


# ---------------------------------------------------------------------------
# Single measurements
# ---------------------------------------------------------------------------


def _full_output_cost(repeats: int, min_sample: float) -> tuple[float, float]:
    """Extra seconds of ``full_output=True`` over ``False``: (minpack, scipy)."""
    import scipy.optimize as sp

    import minpack as mp

    fit = curve_fits()[0]  # exponential decay, n = 3
    func = residual_function(fit)
    p0 = fit.p0
    calls = (lambda: mp.leastsq(func, p0),
             lambda: mp.leastsq(func, p0, full_output=True),
             lambda: sp.leastsq(func, p0),
             lambda: sp.leastsq(func, p0, full_output=True))
    t = _interleaved(calls, repeats, min_sample)
    return t[1] - t[0], t[3] - t[2]


class Overhead(NamedTuple):
    """Time per evaluation spent outside the user's function."""

    fit_time: float
    func_time: float
    nfev: int
    calls: int

    @property
    def per_nfev(self) -> float:
        """(fit time - nfev x func time) / nfev."""
        return (self.fit_time - self.nfev * self.func_time) / self.nfev

    @property
    def per_call(self) -> float:
        """The same per actual call of func (SciPy calls it nfev + 2 times)."""
        return (self.fit_time - self.calls * self.func_time) / self.calls


def _overhead(repeats: int, min_sample: float) -> tuple[Overhead, Overhead]:
    """Per-evaluation overhead of leastsq on the exponential fit: (minpack, scipy)."""
    import scipy.optimize as sp

    import minpack as mp

    fit = curve_fits()[0]
    func = residual_function(fit)
    p0 = fit.p0
    count = [0]

    def counted(p):
        count[0] += 1
        return func(p)

    found = []
    for solver in (mp.leastsq, sp.leastsq):
        count[0] = 0
        x, _, info, _, _ = solver(counted, p0, full_output=True)
        found.append((x, int(info["nfev"]), count[0]))
    x = found[0][0]

    def one_func_call():
        func(x)

    t_ours, t_scipy, t_func = _interleaved(
        (lambda: mp.leastsq(func, p0), lambda: sp.leastsq(func, p0), one_func_call),
        repeats, min_sample)
    return (Overhead(t_ours, t_func, found[0][1], found[0][2]),
            Overhead(t_scipy, t_func, found[1][1], found[1][2]))


def _rss_bytes() -> int | None:
    """Resident set size from /proc/self/statm (None where there is no /proc)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            resident_pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def _rss_growth(fits_count: int) -> tuple[int | None, int | None]:
    """RSS growth over `fits_count` consecutive small fits: (minpack, scipy)."""
    import scipy.optimize as sp

    import minpack as mp

    fit = curve_fits()[0]
    func = residual_function(fit)
    p0 = fit.p0
    growth: list[int | None] = []
    for solver in (mp.leastsq, sp.leastsq):
        for _ in range(min(1000, fits_count)):  # warm caches and allocator pools
            solver(func, p0)
        gc.collect()
        before = _rss_bytes()
        for _ in range(fits_count):
            solver(func, p0)
        gc.collect()
        after = _rss_bytes()
        growth.append(None if before is None or after is None else after - before)
    return growth[0], growth[1]


_PEAK_CHILD = f"""\
import json, sys
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
from bench import _peak_in_this_process
print(json.dumps(_peak_in_this_process(sys.argv[1], sys.argv[2] == "jac",
                                       int(sys.argv[3]))))
"""


def _high_water_bytes() -> int:
    """Return the peak resident memory of this process.

    ``VmHWM`` from /proc/self/status where there is one: ``ru_maxrss`` of a child
    process can hold its parent's resident size from before the ``exec``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # KiB on Linux


def _reset_high_water() -> bool:
    """Reset the peak resident memory to the current one (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _peak_in_this_process(library: str, jac: bool, m: int) -> dict[str, Any]:
    """Fit the large problem once; how far the peak RSS rises above the RSS before.

    The data are built and the residuals (and the Jacobian) evaluated once
    before the measurement starts. Where the peak cannot be reset, the baseline
    is the peak so far, which includes those evaluations' temporaries.
    """
    import minpack

    if library == "minpack":
        from minpack import leastsq
    else:
        from scipy.optimize import leastsq
    fit = large_fit(m)
    func = residual_function(fit)
    dfun = jacobian_function(fit) if jac else None
    func(fit.p0)
    if dfun is not None:
        dfun(fit.p0)
    gc.collect()
    before = _rss_bytes() if _reset_high_water() else None
    if before is None:
        before = _high_water_bytes()
    _, ier = leastsq(func, fit.p0, Dfun=dfun)
    after = _high_water_bytes()
    return {"growth": after - before, "ier": int(ier), "minpack": minpack.__file__}


def _peak_growth(library: str, jac: bool, m: int) -> tuple[int | None, str]:
    """Run `_peak_in_this_process` in a fresh interpreter: (bytes, problem)."""
    import minpack

    env = dict(os.environ, PYTHONSAFEPATH="1")
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _PEAK_CHILD, library, "jac" if jac else "nojac",
             str(m)], capture_output=True, text=True, env=env, timeout=600,
            cwd=tempfile.gettempdir(), check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"could not run a child process ({exc})"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"child process failed: {last}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    note = ""
    if os.path.realpath(result["minpack"]) != os.path.realpath(minpack.__file__):
        note = f"child imported another minpack ({result['minpack']})"
    elif result["ier"] not in _SUCCESS:
        note = f"ier = {result['ier']}"
    return int(result["growth"]), note


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} logical CPUs, {system}"


def _load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except (AttributeError, OSError):
        return "unknown"


def _write_png(rows: list[Row], path: str) -> str:
    """Bar chart of the ratios; returns what was done, for the report."""
    try:
        from matplotlib.figure import Figure
        from matplotlib.patches import Patch
    except ImportError:
        return "matplotlib is not installed: no PNG written"
    colors = {"leastsq": "tab:blue", "vectorized": "tab:purple",
              "curve_fit": "tab:green", "fsolve": "tab:orange", "bounded": "tab:red"}
    assert set(colors) == set(FUNCTIONS), "a colour for every kind of row"
    shown = [r for r in rows if math.isfinite(r.ratio)]
    if not shown:
        return "no rows to plot: no PNG written"
    fig = Figure(figsize=(8.0, 1.2 + 0.16 * len(shown)))
    ax = fig.add_subplot()
    y = np.arange(len(shown))
    ratios = np.array([r.ratio for r in shown])
    # Bars grow from 1.0: to the left where minpack is faster, right where slower.
    ax.barh(y, ratios - 1.0, left=1.0, height=0.75,
            color=[colors[r.case.function] for r in shown])
    for k, r in enumerate(shown):
        if r.flag:
            ax.annotate(" different solution", (r.ratio, k), va="center", fontsize=6)
    ax.set_yticks(y, [r.case.label for r in shown], fontsize=6)
    ax.set_ylim(len(shown) - 0.5, -0.5)
    ax.set_xscale("log")
    low = min(0.1, 0.8 * float(ratios.min()))
    high = max(10.0, 1.25 * float(ratios.max()))
    ax.set_xlim(low, high)
    ticks = [t for t in (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
             if low <= t <= high]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.axvline(1.0, color="black", linewidth=1.0)
    ax.set_xlabel("median time minpack / median time SciPy (< 1: minpack is faster)")
    ax.set_title("minpack vs SciPy, one bar per problem", fontsize=10, pad=18)
    present = [f for f in colors if any(r.case.function == f for r in shown)]
    ax.legend(handles=[Patch(color=colors[f], label=f) for f in present],
              loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=len(present),
              fontsize=7, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return f"bar chart of the ratios written to {path}"


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:.2f} MB"


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/bench.py",
        description="Time minpack's leastsq, curve_fit and fsolve against "
        "scipy.optimize's in the same process, interleaved, and print the median "
        "times, their ratio (minpack/scipy) and nfev per problem, the geometric "
        "mean ratio per function, the overhead and memory measurements, and "
        "whether the run meets minpack's targets.")
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats, shorter samples and fewer fits in the "
                        "memory test (for CI and tests)")
    parser.add_argument("--only", choices=("leastsq", "curve_fit", "fsolve", "bounded"),
                        help="time one function only (leastsq includes the "
                        "vectorized rows and the single measurements, curve_fit "
                        "the bounded rows)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timings per library and row; the median is quoted "
                        "(default: 9, or 3 with --quick)")
    parser.add_argument("--min-sample", type=float, default=None, metavar="SECONDS",
                        help="repeat short calls within one timing to last at "
                        "least this long (default: 0.01, or 0.003 with --quick)")
    parser.add_argument("--memory-fits", type=int, default=None, metavar="N",
                        help="consecutive fits in the resident-memory test "
                        "(default: 100000, or 5000 with --quick)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall time (default, what users wait for) or this "
                        "process's CPU time (steadier on a busy machine)")
    parser.add_argument("--png", metavar="PATH",
                        help="write a bar chart of the ratios (needs matplotlib)")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 9
    if args.min_sample is None:
        args.min_sample = 0.003 if args.quick else 0.01
    if args.memory_fits is None:
        args.memory_fits = 5000 if args.quick else 100_000
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.min_sample < 0:
        parser.error("--min-sample must not be negative")
    if args.memory_fits < 1:
        parser.error("--memory-fits must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the report.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments without the program name; default
        ``sys.argv[1:]``. See ``python benchmarks/bench.py --help``.

    Returns
    -------
    int
        Exit status: 0, or 1 when SciPy is not installed.
    """
    args = _parse_args(argv)
    try:
        import scipy
    except ImportError:
        print("error: the benchmark compares with SciPy, which is not installed",
              file=sys.stderr)
        return 1
    import minpack

    global _clock
    _clock = time.process_time if args.clock == "cpu" else time.perf_counter
    started = time.perf_counter()
    print(f"minpack {minpack.__version__} vs scipy {scipy.__version__} "
          f"(numpy {np.__version__}, Python {platform.python_version()})")
    print(f"machine: {_machine()}")
    print(f"load average at start: {_load()}")
    clock = "wall time" if args.clock == "wall" else "CPU time of this process"
    print(f"{clock}: median of {args.repeats} timings per library and row, minpack "
          f"and scipy taken in turn;\n  short calls repeated to last >= "
          f"{args.min_sample:g} s per timing")
    print("ratio = minpack time / scipy time (< 1: minpack is faster); nfev as "
          "each library reports it")
    print("(minpack counts calls of func; scipy's leastsq calls func nfev + 2 times)")
    if DATA_MISSING_REASON:
        print(f"MGH and NIST rows left out: {DATA_MISSING_REASON}")
    print()

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        rows = _run_rows(args)
        print()
        _print_means(rows)
        extras = None
        if args.only in (None, "leastsq"):
            print()
            extras = _run_extras(args)
    print()
    _print_targets(rows, extras)
    if args.png:
        print()
        print(_write_png(rows, args.png))
    print()
    print(f"load average at end: {_load()}; "
          f"benchmark took {time.perf_counter() - started:.0f} s")
    return 0


def _run_rows(args: argparse.Namespace) -> list[Row]:
    print(_HEADER)
    print("-" * len(_HEADER))
    rows = []
    previous = None
    for case in cases(args.only):
        if previous is not None and case.function != previous:
            print()
        previous = case.function
        gc.collect()
        row = _measure(case, args.repeats, args.min_sample)
        rows.append(row)
        print(_format_row(row), flush=True)
    return rows


_MEANS: tuple[tuple[str, Callable[[Row], bool]], ...] = (
    ("leastsq, small problems",
     lambda r: r.case.function == "leastsq" and r.case.small),
    ("leastsq, all problems", lambda r: r.case.function == "leastsq"),
    ("leastsq, large m", lambda r: r.case.function == "leastsq" and not r.case.small),
    ("curve_fit, small problems",
     lambda r: r.case.function == "curve_fit" and r.case.small),
    ("curve_fit, all problems", lambda r: r.case.function == "curve_fit"),
    ("fsolve", lambda r: r.case.function == "fsolve"),
    ("leastsq vectorized=True vs scipy leastsq",
     lambda r: r.case.function == "vectorized"),
    ("curve_fit with bounds vs scipy (trf)", lambda r: r.case.function == "bounded"),
)


def _mean_of(rows: list[Row], select: Callable[[Row], bool]) -> tuple[float, int, int]:
    """(geometric mean over the unflagged rows, rows used, rows flagged)."""
    chosen = [r for r in rows if select(r)]
    used = [r.ratio for r in chosen if not r.flag]
    return geometric_mean(used), len(used), len(chosen) - len(used)


def _print_means(rows: list[Row]) -> None:
    timed = [r for r in rows if math.isfinite(r.ratio)]
    if timed:
        noisy = sum(r.spread > _NOISY for r in timed)
        spread = statistics.median(r.spread for r in timed)
        print(f"timing noise: interquartile range of a row's timings over their "
              f"median, {spread:.0%} in the median row; {noisy} of {len(timed)} "
              f"rows above {_NOISY:.0%}")
    print("geometric mean of the ratios (rows flagged above are left out)")
    for title, select in _MEANS:
        mean, used, flagged = _mean_of(rows, select)
        if used + flagged == 0:
            continue
        worst = max((r for r in rows if select(r) and not r.flag),
                    key=lambda r: r.ratio, default=None)
        text = f"  {title:<42} {mean:5.2f}  ({used} rows"
        text += f", {flagged} flagged)" if flagged else ")"
        if worst is not None:
            text += f"; worst {worst.ratio:.2f} ({worst.case.problem}"
            text += ", jac)" if worst.case.jac else ")"
        print(text)


class Extras(NamedTuple):
    """The single measurements."""

    full_output: tuple[float, float]
    overhead: tuple[Overhead, Overhead]
    rss_growth: tuple[int | None, int | None]
    fits: int
    peak: dict[tuple[str, bool], tuple[int | None, str]]
    peak_m: int


def _run_extras(args: argparse.Namespace) -> Extras:
    repeats = max(args.repeats, 5) * 2
    print("extra cost of full_output=True over full_output=False "
          "(leastsq, exponential fit, n = 3)")
    extra = _full_output_cost(repeats, args.min_sample)
    print(f"  minpack {extra[0] * 1e6:7.2f} us    scipy {extra[1] * 1e6:7.2f} us")
    print()

    print("time per evaluation beyond the user's function (leastsq, exponential "
          "fit, Dfun=None):")
    print("  (fit time - nfev x time of one func call) / nfev")
    overhead = _overhead(repeats, args.min_sample)
    for name, o in zip(("minpack", "scipy"), overhead, strict=True):
        text = (f"  {name:<8} {o.per_nfev * 1e6:7.2f} us  (fit "
                f"{_fmt_time(o.fit_time)}, nfev {o.nfev}, func "
                f"{o.func_time * 1e6:.2f} us per call")
        if o.calls != o.nfev:
            text += f"; {o.calls} actual calls: {o.per_call * 1e6:.2f} us per call"
        print(text + ")")
    print()

    print(f"resident memory growth over {args.memory_fits:,} consecutive fits "
          "(leastsq, exponential fit; /proc/self/statm)")
    growth = _rss_growth(args.memory_fits)
    print(f"  minpack {_mb(growth[0])}    scipy {_mb(growth[1])}")
    print()

    m = LARGE_SIZES[-1]
    jac_bytes = m * 5 * 8
    print(f"peak memory of one leastsq fit, m = {m:,}, n = 5: peak RSS during the fit "
          "minus RSS before it,\n  in a fresh process (the data and one evaluation "
          f"already in memory); one m x n Jacobian = {_mb(jac_bytes)}")
    peak: dict[tuple[str, bool], tuple[int | None, str]] = {}
    for jac in (False, True):
        for library in ("minpack", "scipy"):
            growth_bytes, note = _peak_growth(library, jac, m)
            peak[library, jac] = (growth_bytes, note)
            size = ("n/a" if growth_bytes is None
                    else f"{_mb(growth_bytes)} = {growth_bytes / jac_bytes:.2f} x "
                    "Jacobian")
            print(f"  {library:<8} {'Dfun given' if jac else 'Dfun=None':<10} {size}"
                  + (f"  [{note}]" if note else ""))
    return Extras(extra, overhead, growth, args.memory_fits, peak, m)


def _print_targets(rows: list[Row], extras: Extras | None) -> None:
    print("targets (speed against SciPy, overhead, memory), in this run")
    lines: list[tuple[bool | None, str]] = []  # None: below the noise, no verdict

    def mean_target(title: str, select: Callable[[Row], bool], limit: float) -> None:
        mean, used, _ = _mean_of(rows, select)
        if used:
            lines.append((mean <= limit,
                          f"{title}: geometric mean {mean:.2f} <= {limit}"))

    def is_leastsq(r: Row) -> bool:
        return r.case.function == "leastsq"

    mean_target("leastsq, small problems", lambda r: is_leastsq(r) and r.case.small,
                0.75)
    leastsq_rows = [r for r in rows if is_leastsq(r) and not r.flag]
    if leastsq_rows:
        above = [r for r in leastsq_rows if r.ratio > 1.0]
        lines.append((not above, f"leastsq: no problem above 1.0 ({len(above)} of "
                      f"{len(leastsq_rows)} rows above)"))
    mean_target("curve_fit", lambda r: r.case.function == "curve_fit", 0.6)
    mean_target("fsolve", lambda r: r.case.function == "fsolve", 0.8)
    mean_target("leastsq vectorized=True", lambda r: r.case.function == "vectorized",
                0.5)
    large = [r for r in rows if r.case.m == LARGE_SIZES[-1] and not r.flag
             and r.case.function in ("leastsq", "curve_fit")]
    if large:
        worst = max(r.ratio for r in large)
        lines.append((worst <= 1.0, f"large m = {LARGE_SIZES[-1]:,}, n = 5: not slower "
                      f"than scipy (worst ratio {worst:.2f})"))
    if extras is not None:
        fo = extras.full_output[0] * 1e6
        lines.append((None if fo < 0 else fo <= 5.0,
                      f"full_output=True costs at most 5 us more: {fo:.2f} us"))
        oh = extras.overhead[0].per_nfev * 1e6
        lines.append((None if oh < 0 else oh <= 1.0,
                      f"overhead per evaluation at most 1 us: {oh:.2f} us"))
        growth = extras.rss_growth[0]
        if growth is not None:
            scaled = growth * 100_000 / extras.fits
            text = f"memory growth over 100,000 fits below 5 MB: {_mb(growth)}"
            if extras.fits != 100_000:
                text += f" over {extras.fits:,} fits (x{100_000 / extras.fits:g}: " \
                        f"{_mb(scaled)})"
            lines.append((scaled < 5 * 2**20, text))
        jac_bytes = extras.peak_m * 5 * 8
        for jac in (False, True):
            ours = extras.peak.get(("minpack", jac), (None, ""))[0]
            theirs = extras.peak.get(("scipy", jac), (None, ""))[0]
            if ours is not None and theirs is not None:
                # SciPy runs MINPACK-1 itself: more than half a Jacobian above its
                # peak would be a copy of the Jacobian that MINPACK does not need.
                extra = (ours - theirs) / jac_bytes
                kind = "Dfun" if jac else "no Dfun"
                lines.append((extra < 0.5, f"peak memory, {kind}: no extra Jacobian "
                              f"copy (minpack {_mb(ours)}, scipy {_mb(theirs)}: "
                              f"{extra:+.2f} Jacobians)"))
    for ok, text in lines:
        if ok is None:
            text += " (negative: the noise exceeds the effect; try --clock cpu)"
        print(f"  [{'??' if ok is None else 'ok' if ok else 'MISS'}] {text}")
    if not lines:
        print("  (nothing measured)")


if __name__ == "__main__":
    raise SystemExit(main())
