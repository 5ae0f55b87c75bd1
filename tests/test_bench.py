"""The benchmark ``benchmarks/bench.py`` runs and reports; no times asserted.

The benchmark must compare the same work in both libraries, so its problems (the
registry's, in curve-fitting form) are checked here too: every analytic Jacobian
against central differences, and every vectorized residual against the plain
one, column by column. (The equations' Jacobians are checked in test_fsolve.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks" / "bench.py"

sys.path.insert(0, str(BENCH.parent))
import bench  # noqa: E402
from support.problems import DATA_MISSING_REASON  # noqa: E402


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    # PYTHONSAFEPATH: never import the checkout's minpack/ (Fortran) folder.
    env = dict(os.environ, PYTHONSAFEPATH="1")
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=600, check=False)


def test_quick_leastsq_run_prints_table_means_and_targets(tmp_path: Path) -> None:
    """``--quick --only leastsq``: every part of the report, no times asserted."""
    png = tmp_path / "bench.png"
    done = _run([sys.executable, str(BENCH), "--quick", "--only", "leastsq",
                 "--repeats", "1", "--memory-fits", "300", "--png", str(png)],
                tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout

    header = next(line for line in out.splitlines() if line.startswith("function"))
    for column in ("problem", "jac", "scipy", "minpack", "ratio", "nfev scipy",
                   "nfev ours", "check"):
        assert column in header
    # one row per problem and Jacobian choice, from every group of the suite
    lines = out.splitlines()
    start = header.index("problem")
    expected = ["exp_decay", "michaelis_menten", "2 exponentials, m=20,000",
                "2 exponentials, m=200,000"]
    if DATA_MISSING_REASON:
        assert f"MGH and NIST rows left out: {DATA_MISSING_REASON}" in out
    else:
        expected += ["Bard", "Meyer (scaled)", "Osborne 1", "Misra1a", "Thurber"]
    for problem in expected:
        rows = [line for line in lines if line.startswith("leastsq ")
                and line[start:].startswith(problem + "  ")]
        assert len(rows) == 2, (problem, rows)  # Dfun=None and an analytic Dfun
    assert any(line.startswith("vectorized ") for line in lines)
    assert not any(line.startswith(("curve_fit ", "fsolve ")) for line in lines)
    assert "DIFFERENT" not in out  # both libraries reached the same solutions

    assert "geometric mean of the ratios" in out
    for title in ("leastsq, small problems", "leastsq, all problems",
                  "leastsq vectorized=True vs scipy leastsq"):
        assert title in out
    for measurement in ("full_output=True", "beyond the user's function",
                        "resident memory growth over 300", "peak memory"):
        assert measurement in out
    assert "targets (speed against SciPy, overhead, memory), in this run" in out
    assert "[MISS]" in out or "[ok]" in out or "[??]" in out
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in out
    else:
        assert png.read_bytes().startswith(b"\x89PNG")


def test_main_fsolve_only(capsys: pytest.CaptureFixture[str]) -> None:
    """``main`` in this process: the fsolve rows and their geometric mean."""
    assert bench.main(["--quick", "--only", "fsolve", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("fsolve ")]
    assert len(rows) == 2 * len(bench.equations())
    assert "geometric mean" in out and "  fsolve " in out
    assert "leastsq" not in "".join(rows)


def test_help_from_another_folder(tmp_path: Path) -> None:
    """``python benchmarks/bench.py --help`` works from outside the checkout."""
    done = _run([sys.executable, str(BENCH), "--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout and "--png" in done.stdout


def _central_differences(func, x: np.ndarray) -> np.ndarray:
    columns = []
    for j in range(x.size):
        step = 1e-6 * max(abs(x[j]), 1e-3)
        e = np.zeros_like(x)
        e[j] = step
        columns.append((func(x + e) - func(x - e)) / (2.0 * step))
    return np.column_stack(columns)


def _points(x0: np.ndarray) -> list[np.ndarray]:
    """Return the start and a point near it: the Jacobians are checked at both."""
    return [x0, x0 * 1.05 + 0.01]


@pytest.mark.parametrize("fit", bench.fits(), ids=lambda f: f.name)
def test_fit_jacobian_matches_differences(fit: bench.CurveFit) -> None:
    """Each least-squares problem's Dfun is the derivative of its residuals."""
    func = bench.residual_function(fit)
    dfun = bench.jacobian_function(fit)
    for x in _points(fit.p0):
        jac = dfun(x)
        assert jac.shape == (fit.m, fit.n)
        np.testing.assert_allclose(jac, _central_differences(func, x), rtol=1e-5,
                                   atol=1e-6 * np.max(np.abs(jac)))


@pytest.mark.parametrize("fit", [f for f in bench.fits() if f.group != "large"],
                         ids=lambda f: f.name)
def test_vectorized_residuals_match_plain_ones(fit: bench.CurveFit) -> None:
    """The vectorized residuals give the plain residuals column by column."""
    plain = bench.residual_function(fit)
    block = np.column_stack(_points(fit.p0))
    values = bench.vectorized_function(fit)(block)
    assert values.shape == (fit.m, 2)
    for k in range(2):
        np.testing.assert_allclose(values[:, k], plain(block[:, k]), rtol=1e-14,
                                   atol=0.0)


def test_bounded_rows_are_charted(tmp_path: Path) -> None:
    """``--only bounded --png``: the bounded rows get their own colour."""
    png = tmp_path / "bounded.png"
    done = _run([sys.executable, str(BENCH), "--quick", "--only", "bounded",
                 "--repeats", "1", "--png", str(png)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "curve_fit with bounds vs scipy (trf)" in done.stdout
    assert png.read_bytes().startswith(b"\x89PNG")
