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


@pytest.fixture(scope="session")
def dask_client():
    """A ``dask.distributed`` client of a LocalCluster on loopback: two worker
    processes of one thread each, no dashboard. Closed after the session, and
    its worker processes with it (the teardown checks that none is left).
    """
    import multiprocessing

    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.comm.timeouts.connect": "60s",
                          "distributed.comm.timeouts.tcp": "60s"}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None,
                               worker_dashboard_address=None)
        client = Client(cluster, timeout="60s")
        try:
            client.wait_for_workers(2, timeout=120)
            yield client
        finally:
            client.close(timeout=60)
            cluster.close(timeout=60)
    for child in multiprocessing.active_children():  # reaped, or a worker left
        child.join(timeout=30)
    left = [child.pid for child in multiprocessing.active_children()]
    assert not left, f"worker processes still running after the cluster closed: {left}"


@pytest.fixture(params=["threads", "processes", "distributed"])
def scheduler(request):
    """Keywords of ``compute`` that pick each Dask scheduler in turn."""
    if request.param == "distributed":
        return {"scheduler": request.getfixturevalue("dask_client")}
    if request.param == "processes":
        return {"scheduler": "processes", "num_workers": 2}
    return {"scheduler": "threads", "num_workers": 2}
