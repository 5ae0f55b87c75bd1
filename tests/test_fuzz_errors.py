"""Fuzz errors across the public functions.

After a callable raises, the next fit is exactly a fresh one (hypothesis);
and a few messages, exactly: the argument, what was given, what was expected.

The contract checked, the profiles (``HYPOTHESIS_PROFILE``) and the shared
harness: ``support/fuzz.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.fuzz import FUZZ, Boom

import minpack

# --------------------------------------------------------------------------
# After a callable raises, the next fit is exactly a fresh one.

FRESH = settings(FUZZ, max_examples=min(FUZZ.max_examples, 300))


def _exp_residual(p: np.ndarray, t: np.ndarray, y: np.ndarray) -> np.ndarray:
    return p[0] * np.exp(-p[1] * t) - y


def _exp_jacobian(p: np.ndarray, t: np.ndarray, y: np.ndarray) -> np.ndarray:
    e = np.exp(-p[1] * t)
    return np.column_stack([e, -p[0] * t * e])


def _frozen(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (tuple, list)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, minpack.BatchResult):
        return _frozen([value.x, value.ier, value.nfev, value.njev, value.fnorm])
    return value


@FRESH
@given(where=st.sampled_from(["func", "Dfun", "callback", "curve_fit", "fsolve",
                              "batch-callback"]),
       at=st.integers(1, 30), base=st.integers(0, 3))
def test_fresh_after_a_raise(where: str, at: int, base: int) -> None:
    t = np.linspace(0, 2, 8)
    y = (1.5 + base) * np.exp(-0.7 * t)
    calls = [0]

    def maybe_raise() -> None:
        calls[0] += 1
        if calls[0] == at:
            raise Boom(f"raised at call {at}")

    def func(p: np.ndarray) -> np.ndarray:
        if where in ("func", "fsolve"):
            maybe_raise()
        return _exp_residual(p, t, y)

    def jac(p: np.ndarray) -> np.ndarray:
        if where == "Dfun":
            maybe_raise()
        return _exp_jacobian(p, t, y)

    def callback(it: Any) -> None:
        if where in ("callback", "batch-callback"):
            maybe_raise()

    def model(x: np.ndarray, a: float, b: float) -> np.ndarray:
        maybe_raise()
        return a * np.exp(-b * x)

    def fit() -> Any:
        if where == "curve_fit":
            return minpack.curve_fit(model, t, y, p0=[1.0, 1.0], full_output=True)
        if where == "fsolve":
            return minpack.fsolve(lambda p: func(p)[:2], [1.0, 1.0], full_output=True)
        if where == "batch-callback":
            return minpack.leastsq_batch(lambda p, yy: _exp_residual(p, t, yy),
                                         np.ones((2, 2)), args=np.array([y, 2 * y]),
                                         callback=callback, full_output=True)
        return minpack.leastsq(func, [1.0, 1.0], Dfun=jac if where == "Dfun" else None,
                               callback=callback, full_output=True)

    calls[0] = -10**9  # never raises
    fresh = _frozen(fit())
    calls[0] = 0
    try:
        fit()
    except Boom:
        pass
    calls[0] = -10**9
    assert _frozen(fit()) == fresh



# --------------------------------------------------------------------------
# A few messages, exactly: the argument, what was given, what was expected.

def _f(p: np.ndarray) -> np.ndarray:
    return np.array([p[0] - 1.0, p[1] - 2.0, p[0] * p[1]])


MESSAGES = [
    (lambda: minpack.leastsq(_f, [1, 1], maxfev=10.5), TypeError,
     "maxfev must be an integer; got float 10.5"),
    (lambda: minpack.leastsq(_f, [1, 1], ftol="1e-8"), TypeError,
     "ftol must be a real number; got str '1e-8'"),
    (lambda: minpack.leastsq(_f, [1, 1], factor=[100.0]), TypeError,
     "factor must be a real number; got list [100.0]"),
    (lambda: minpack.leastsq(_f, []), TypeError,
     "Improper input: x0 is empty (shape (0,)); it needs one entry per variable"),
    (lambda: minpack.leastsq(_f, [np.nan, 1.0]), ValueError,
     "x0 must be finite; got [nan  1.]"),
    (lambda: minpack.leastsq(_f, [1j, 1.0]), TypeError,
     "x0 must be real numbers (a scalar or an array of floats); got an array of "
     "dtype complex128"),
    (lambda: minpack.leastsq(_f, [1, 1], diag=[1, 2, 3]), ValueError,
     "diag must have one entry per variable (length 2); got shape (3,)"),
    (lambda: minpack.leastsq(_f, [1, 1], diag=[[1, 2]]), ValueError,
     "diag must have one entry per variable (length 2); got shape (1, 2)"),
    (lambda: minpack.leastsq(lambda p: None, [1, 1]), TypeError,
     "func must return a 1-D array of real numbers; it returned NoneType None"),
    (lambda: minpack.leastsq(_f, [1, 1], maxfev=2**31), OverflowError,
     "maxfev=2147483648 does not fit in a C int (at most 2**31 - 1)"),
    (lambda: minpack.fsolve(lambda p: p, [1.0, 2.0], band=(0.5, 0.5)), TypeError,
     "band must be two integers (ml, mu); got (0.5, 0.5)"),
    (lambda: minpack.curve_fit(lambda x, a: a * x, [1.0, 2.0], [1.0, 2.0],
                               sigma=[1j, 1j]), TypeError,
     "sigma must be real numbers; got an array of dtype complex128"),
    (lambda: minpack.curve_fit(lambda x, a: a * x, [1.0, 2.0], [1.0, 2.0], p0=[np.inf]),
     ValueError, "p0 must be finite; got [inf]"),
    (lambda: minpack.leastsq_batch(lambda p: p, np.ones((2, 1)), workers=2.0),
     TypeError, "workers must be an integer or None; got float 2.0"),
    (lambda: minpack.leastsq_batch(lambda p: p, np.ones((2, 1)), m=1.5), TypeError,
     "m must be an integer (the number of residuals per problem); got float 1.5"),
    (lambda: minpack.leastsq_batch(lambda p: p, np.ones((2, 1)) + 1j), TypeError,
     "x0 must be real numbers; got an array of dtype complex128"),
    (lambda: minpack.check_jacobian(_f, lambda p: [[1.0, 2.0], [3.0]], [1.0, 1.0]),
     TypeError, "Dfun must return a 2-D array of real numbers; it returned list "),
]


@pytest.mark.parametrize("call, exc, message", MESSAGES,
                         ids=[m[2][:40] for m in MESSAGES])
def test_message(call: Any, exc: type, message: str) -> None:
    with pytest.raises(exc) as info:
        call()
    assert str(info.value).startswith(message), str(info.value)
