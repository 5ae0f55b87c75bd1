"""The drop-in contract at the input checks: raise where SciPy raises, return
where it returns.

Every input check of `leastsq`, `curve_fit` and `fsolve`, one case each, run
through SciPy and through minpack, with and without ``full_output``. Where
SciPy raises, minpack raises the same exception class (its message may say
more); where SciPy returns, minpack returns the same thing (the same `ier`,
message, `x`, infodict keys and shapes) with the same warnings. A library that
was written against SciPy's behaviour (lmfit with every parameter fixed calls
``leastsq(func, [], full_output=1)`` and reads ``ier = 0``) then works the
same on minpack.

The few inputs where minpack deliberately raises and SciPy returns a
meaningless answer are in `INTENDED`, each with its reason, and are checked
to still differ in exactly that way (docs/differences.rst lists them too).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import scipy.optimize
from support.oracle import assert_cov_close

import minpack


@dataclass(frozen=True)
class Case:
    """One input, given to ``call(library, full_output)``."""

    name: str
    call: Callable[[Any, bool], Any]


def _lin(p):
    return np.array([1.0, 2.0, 3.0]) - p.sum()


def _two(p):
    return np.array([1.0, 2.0])


def _sq(x):
    return x**2 - 2


XD = np.linspace(0.0, 1.0, 5)
YD = 2.0 * XD + 1.0


def _line(x, a, b):
    return a * x + b


def _prop(x, a):
    return a * x


LEASTSQ = [
    Case("x0 empty (lmfit, every parameter fixed)",
         lambda L, fo: L.leastsq(_two, [], full_output=fo)),
    Case("x0 empty, no residuals", lambda L, fo: L.leastsq(lambda p: np.zeros(0), [],
                                                           full_output=fo)),
    Case("x0 empty, with Dfun", lambda L, fo: L.leastsq(
        _two, np.zeros(0), Dfun=lambda p: np.zeros((2, 0)), full_output=fo)),
    Case("x0 empty 2-D", lambda L, fo: L.leastsq(_two, np.zeros((0, 3)), full_output=fo)),
    Case("x0 empty, args", lambda L, fo: L.leastsq(lambda p, a: a * np.ones(2), [],
                                                   args=3.0, full_output=fo)),
    Case("ftol negative", lambda L, fo: L.leastsq(_lin, [1.0], ftol=-1, full_output=fo)),
    Case("xtol negative", lambda L, fo: L.leastsq(_lin, [1.0], xtol=-1, full_output=fo)),
    Case("gtol negative", lambda L, fo: L.leastsq(_lin, [1.0], gtol=-1, full_output=fo)),
    Case("factor zero", lambda L, fo: L.leastsq(_lin, [1.0], factor=0, full_output=fo)),
    Case("factor negative", lambda L, fo: L.leastsq(_lin, [1.0], factor=-2,
                                                    full_output=fo)),
    Case("diag zero", lambda L, fo: L.leastsq(_lin, [1.0], diag=[0.0], full_output=fo)),
    Case("diag negative", lambda L, fo: L.leastsq(_lin, [1.0, 2.0], diag=[1.0, -1.0],
                                                  full_output=fo)),
    Case("N > M", lambda L, fo: L.leastsq(lambda p: np.array([1.0]) - p.sum(),
                                          [1.0, 2.0], full_output=fo)),
    Case("maxfev negative", lambda L, fo: L.leastsq(_lin, [1.0], maxfev=-5,
                                                    full_output=fo)),
    Case("maxfev float", lambda L, fo: L.leastsq(_lin, [1.0], maxfev=1.5,
                                                 full_output=fo)),
    Case("ftol a string", lambda L, fo: L.leastsq(_lin, [1.0], ftol="a", full_output=fo)),
    Case("x0 complex", lambda L, fo: L.leastsq(_lin, [1j], full_output=fo)),
    Case("x0 strings", lambda L, fo: L.leastsq(_lin, ["a"], full_output=fo)),
    Case("x0 None", lambda L, fo: L.leastsq(_lin, None, full_output=fo)),
    Case("x0 2-D", lambda L, fo: L.leastsq(_lin, [[1.0]], full_output=fo)),
    Case("x0 scalar", lambda L, fo: L.leastsq(_lin, 1.0, full_output=fo)),
    Case("epsfcn negative", lambda L, fo: L.leastsq(_lin, [1.0], epsfcn=-1,
                                                    full_output=fo)),
    Case("Dfun of the wrong shape", lambda L, fo: L.leastsq(
        _lin, [1.0], Dfun=lambda p: np.ones((2, 2)), full_output=fo)),
    Case("func not callable", lambda L, fo: L.leastsq(3, [1.0], full_output=fo)),
    Case("func raises", lambda L, fo: L.leastsq(lambda p: 1 / 0, [1.0], full_output=fo)),
    Case("args not a tuple", lambda L, fo: L.leastsq(
        lambda p, a: np.ones(3) * a - p, [1.0], args=2.0, full_output=fo)),
    Case("x0 NaN", lambda L, fo: L.leastsq(_lin, [np.nan], full_output=fo)),
    Case("x0 inf", lambda L, fo: L.leastsq(_lin, [np.inf], full_output=fo)),
    Case("diag too long", lambda L, fo: L.leastsq(_lin, [1.0], diag=[1.0, 2.0],
                                                  full_output=fo)),
    Case("func returns None", lambda L, fo: L.leastsq(lambda p: None, [1.0],
                                                      full_output=fo)),
]

FSOLVE = [
    Case("x0 empty", lambda L, fo: L.fsolve(lambda x: np.zeros(0), [], full_output=fo)),
    Case("x0 empty, with fprime", lambda L, fo: L.fsolve(
        lambda x: np.zeros(0), [], fprime=lambda x: np.zeros((0, 0)), full_output=fo)),
    Case("x0 empty, func returns a value", lambda L, fo: L.fsolve(
        lambda x: np.ones(1), [], full_output=fo)),
    Case("xtol negative", lambda L, fo: L.fsolve(_sq, [1.0], xtol=-1, full_output=fo)),
    Case("factor zero", lambda L, fo: L.fsolve(_sq, [1.0], factor=0, full_output=fo)),
    Case("diag zero", lambda L, fo: L.fsolve(_sq, [1.0], diag=[0.0], full_output=fo)),
    Case("maxfev negative", lambda L, fo: L.fsolve(_sq, [1.0], maxfev=-3,
                                                   full_output=fo)),
    Case("func output of the wrong shape", lambda L, fo: L.fsolve(
        lambda x: np.ones(3), [1.0, 1.0], full_output=fo)),
    Case("func output too long, N = 1", lambda L, fo: L.fsolve(
        lambda x: np.ones(2), [1.0], full_output=fo)),
    Case("band not a sequence", lambda L, fo: L.fsolve(_sq, [1.0], band=3,
                                                       full_output=fo)),
    Case("fprime of the wrong shape", lambda L, fo: L.fsolve(
        _sq, [1.0, 1.0], fprime=lambda x: np.ones((3, 3)), full_output=fo)),
    Case("x0 complex", lambda L, fo: L.fsolve(_sq, [1j], full_output=fo)),
    Case("x0 NaN", lambda L, fo: L.fsolve(_sq, [np.nan], full_output=fo)),
]

CURVE_FIT = [
    Case("p0 empty", lambda L, fo: L.curve_fit(lambda x, *p: x, XD, YD, p0=[],
                                               full_output=fo)),
    Case("more parameters than points", lambda L, fo: L.curve_fit(
        lambda x, a, b, c: a * x + b + c, XD[:2], YD[:2], full_output=fo)),
    Case("ydata empty", lambda L, fo: L.curve_fit(_prop, [], [], full_output=fo)),
    Case("ydata NaN", lambda L, fo: L.curve_fit(_prop, XD, np.r_[YD[:4], np.nan],
                                                full_output=fo)),
    Case("model without parameters", lambda L, fo: L.curve_fit(lambda x: x, XD, YD,
                                                               full_output=fo)),
    Case("bounds with method='lm'", lambda L, fo: L.curve_fit(
        _prop, XD, YD, bounds=(0, 1), method="lm", full_output=fo)),
    Case("unknown method", lambda L, fo: L.curve_fit(_prop, XD, YD, method="xx",
                                                     full_output=fo)),
    Case("sigma of the wrong shape", lambda L, fo: L.curve_fit(
        _prop, XD, YD, sigma=np.ones(3), full_output=fo)),
    Case("sigma not positive definite", lambda L, fo: L.curve_fit(
        _prop, XD, YD, sigma=-np.eye(5), full_output=fo)),
    Case("maxfev reached", lambda L, fo: L.curve_fit(
        lambda x, a, b: a * np.exp(b * x), XD, YD, maxfev=2, full_output=fo)),
    Case("args keyword", lambda L, fo: L.curve_fit(_prop, XD, YD, args=(1,),
                                                   full_output=fo)),
    Case("unknown nan_policy", lambda L, fo: L.curve_fit(_prop, XD, YD, nan_policy="x",
                                                         full_output=fo)),
    Case("ftol negative", lambda L, fo: L.curve_fit(_line, XD, YD, ftol=-1,
                                                    full_output=fo)),
    Case("p0 complex", lambda L, fo: L.curve_fit(_prop, XD, YD, p0=[1j],
                                                 full_output=fo)),
    Case("one parameter the model ignores", lambda L, fo: L.curve_fit(
        lambda x, a, b: a * x + 0 * b, XD, YD, full_output=fo)),
    Case("p0 NaN", lambda L, fo: L.curve_fit(_prop, XD, YD, p0=[np.nan], full_output=fo)),
    Case("ydata 2-D", lambda L, fo: L.curve_fit(_prop, XD, np.vstack([YD, YD]),
                                                full_output=fo)),
]

# (function, case) -> (the exception minpack raises, why it differs from SciPy).
INTENDED = {
    ("leastsq", "x0 NaN"): (ValueError, "SciPy starts MINPACK at a NaN and reports "
                            "success (ier 4) with x = NaN"),
    ("leastsq", "x0 inf"): (ValueError, "(as for a NaN)"),
    ("fsolve", "x0 NaN"): (ValueError, "SciPy returns x = NaN"),
    ("curve_fit", "p0 NaN"): (ValueError, "SciPy returns popt = NaN"),
    ("leastsq", "diag too long"): (ValueError, "SciPy reads the first N entries of "
                                   "a diag of any length"),
    ("leastsq", "func returns None"): (TypeError, "SciPy turns None into a NaN "
                                       "residual and reports success"),
    ("curve_fit", "ydata 2-D"): (ValueError, "SciPy raises its private "
                                 "scipy.optimize._minpack.error from the C layer"),
    # None: minpack returns a result where SciPy raises
    ("curve_fit", "bounds with method='lm'"): (None, "SciPy's 'lm' refuses bounds; "
                                               "minpack's Levenberg-Marquardt has them"),
}

CASES = ([("leastsq", c) for c in LEASTSQ] + [("fsolve", c) for c in FSOLVE]
         + [("curve_fit", c) for c in CURVE_FIT])


@dataclass
class Outcome:
    value: Any = None
    exc: BaseException | None = None
    warned: tuple = ()


def _run(call: Callable[[Any, bool], Any], library: Any, full_output: bool) -> Outcome:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = Outcome(value=call(library, full_output))
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            out = Outcome(exc=exc)
    out.warned = tuple(sorted({w.category.__name__ for w in caught}))
    return out


def _same_value(ours: Any, theirs: Any, function: str, values: bool = True,
                cov: bool = False) -> None:
    """The same returned structure: arrays equal, messages and ier equal.

    With `values` false only the shapes and dtypes of arrays are compared;
    `cov` marks leastsq's cov_x and curve_fit's pcov.
    """
    if isinstance(theirs, np.ndarray) or isinstance(ours, np.ndarray):
        ours, theirs = np.asarray(ours), np.asarray(theirs)
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        if values and cov:
            # SciPy computes cov_x / pcov through LAPACK/BLAS, which round by
            # CPU kernel: equal up to the rounding of a matrix product
            assert_cov_close(ours, theirs)
        elif values:
            np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=0)
    elif isinstance(theirs, dict):
        assert list(ours) == list(theirs)
        for key in theirs:
            if key in ("nfev", "njev"):
                if function != "fsolve":  # fsolve: SciPy counts its extra calls
                    assert ours[key] == theirs[key], key
                continue
            # improper input: MINPACK never writes fjac, ipvt, qtf (or r), and
            # SciPy hands out whatever its buffers held; their shapes are defined
            _same_value(ours[key], theirs[key], function, values or key == "fvec")
    elif isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        ier = theirs[2] if function == "fsolve" else theirs[-1]
        if not isinstance(ier, (int, np.integer)):  # (popt, pcov)
            ier = 1
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _same_value(a, b, function, ier != 0,
                        cov=i == 1 and function in ("leastsq", "curve_fit"))
    else:
        assert type(ours) is type(theirs) or (
            isinstance(ours, (int, np.integer)) and isinstance(theirs, (int, np.integer)))
        assert ours == theirs


@pytest.mark.parametrize("full_output", [True, False], ids=["full_output", "short"])
@pytest.mark.parametrize(("function", "case"), CASES,
                         ids=[f"{f}-{c.name}" for f, c in CASES])
def test_same_outcome_as_scipy(function: str, case: Case, full_output: bool) -> None:
    theirs = _run(case.call, scipy.optimize, full_output)
    ours = _run(case.call, minpack, full_output)
    intended = INTENDED.get((function, case.name))
    if intended is not None:
        raised, why = intended
        if raised is None:
            assert ours.exc is None, (ours.exc, why)
            assert theirs.exc is not None, (
                f"SciPy now returns too: drop the intended difference ({why})")
            return
        assert type(ours.exc) is raised, (ours, why)
        assert theirs.exc is None or type(theirs.exc) is not raised, (
            f"SciPy now raises {theirs.exc!r} too: drop the intended difference "
            f"({why})")
        return
    if theirs.exc is not None:
        assert ours.exc is not None, f"SciPy raised {theirs.exc!r}; minpack returned"
        assert type(ours.exc) is type(theirs.exc), (ours.exc, theirs.exc)
        return
    assert ours.exc is None, f"SciPy returned; minpack raised {ours.exc!r}"
    assert ours.warned == theirs.warned
    _same_value(ours.value, theirs.value, function)


def test_lmfit_every_parameter_fixed() -> None:
    """lmfit's conf_interval2d with every parameter fixed: ``leastsq`` on an
    empty x0 hands back SciPy's tuple, calls func once and Dfun never."""
    seen = []

    def func(p):
        seen.append(p.copy())
        return np.array([0.5, -1.0, 2.0])

    x, cov_x, info, mesg, ier = minpack.leastsq(func, [], full_output=1)
    assert (x.shape, cov_x, mesg, ier) == ((0,), None, "Improper input parameters.", 0)
    assert info["nfev"] == 0 and info["fjac"].shape == (0, 3)
    np.testing.assert_array_equal(info["fvec"], [0.5, -1.0, 2.0])
    assert len(seen) == 1 and seen[0].shape == (0,)
    with pytest.raises(TypeError, match="x0 is empty"):
        minpack.leastsq(func, [])
