"""pytest plugin: SciPy's own tests with minpack's functions in SciPy's place.

Loaded with ``-p minpack_substitution`` (this folder on PYTHONPATH) when
ci/test runs SciPy's ``test_minpack.py``, ``test_least_squares.py`` and
``test__root.py`` from the installed SciPy. Before any test module is
imported, the public ``scipy.optimize`` names of the functions minpack
replaces point to minpack's; after collection, every module-level name of a
test module that still holds one of SciPy's originals (``from
scipy.optimize._minpack_py import leastsq``) is pointed to minpack's too.
SciPy's private modules are left alone: minpack hands the methods it does
not implement to them.

To show that the substitution took effect, the calls into minpack's engine
(every routine of the compiled extension ``minpack._minpack``) are counted;
the run fails when none was made, and the counts are written to the JSON
file named by ``MINPACK_SUBSTITUTION_COUNTS`` for ci/_scipy_suites.sh to
print.
"""

from __future__ import annotations

import functools
import json
import os
from collections import Counter

import pytest
import scipy.optimize

import minpack
import minpack._minpack as engine

REPLACED = ("leastsq", "curve_fit", "fsolve", "least_squares", "root")
# every routine of the compiled extension (f2py's 'fortran' objects, and the
# C entry points), whatever their names: a call of any of them is minpack's
_ROUTINES = ("fortran", "builtin_function_or_method")
ENGINE_ENTRIES = tuple(name for name in dir(engine) if not name.startswith("_")
                       and type(getattr(engine, name)).__name__ in _ROUTINES)

calls: Counter = Counter()
tests_on_engine: Counter = Counter()  # per test file
originals = {name: getattr(scipy.optimize, name) for name in REPLACED}


def _counting(label: str, func):
    @functools.wraps(func)
    def counted(*args, **kwargs):
        calls[label] += 1
        return func(*args, **kwargs)
    return counted


for _name in REPLACED:
    setattr(scipy.optimize, _name, _counting(_name, getattr(minpack, _name)))
for _entry in ENGINE_ENTRIES:
    setattr(engine, _entry, _counting("engine." + _entry, getattr(engine, _entry)))


def pytest_collection_modifyitems(session, config, items):
    """Point the test modules' own imports of SciPy's functions to minpack's."""
    by_original = {id(f): name for name, f in originals.items()}
    for module in {item.module for item in items if getattr(item, "module", None)}:
        for key, value in list(vars(module).items()):
            name = by_original.get(id(value))
            if name is not None and value is originals[name]:
                setattr(module, key, getattr(scipy.optimize, name))


def _engine_calls() -> int:
    return sum(v for k, v in calls.items() if k.startswith("engine."))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Note each test during which minpack's engine was called."""
    before = _engine_calls()
    try:
        return (yield)
    finally:
        if _engine_calls() > before:
            tests_on_engine[item.path.name] += 1


def pytest_terminal_summary(terminalreporter):
    """Print the call counts."""
    engine_calls = _engine_calls()
    counted = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
    terminalreporter.write_line(
        f"minpack substitution: {counted}; engine calls {engine_calls}; tests "
        f"that called the engine: {dict(tests_on_engine)}")


def pytest_sessionfinish(session, exitstatus):
    """Write the call counts; fail the run when none reached the engine."""
    path = os.environ.get("MINPACK_SUBSTITUTION_COUNTS")
    if path:
        with open(path, "w") as fh:
            json.dump({"calls": dict(calls), "tests_on_engine": dict(tests_on_engine)},
                      fh, indent=1, sort_keys=True)
    if not any(k.startswith("engine.") for k in calls):
        # nothing reached minpack: the substitution did not take effect
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
