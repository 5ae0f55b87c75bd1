"""NIST StRD nonlinear regression: certified digits reached by minpack.leastsq.

All 27 datasets run from both NIST starting vectors (54 runs) with
``ftol = xtol = 1e-15, gtol = 0, maxfev = 100000`` and ``Dfun=None``, as the
data README recommends. Each run is scored by the log relative error

    LRE = min over parameters of -log10(|estimate - certified| / |certified|),

capped at 11 (NIST prints 11 digits) and floored at 0.

Gates:

* at least 53 of the 54 runs reach LRE >= 4 (BoxBOD from start 1 is the
  known exception: SciPy ends far from the solution too);
* every start-2 run reaches LRE >= 4 (start 2 is close to the solution; a
  sound LM code converges from it);
* the standard errors ``sqrt(diag(cov_x) * RSS / (m - n))`` of the start-2
  run match NIST's certified standard deviations to LRE >= 4 on at least 26
  of the 27 datasets. We score start 2 (not the better of the two starts) so
  no run is picked after the fact. Lanczos1 is the expected exception: its
  certified RSS (1.4e-25) is below float64 round-off in the residuals, so the
  RSS, and with it the standard errors, carry only ~3 digits;
* the certified RSS is reached to LRE >= 4 by every run whose parameters
  reached LRE >= 4 (Lanczos1: RSS <= 1e-20 only, same reason);
* no run is more than one digit worse than SciPy's on the same problem
  (unless both reach 6 digits).

The table of digits is printed in the terminal summary.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.optimize
from support.problems import DATA_MISSING_REASON, Problem, select

import minpack

pytestmark = pytest.mark.scipy_oracle  # compared with SciPy: see conftest.py

NIST = select("nist")
NO_DATA = [pytest.param(None, marks=pytest.mark.skip(reason=DATA_MISSING_REASON))]
OPTIONS = dict(full_output=True, ftol=1e-15, xtol=1e-15, gtol=0.0, maxfev=100000)
ROUNDOFF_RSS = {"Lanczos1"}
"""Datasets whose certified RSS is below float64 round-off in the residuals."""


def dataset(p: Problem) -> str:
    """NIST dataset name of a registry entry (``nist_Misra1a_start2``)."""
    return p.name.split("_")[1]


def start(p: Problem) -> str:
    """``"start1"`` or ``"start2"``."""
    return p.name.split("_")[2]


def lre(estimate, certified) -> float:
    """NIST's log relative error, minimum over the components, in [0, 11]."""
    est = np.atleast_1d(np.asarray(estimate, dtype=float))
    cert = np.atleast_1d(np.asarray(certified, dtype=float))
    if est.shape != cert.shape or not np.all(np.isfinite(est)):
        return 0.0
    rel = np.abs(est - cert) / np.abs(cert)
    with np.errstate(divide="ignore"):
        digits = np.where(rel == 0.0, 11.0, -np.log10(rel))
    return float(np.clip(digits, 0.0, 11.0).min())


def solve(leastsq, p: Problem) -> dict:
    """Fit ``p`` with ``leastsq``; return the scores and the raw output."""
    with warnings.catch_warnings():
        # ier 6-8 are legitimate outcomes at these tolerances; they are scored
        # by digits, not by the warning.
        warnings.simplefilter("ignore", RuntimeWarning)
        x, cov_x, info, mesg, ier = leastsq(p.func, p.start(), **OPTIONS)
    rss = float(np.sum(p.func(x) ** 2))
    if cov_x is None:
        se_lre = 0.0
    else:
        se = np.sqrt(np.diag(cov_x) * rss / (p.m - p.n))
        se_lre = lre(se, p.certified_std)
    return dict(
        x=x,
        ier=ier,
        nfev=info["nfev"],
        mesg=mesg,
        rss=rss,
        lre=lre(x, p.certified),
        se_lre=se_lre,
        rss_lre=lre(rss, p.certified_rss),
    )


@pytest.fixture(scope="module")
def runs(report) -> dict:
    """Both solvers on all 54 runs, keyed by registry name."""
    if DATA_MISSING_REASON:
        pytest.skip(DATA_MISSING_REASON)
    out = {}
    for p in NIST:
        out[p.name] = (solve(minpack.leastsq, p), solve(scipy.optimize.leastsq, p))
    title = "NIST StRD: certified digits (LRE), minpack vs SciPy"
    report(
        title,
        f"{'run':27s} {'level':8s} {'ier':>3s} {'nfev':>6s} "
        f"{'params':>6s} {'stderr':>6s} {'RSS':>6s} | {'SciPy':>6s} "
        f"{'nfev':>6s}",
    )
    for p in NIST:
        o, s = out[p.name]
        report(
            title,
            f"{p.name[5:]:27s} {p.difficulty:8s} {o['ier']:3d} "
            f"{o['nfev']:6d} {o['lre']:6.2f} {o['se_lre']:6.2f} "
            f"{o['rss_lre']:6.2f} | {s['lre']:6.2f} {s['nfev']:6d}",
        )
    ok = sum(o["lre"] >= 4 for o, _ in out.values())
    se_ok = sum(o["se_lre"] >= 4 for k, (o, _) in out.items() if k.endswith("start2"))
    report(
        title,
        f"parameters LRE >= 4: {ok} of {len(out)} runs; start-2 "
        f"standard errors LRE >= 4: {se_ok} of {len(out) // 2} datasets; "
        f"min parameter LRE over passing runs: "
        f"{min(o['lre'] for o, _ in out.values() if o['lre'] >= 4):.2f}",
    )
    return out


def test_nist_data_present() -> None:
    """All 27 datasets are in the registry (CI always has ../shared/data)."""
    if DATA_MISSING_REASON:
        pytest.skip(DATA_MISSING_REASON)
    assert len({dataset(p) for p in NIST}) == 27
    assert len(NIST) == 54


def test_parameters_gate(runs) -> None:
    """At least 53 of the 54 runs reach 4 certified digits in every parameter."""
    failed = sorted(k for k, (o, _) in runs.items() if o["lre"] < 4)
    assert len(runs) - len(failed) >= 53, f"below LRE 4: {failed}"


@pytest.mark.parametrize(
    "p",
    [p for p in NIST if start(p) == "start2"] or NO_DATA,
    ids=lambda p: dataset(p) if p else "no_data",
)
def test_start2_converges(runs, p: Problem) -> None:
    """From NIST's start 2 every dataset reaches LRE >= 4."""
    o, _ = runs[p.name]
    assert o["lre"] >= 4, f"LRE {o['lre']:.2f}, ier {o['ier']}: {o['mesg']}"


def test_standard_errors_gate(runs) -> None:
    """Start-2 standard errors match NIST's to 4 digits on >= 26 of 27 datasets."""
    failed = sorted(
        k for k, (o, _) in runs.items() if k.endswith("start2") and o["se_lre"] < 4
    )
    assert 27 - len(failed) >= 26, f"standard errors below LRE 4: {failed}"


def test_rss(runs) -> None:
    """Runs that found the certified parameters also reach the certified RSS.

    Lanczos1's certified RSS (1.4e-25) is below round-off in float64, so for
    it only an absolute bound is checked.
    """
    checked, failed = 0, []
    for p in NIST:
        o, _ = runs[p.name]
        if o["lre"] < 4:
            continue  # not converged: counted by the parameter gate
        checked += 1
        if dataset(p) in ROUNDOFF_RSS:
            if not o["rss"] <= 1e-20:
                failed.append(f"{p.name}: RSS {o['rss']!r} > 1e-20")
        elif o["rss_lre"] < 4:
            failed.append(f"{p.name}: RSS {o['rss']!r} vs {p.certified_rss!r}")
    assert checked >= 53
    assert not failed, failed


@pytest.mark.parametrize(
    "p", NIST or NO_DATA, ids=lambda p: p.name[5:] if p else "no_data"
)
def test_not_worse_than_scipy(runs, p: Problem) -> None:
    """Require at most one digit worse than SciPy's leastsq (or both >= 6)."""
    o, s = runs[p.name]
    assert o["lre"] >= min(s["lre"], 6.0) - 1.0, (
        f"minpack LRE {o['lre']:.2f} (ier {o['ier']}, nfev {o['nfev']}), "
        f"SciPy {s['lre']:.2f} (ier {s['ier']}, nfev {s['nfev']})"
    )
