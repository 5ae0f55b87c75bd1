"""``minpack._malloc.roomy_malloc``: a vectorised batch under a fixed malloc.

Dask's nanny starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``; under
it NumPy's temporaries in each round of a vectorised batch are mapped and
unmapped afresh (2.7 times slower in ``benchmarks/batch.py``'s measurement).
The batch raises glibc's thresholds while it runs and puts the
environment's values back after, then returns the free memory. The calls
are checked on a recorder standing in for the C library; one subprocess runs
the real thing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import minpack
from minpack import _malloc


class Recorder:
    def __init__(self):
        self.calls = []

    def mallopt(self, parameter, value):
        self.calls.append(("mallopt", parameter, value))
        return 1

    def malloc_trim(self, pad):
        self.calls.append(("malloc_trim", pad))
        return 1


def decay(t, a, k, c):
    return a * np.exp(-k * t) + c


T = np.linspace(0, 4, 30)
Y = decay(T, *np.random.default_rng(0).uniform(1, 2, (3, 400, 1)))


@pytest.fixture
def recorder(monkeypatch):
    rec = Recorder()
    monkeypatch.setattr(_malloc, "_LIBC", rec)
    monkeypatch.setattr(_malloc, "_FIXED", None)
    return rec


def test_the_thresholds_glibc_took_from_the_environment():
    fixed = _malloc._fixed_thresholds
    assert fixed({}) is None
    assert fixed({"MALLOC_TRIM_THRESHOLD_": "65536"}) == {-1: 65536, -3: 131072}
    assert fixed({"MALLOC_MMAP_THRESHOLD_": "200000"}) == {-1: 131072, -3: 200000}
    # glibc refuses an mmap threshold above 32 MiB, and what it cannot read
    assert fixed({"MALLOC_MMAP_THRESHOLD_": str(64 * 2**20),
                  "MALLOC_TRIM_THRESHOLD_": "lots"}) == {-1: 131072, -3: 131072}


def test_a_variable_set_after_the_start_changes_nothing(monkeypatch):
    """Dask's nanny sets MALLOC_TRIM_THRESHOLD_ in os.environ of a client
    that runs a LocalCluster; glibc never saw it, and neither does minpack:
    it reads the environment the process started with."""
    monkeypatch.setenv("MINPACK_TEST_SET_LATE", "1")
    started = _malloc._start_environment()
    assert "MINPACK_TEST_SET_LATE" not in started
    assert "PATH" in started  # (it did read something)
    expected = None if _malloc._LIBC is None else _malloc._fixed_thresholds(started)
    assert _malloc._FIXED == expected


def test_nothing_changes_where_malloc_adapts_by_itself(recorder):
    minpack.curve_fit_batch(decay, T, Y, p0=[1, 1, 1])
    assert recorder.calls == []


def test_raised_for_the_batch_and_the_environment_put_back(recorder, monkeypatch):
    monkeypatch.setattr(_malloc, "_FIXED", {-1: 65536, -3: 131072})
    res = minpack.curve_fit_batch(decay, T, Y, p0=[1, 1, 1], workers=2)
    assert res.success.all()
    assert recorder.calls == [
        ("mallopt", -1, 256 * 2**20), ("mallopt", -3, 32 * 2**20),  # raised
        ("mallopt", -1, 65536), ("mallopt", -3, 128 * 1024),  # the environment's
        ("malloc_trim", 0),
    ]


def test_batches_in_several_threads_share_one_raise(recorder, monkeypatch):
    import threading

    monkeypatch.setattr(_malloc, "_FIXED", {-1: 131072, -3: 200000})
    inside = threading.Barrier(3)

    def model(t, a, k, c):
        inside.wait(10)  # the three batches run at once (same calls each)
        return decay(t, a, k, c)

    calls = []

    def run():
        calls.append(minpack.curve_fit_batch(model, T, Y[:1], p0=[1, 1, 1], workers=1,
                                             maxfev=1))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(calls) == 3
    assert recorder.calls == [
        ("mallopt", -1, 256 * 2**20), ("mallopt", -3, 32 * 2**20),
        ("mallopt", -1, 128 * 1024), ("mallopt", -3, 200000),
        ("malloc_trim", 0),
    ]


@pytest.mark.skipif(_malloc._LIBC is None, reason="the C library is not glibc: "
                    "roomy_malloc does nothing there")
def test_the_real_c_library_under_dasks_setting():
    code = textwrap.dedent("""
        import numpy as np, minpack
        from minpack import _malloc
        assert _malloc._FIXED == {-1: 65536, -3: 131072}, _malloc._FIXED
        t = np.linspace(0, 4, 30)
        y = 2 * np.exp(-t)[None, :] + np.zeros((50, 1))
        res = minpack.curve_fit_batch(lambda t, a, k: a * np.exp(-k * t), t, y,
                                      p0=[1, 1])
        assert res.success.all() and np.allclose(res.popt, [2, 1])
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
