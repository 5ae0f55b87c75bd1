"""``python -m minpack.selftest``, the smoke test ci/wheel runs on the wheel."""

import subprocess
import sys

import minpack.selftest


def test_every_check_passes(capsys):
    assert minpack.selftest.main([]) == 0
    out = capsys.readouterr().out
    assert f"selftest: {len(minpack.selftest.CHECKS)} passed, 0 failed" in out


def test_a_failing_check_gives_status_1(monkeypatch, capsys):
    def broken() -> None:
        """A check that fails."""
        raise AssertionError("on purpose")

    monkeypatch.setattr(minpack.selftest, "CHECKS", [broken])
    assert minpack.selftest.main([]) == 1
    out = capsys.readouterr().out
    assert "FAIL  A check that fails." in out
    assert "selftest: 0 passed, 1 failed" in out


def test_runs_as_a_module(tmp_path):
    done = subprocess.run([sys.executable, "-m", "minpack.selftest"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
