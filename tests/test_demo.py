"""``python -m minpack.demo`` and the NIST loader it shares with the tests."""

from __future__ import annotations

import json

import numpy as np
import pytest
from support.problems import NIST_DIR

import minpack.demo
from minpack._nist import load_problems


def test_demo_table_without_scipy(capsys: pytest.CaptureFixture[str]) -> None:
    """Two problems from both starts: one row per run and the summary."""
    assert minpack.demo.main(["--no-scipy", "Misra1a", "nelson"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines()
            if line.startswith(("Misra1a ", "Nelson "))]
    assert [(r[0], r[2]) for r in rows] == [("Misra1a", "1"), ("Misra1a", "2"),
                                            ("Nelson", "1"), ("Nelson", "2")]
    assert all(float(r[3]) >= 6.0 for r in rows)  # certified digits
    assert "4/4 runs reached at least 4 certified digits" in out
    assert "scipy digits" not in out  # no comparison columns


def test_demo_unknown_problem(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown name is an error that lists the known ones."""
    assert minpack.demo.main(["--no-scipy", "Misra9"]) == 2
    err = capsys.readouterr().err
    assert "unknown problem(s) misra9" in err and "Thurber" in err


def test_shipped_data_are_nists() -> None:
    """The 27 files in minpack/data/nist agree with the reference copy.

    The package ships the fields the loader reads; each must equal the one of
    ``../shared/data/nist_strd/json``, which the tests fit.
    """
    if not NIST_DIR.is_dir():
        pytest.skip(f"shared reference data not found: {NIST_DIR}")
    shipped = load_problems()
    assert len(shipped) == 27
    for problem in shipped:
        reference = json.loads((NIST_DIR / f"{problem.name}.json").read_text())
        assert problem.difficulty == reference["difficulty"]
        for ours, key in ((problem.starts[0], "start1"), (problem.starts[1], "start2"),
                          (problem.certified, "certified_values"),
                          (problem.certified_std, "certified_std_dev")):
            np.testing.assert_array_equal(ours, reference[key], err_msg=problem.name)
        assert problem.certified_rss == reference["residual_sum_of_squares"]
        np.testing.assert_array_equal(problem.predictors["x"] if len(
            problem.predictors) == 1 else list(problem.predictors.values()),
            reference["x"], err_msg=problem.name)
        again = {p.name: p for p in load_problems([problem.name], folder=NIST_DIR)}
        np.testing.assert_array_equal(problem.response, again[problem.name].response)
        b = problem.certified
        np.testing.assert_array_equal(problem.residuals(b),
                                      again[problem.name].residuals(b))
