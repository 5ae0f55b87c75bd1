"""The one route through the glue: what every kind of callback shares.

Python and compiled functions reach the same Fortran entry per driver
(``minpack_glue_lm``, ``minpack_glue_hybrid``, ``minpack_glue_lm_batch``);
these tests hold the rules that entry applies for all of them.
"""

from __future__ import annotations

import numpy as np
import pytest
from support.compiled_models import EXP

import minpack
from minpack import _minpack

# SciPy takes any maxfev <= 0 as MINPACK's default; Python ints below a C int
# must not make one route refuse what another takes.
DEFAULTS = [0, -1, -2**31, -2**40]


@pytest.mark.parametrize("maxfev", DEFAULTS)
@pytest.mark.parametrize("kind", ["python", "compiled", "compiled checked"])
def test_leastsq_maxfev_at_most_zero_is_the_default(kind, maxfev):
    x0 = np.array(EXP.x0)
    if kind == "python":
        func, kwargs = EXP.func, {}
    else:
        func, kwargs = EXP.cfunc, {"m": EXP.m}
    if kind == "compiled checked":  # an int x0 takes the checked route
        x0 = np.array(EXP.x0, dtype=int)
    ref = minpack.leastsq(func, x0, args=(EXP.data,), full_output=True, **kwargs)
    got = minpack.leastsq(func, x0, args=(EXP.data,), full_output=True, maxfev=maxfev,
                          **kwargs)
    np.testing.assert_array_equal(got[0], ref[0])
    assert (got[2]["nfev"], got[4]) == (ref[2]["nfev"], ref[4])


@pytest.mark.parametrize("maxfev", DEFAULTS)
def test_fsolve_maxfev_at_most_zero_is_the_default(maxfev):
    def f(x):
        return [x[0] * np.cos(x[1]) - 4, x[1] * x[0] - x[1] - 5]

    ref = minpack.fsolve(f, [1.0, 1.0], full_output=True)
    got = minpack.fsolve(f, [1.0, 1.0], full_output=True, maxfev=maxfev)
    np.testing.assert_array_equal(got[0], ref[0])
    assert (got[1]["nfev"], got[2]) == (ref[1]["nfev"], ref[2])


@pytest.mark.parametrize("maxfev", DEFAULTS)
def test_batch_maxfev_at_most_zero_is_the_default(maxfev):
    x0 = np.tile(EXP.x0, (3, 1))
    data = np.tile(EXP.data, (3, 1))
    ref = minpack.leastsq_batch(EXP.cfunc, x0, args=data, m=EXP.m, workers=1)
    got = minpack.leastsq_batch(EXP.cfunc, x0, args=data, m=EXP.m, workers=1,
                                maxfev=maxfev)
    np.testing.assert_array_equal(got.x, ref.x)
    np.testing.assert_array_equal(got.nfev, ref.nfev)


@pytest.mark.parametrize("n", [1, 3, 10_000_000, 2**31 - 1])
def test_default_maxfev_is_minpacks_capped_at_a_c_int(n):
    assert _minpack.default_maxfev(n, 0) == min(200 * (n + 1), 2**31 - 1)
    assert _minpack.default_maxfev(n, 1) == min(100 * (n + 1), 2**31 - 1)


@pytest.mark.parametrize("maxfev, shown", [(0, 400), (-5, -5)])
def test_message_names_the_limit_as_scipy_does(maxfev, shown):
    """0 names MINPACK's default (asked of the library for this message
    only), a negative maxfev is shown as it is, as in SciPy."""
    def f(p):  # no minimum: the fit runs until the evaluation limit
        return np.exp(p)

    out = minpack.leastsq(f, [0.0], ftol=0.0, xtol=0.0, maxfev=maxfev,
                          full_output=True)
    assert out[4] == 5 and out[3].endswith(f"maxfev = {shown}.")
    out = minpack.fsolve(f, [0.0], xtol=0.0, maxfev=maxfev, full_output=True)
    assert out[2] == 2 and out[3].endswith(f"maxfev = {shown}.")
