"""Shared pytest plumbing: a place for tests to leave report tables, markers.

The session fixture ``report`` is a function ``report(title, line)``; the lines
are printed after the run in pytest's terminal summary, so the tables (NIST
digits, agreement with SciPy) are visible without ``-s``.

The marker ``scipy_oracle`` tags the tests that compare results with SciPy's
(``pytestmark`` in their module); ``ci/test`` reruns them with
``-m scipy_oracle`` under other OpenBLAS core types.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

_REPORT_KEY = pytest.StashKey[dict]()


def pytest_configure(config: pytest.Config) -> None:
    """Create the report store; register the markers."""
    config.stash[_REPORT_KEY] = {}
    config.addinivalue_line(
        "markers",
        "scipy_oracle: compares results with scipy.optimize's; ci/test runs these "
        "again under other OpenBLAS core types (see support/oracle.py)",
    )


@pytest.fixture(scope="session")
def report(pytestconfig: pytest.Config) -> Callable[[str, str], None]:
    """Return ``report(title, line)``: add a line to a section of the summary."""
    sections = pytestconfig.stash[_REPORT_KEY]

    def add(title: str, line: str) -> None:
        sections.setdefault(title, []).append(line)

    return add


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Print the report sections after the run."""
    for title, lines in config.stash.get(_REPORT_KEY, {}).items():
        terminalreporter.section(title, sep="-")
        for line in lines:
            terminalreporter.write_line(line)
