"""``minpack.patch_scipy``: minpack in place of SciPy's solvers, program-wide.

Modules that imported the names before the patch and after it; unpatching
restores SciPy's very objects everywhere; nested blocks; the routes minpack
hands on to SciPy under the patch; ``python -m minpack.patch`` for a script
and a module; the error without SciPy. The names covered are those minpack
provides (`minpack._patch.NAMES` that exist), so new solvers join by
themselves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest
import scipy.optimize

import minpack
from minpack import _patch

NAMES = list(_patch.NAMES)
ORIGINALS = {n: getattr(scipy.optimize, n) for n in NAMES}


@pytest.fixture(autouse=True)
def _unpatched():
    """Every test starts and ends with SciPy's own functions in place."""
    assert not _patch._originals, "a previous test left the patch on"
    yield
    minpack.unpatch_scipy()
    for n in NAMES:
        assert getattr(scipy.optimize, n) is ORIGINALS[n]


def _module(name: str, source: str) -> types.ModuleType:
    """A module made from `source` and registered in sys.modules."""
    module = types.ModuleType(name)
    exec(textwrap.dedent(source), module.__dict__)  # noqa: S102 - test code
    sys.modules[name] = module
    return module


@pytest.fixture
def user_modules():
    made = []

    def make(name: str, source: str) -> types.ModuleType:
        made.append(name)
        return _module(name, source)

    yield make
    for name in made:
        sys.modules.pop(name, None)


def _imports(names) -> str:
    return "\n".join(f"from scipy.optimize import {n}" for n in names) + (
        "\nimport scipy.optimize as so\n")


def test_names_cover_the_three_drop_ins():
    assert {"leastsq", "curve_fit", "fsolve"} <= set(NAMES)


def test_imported_before_and_after_the_patch(user_modules):
    before = user_modules("_mp_user_before", _imports(NAMES))
    replaced = minpack.patch_scipy()
    assert set(replaced) == set(NAMES)
    assert all(replaced[n] is ORIGINALS[n] for n in NAMES)
    after = user_modules("_mp_user_after", _imports(NAMES))
    for n in NAMES:
        ours = getattr(minpack, n)
        for module in (before, after):
            assert getattr(module, n).__wrapped__ is ours, (module.__name__, n)
            assert getattr(module.so, n).__wrapped__ is ours
    # SciPy's private modules keep SciPy's own functions
    assert scipy.optimize._minpack_py.leastsq is ORIGINALS["leastsq"]
    assert scipy.optimize._minpack_py.curve_fit is ORIGINALS["curve_fit"]


def test_a_patched_call_reaches_minpack(user_modules):
    before = user_modules("_mp_user_call", "from scipy.optimize import leastsq\n")
    minpack.patch_scipy()
    start = _patch.calls()["leastsq"]
    seen = []

    def residuals(p):
        seen.append(1)
        return np.array([1.0, 2.0, 4.0]) - p[0]

    x, cov_x, info, mesg, ier = before.leastsq(residuals, [0.0], full_output=True)
    assert _patch.calls()["leastsq"] == start + 1
    # minpack's signature: func called exactly nfev times (SciPy: nfev + 2)
    assert len(seen) == info["nfev"]
    expected = minpack.leastsq(residuals, [0.0], full_output=True)
    np.testing.assert_array_equal(x, expected[0])


def test_idempotent_and_by_name():
    first = minpack.patch_scipy("leastsq")
    assert list(first) == ["leastsq"]
    assert minpack.patch_scipy("leastsq") == {}
    wrapper = scipy.optimize.leastsq
    rest = minpack.patch_scipy()
    assert set(rest) == set(NAMES) - {"leastsq"}
    assert scipy.optimize.leastsq is wrapper  # the same object, not a second layer
    assert minpack.patch_scipy() == {}


def test_unknown_name():
    with pytest.raises(ValueError, match="cannot patch 'minimize'.*leastsq"):
        minpack.patch_scipy(["minimize"])
    assert not _patch._originals


def test_unpatch_restores_identity_everywhere(user_modules):
    before = user_modules("_mp_user_u1", _imports(NAMES))
    minpack.patch_scipy()
    during = user_modules("_mp_user_u2", _imports(NAMES))
    direct = user_modules("_mp_user_u3", "from minpack import leastsq\n")
    restored = minpack.unpatch_scipy()
    assert set(restored) == set(NAMES)
    for n in NAMES:
        assert getattr(scipy.optimize, n) is ORIGINALS[n]
        assert getattr(before, n) is ORIGINALS[n]
        assert getattr(during, n) is ORIGINALS[n]
        assert restored[n] is ORIGINALS[n]
    assert direct.leastsq is minpack.leastsq  # imported from minpack: kept
    assert minpack.unpatch_scipy() == {}


def test_nested_blocks(user_modules):
    module = user_modules("_mp_user_nest", "from scipy.optimize import fsolve, leastsq\n")
    with minpack.patched_scipy(["leastsq"]) as outer:
        assert list(outer) == ["leastsq"]
        with minpack.patched_scipy() as inner:
            assert "leastsq" not in inner and "fsolve" in inner
            assert module.fsolve.__wrapped__ is minpack.fsolve
            with minpack.patched_scipy() as innermost:
                assert innermost == {}
            assert module.fsolve.__wrapped__ is minpack.fsolve
        # the inner block restored only what it replaced
        assert module.fsolve is ORIGINALS["fsolve"]
        assert module.leastsq.__wrapped__ is minpack.leastsq
    assert module.leastsq is ORIGINALS["leastsq"]


def test_block_restores_after_an_exception():
    with pytest.raises(KeyError), minpack.patched_scipy():
        raise KeyError("inside")
    for n in NAMES:
        assert getattr(scipy.optimize, n) is ORIGINALS[n]


def test_a_block_inside_a_program_wide_patch_leaves_it_on():
    minpack.patch_scipy()
    with minpack.patched_scipy() as replaced:
        assert replaced == {}
    assert scipy.optimize.leastsq.__wrapped__ is minpack.leastsq


def test_calls_from_minpack_reach_scipy():
    """What minpack hands on to SciPy reaches SciPy's own function, never the
    patched name: a call from a module of the minpack package through
    scipy.optimize goes to SciPy's original."""
    minpack.patch_scipy()
    probe = types.ModuleType("minpack._probe")
    exec(textwrap.dedent("""
        import scipy.optimize
        def solve(*args, **kwargs):
            return scipy.optimize.leastsq(*args, **kwargs)
    """), probe.__dict__)
    calls = []

    def residuals(p):
        calls.append(1)
        return np.array([1.0, 2.0, 4.0]) - p[0]

    count = _patch.calls()["leastsq"]
    x, cov_x, info, mesg, ier = probe.solve(residuals, [0.0], full_output=True)
    assert _patch.calls()["leastsq"] == count  # not counted: SciPy ran it
    assert len(calls) == info["nfev"] + 2  # SciPy's count, not minpack's


# Routes on which minpack may hand a problem on to SciPy (a method it does not
# implement itself). Each must give, under the patch, what it gives unpatched:
# SciPy's answer where minpack forwards, minpack's own error where it does not.
FORWARDED = {
    "curve_fit": (lambda f: f(lambda x, a, b: a * x + b, np.arange(5.0),
                              2 * np.arange(5.0) + 1, method="trf"), "method='trf'"),
    "least_squares": (lambda f: f(lambda p: p - 1.0, [0.0], method="trf"), "trf"),
    "root": (lambda f: f(lambda x: 2.0 * x - 2.0, [0.5], method="broyden1"),
             "method='broyden1'"),
}


@pytest.mark.parametrize("name", [n for n in FORWARDED if n in NAMES])
def test_forwarded_routes_under_the_patch(name):
    call, _ = FORWARDED[name]

    def outcome():
        try:
            return call(getattr(minpack, name)), None
        except ValueError as exc:
            return None, exc

    alone = outcome()
    with minpack.patched_scipy():
        patched = outcome()
        via_scipy_name = None
        try:
            via_scipy_name = call(getattr(scipy.optimize, name))
        except ValueError as exc:
            raise AssertionError(f"{name}: SciPy's route raised under the patch") from exc
    # minpack hands this route to SciPy: neither call may raise
    assert alone[1] is None, alone[1]
    assert patched[1] is None, patched[1]
    reference = call(ORIGINALS[name])
    for result in (patched[0], via_scipy_name):
        got = result[0] if isinstance(result, tuple) else result.x
        want = reference[0] if isinstance(reference, tuple) else reference.x
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_import_minpack_does_not_import_scipy():
    """Nor any other optional dependency: numba, Dask, xarray, pandas."""
    code = ("import sys, minpack; print(sorted(m for m in ('scipy', 'numba', 'dask', "
            "'distributed', 'xarray', 'pandas', 'cloudpickle') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONSAFEPATH": "1"})
    assert out.stdout.strip() == "[]"


def test_clear_error_without_scipy():
    code = textwrap.dedent("""
        import sys
        sys.modules["scipy"] = None  # as if SciPy were not installed
        import minpack
        try:
            minpack.patch_scipy()
        except ImportError as exc:
            print("ImportError:", exc)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONSAFEPATH": "1"})
    assert out.stdout.startswith("ImportError: minpack.patch_scipy()"), out.stdout
    assert "SciPy is not installed" in out.stdout and "pip install scipy" in out.stdout


def _run_patch(args, tmp_path, **env):
    return subprocess.run([sys.executable, "-m", "minpack.patch", *args],
                          capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONSAFEPATH": "1", **env})


SCRIPT = """
import sys
import numpy as np
from scipy.optimize import leastsq
import scipy.optimize
print("argv", sys.argv)
print("name", __name__)
print("wrapped", getattr(leastsq, "__wrapped__", None) is not None,
      getattr(scipy.optimize.curve_fit, "__wrapped__", None) is not None)
for _ in range(3):
    leastsq(lambda p: np.array([1.0, 2.0]) - p[0], [0.0])
"""


def test_command_line_script(tmp_path):
    (tmp_path / "prog.py").write_text(SCRIPT)
    report = tmp_path / "calls.json"
    out = _run_patch(["prog.py", "-x", "7"], tmp_path, MINPACK_PATCH_REPORT=str(report))
    assert out.returncode == 0, out.stderr
    assert "argv ['prog.py', '-x', '7']" in out.stdout
    assert "name __main__" in out.stdout
    assert "wrapped True True" in out.stdout
    calls = json.loads(report.read_text())
    assert calls["leastsq"] == 3 and calls["curve_fit"] == 0


def test_command_line_module(tmp_path):
    (tmp_path / "progmod.py").write_text(SCRIPT + "\nraise SystemExit(3)\n")
    out = _run_patch(["-m", "progmod", "a"], tmp_path,
                     PYTHONPATH=str(tmp_path))
    assert out.returncode == 3, out.stderr
    assert "name __main__" in out.stdout and "wrapped True True" in out.stdout
    assert out.stdout.splitlines()[0].endswith("'a']")
    assert "progmod.py" in out.stdout.splitlines()[0]


def test_command_line_usage(tmp_path):
    out = _run_patch([], tmp_path)
    assert out.returncode == 2 and "usage: python -m minpack.patch" in out.stderr
    out = _run_patch(["missing.py"], tmp_path)
    assert out.returncode == 2 and "can't open file 'missing.py'" in out.stderr
