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
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    return rec


def test_nothing_changes_where_malloc_adapts_by_itself(recorder):
    minpack.curve_fit_batch(decay, T, Y, p0=[1, 1, 1])
    assert recorder.calls == []


def test_raised_for_the_batch_and_the_environment_put_back(recorder, monkeypatch):
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    res = minpack.curve_fit_batch(decay, T, Y, p0=[1, 1, 1], workers=2)
    assert res.success.all()
    assert recorder.calls == [
        ("mallopt", -1, 256 * 2**20), ("mallopt", -3, 32 * 2**20),  # raised
        ("mallopt", -1, 65536), ("mallopt", -3, 128 * 1024),  # the environment's
        ("malloc_trim", 0),
    ]


def test_batches_in_several_threads_share_one_raise(recorder, monkeypatch):
    import threading

    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "200000")
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
        assert _malloc._fixed_thresholds() is not None
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
