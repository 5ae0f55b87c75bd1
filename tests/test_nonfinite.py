"""Residuals and Jacobians that are not finite (NaN or inf): never a lie,
never a wasted ``maxfev``.

The rules (the Fortran engine, ``minpack/minpack_lm.f90`` and
``minpack_hybrid.f90``, with the Python layer in ``_nonfinite.py``):

* residuals that are not finite at ``x0``: a ``ValueError`` that says which,
  after exactly one evaluation (SciPy runs to ``maxfev``, or returns a false
  ``ier`` 4);
* at a trial point: a failed step, as one that increases the sum of squares
  (LM: exactly as one whose norm grows tenfold), so the fit goes on and
  converges where the model is defined;
* a Jacobian that is not finite (``Dfun``'s, or a difference quotient from a
  point where the model is undefined): ``ier`` 11 at the current ``x``;
* in ``leastsq_batch`` each of these is its own problem's ``ier`` (10, 11).

The models are undefined in part of the space: the logarithm or the square
root of a parameter that the first Gauss-Newton step makes negative.
"""

from __future__ import annotations

import math
import warnings

import numba
import numpy as np
import pytest
import scipy.optimize
from support.compiled_models import FUNC_SIG, JAC_SIG

import minpack
from minpack._leastsq import _MESSAGES
from minpack._nonfinite import NONFINITE_JACOBIAN, NONFINITE_START

# ---------------------------------------------------------------------------
# models undefined in part of the space
# ---------------------------------------------------------------------------

M = 8
T = np.linspace(0.0, 2.0, M)
Y_LOG = np.log(2.0) * T + 0.5
Y_SQRT = np.exp(-0.7 * T)
LOG_TRUE = np.array([2.0, 0.5])
SQRT_TRUE = np.array([1.0, 0.7])
# from here the first Gauss-Newton step makes x[0] negative
FAR = np.array([10.0, 0.0])
FAR_SQRT = np.array([10.0, 0.1])


def log_model(x, big=None):
    """``log(x0) t + x1 - y``: NaN for x0 < 0, -inf at 0 (or `big` there)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.log(x[0]) * T + x[1] - Y_LOG
    if big is not None and not x[0] > 0.0:
        r = np.full(M, big)
    return r


def log_jac(x, big=None):
    return np.column_stack([T / x[0], np.ones(M)])


def sqrt_model(x):
    """``sqrt(x0) exp(-x1 t) - y``: NaN for x0 < 0."""
    with np.errstate(invalid="ignore"):
        return np.sqrt(x[0]) * np.exp(-x[1] * T) - Y_SQRT


def sqrt_jac(x):
    e = np.exp(-x[1] * T)
    return np.column_stack([e / (2.0 * np.sqrt(x[0])), -np.sqrt(x[0]) * T * e])


class Counted:
    """A callable that counts its calls, and those whose values are not finite."""

    def __init__(self, func):
        self.func = func
        self.calls = 0
        self.nonfinite = 0

    def __call__(self, x, *args):
        self.calls += 1
        out = self.func(x, *args)
        if not np.isfinite(out).all():
            self.nonfinite += 1
        return out


# ---------------------------------------------------------------------------
# not finite at x0: a ValueError after one evaluation
# ---------------------------------------------------------------------------

START_VALUES = {
    "nan_all": (lambda x: np.full(5, np.nan), [0, 1, 2, 3, 4]),
    "nan_one": (lambda x: np.array([x[0], np.nan, x[1], 1.0, 2.0]), [1]),
    "inf_one": (lambda x: np.array([x[0], x[1], 1.0, 2.0, np.inf]), [4]),
    "-inf_two": (lambda x: np.array([-np.inf, x[1], 1.0, -np.inf, 0.0]), [0, 3]),
}


def assert_start_error(exc: pytest.ExceptionInfo, bad: list, total: int,
                       what: str = "residuals") -> None:
    text = str(exc.value)
    assert "not finite at the starting point x0" in text, text
    assert f"{len(bad)} of the {total} {what} are NaN or inf" in text, text
    for i in bad:
        assert f"{i} (" in text, (i, text)


@pytest.mark.parametrize("case", START_VALUES)
@pytest.mark.parametrize("route", ["lmdif", "lmder", "vectorized", "float32_x0",
                                   "full_output", "callback"])
def test_leastsq_start_raises_after_one_call(case, route):
    values, bad = START_VALUES[case]
    func = Counted(values)
    jac = Counted(lambda x: np.ones((5, 2)))
    kwargs = {}
    x0 = np.array([3.0, 1.0])
    iterations = []
    if route == "callback":  # never called: no iteration starts
        kwargs["callback"] = iterations.append
    elif route == "lmder":
        kwargs["Dfun"] = jac
    elif route == "vectorized":
        func = Counted(lambda xs: np.stack([values(x) for x in xs.T], axis=1))
        kwargs["vectorized"] = True
    elif route == "float32_x0":
        x0 = x0.astype(np.float32)  # the one call in float32, seen by Python
    elif route == "full_output":
        kwargs["full_output"] = True
    with pytest.raises(ValueError) as exc:
        minpack.leastsq(func, x0, **kwargs)
    assert_start_error(exc, bad, 5)
    assert func.calls == 1
    assert jac.calls == 0 and not iterations


def test_leastsq_start_error_lists_ten_indices():
    """Many bad residuals: the first ten, and how many in all."""
    with pytest.raises(ValueError, match=r"\.\.\. \(30 in all\)") as exc:
        minpack.leastsq(lambda x: np.full(30, np.nan) * x[0], [1.0])
    assert "30 of the 30 residuals" in str(exc.value)
    assert " 9 (nan)" in str(exc.value) and " 10 (nan)" not in str(exc.value)


def test_curve_fit_start_raises_after_one_call():
    """curve_fit goes through leastsq: the same ValueError, one model call."""
    t = np.linspace(0.0, 2.0, 6)  # 0, .4, .8, 1.2, 1.6, 2

    def model(t, a, b):  # sqrt(a - t): undefined for t > a
        with np.errstate(invalid="ignore"):
            return b * np.sqrt(a - t)

    counted = Counted(model)
    with pytest.raises(ValueError) as exc:
        minpack.curve_fit(counted, t, np.ones(6), p0=[1.0, 1.0])
    assert_start_error(exc, [3, 4, 5], 6)
    assert counted.calls == 1


@pytest.mark.parametrize("with_fprime", [False, True], ids=["hybrd", "hybrj"])
@pytest.mark.parametrize("full_output", [False, True])
def test_fsolve_start_raises_after_one_call(with_fprime, full_output):
    func = Counted(lambda x: np.array([np.log(x[0] - 5.0), x[1] - 1.0])
                   if x[0] > 5.0 else np.array([np.nan, x[1] - 1.0]))
    fprime = Counted(lambda x: np.eye(2))
    with pytest.raises(ValueError) as exc:
        minpack.fsolve(func, [1.0, 1.0], fprime=fprime if with_fprime else None,
                       full_output=full_output)
    assert_start_error(exc, [0], 2, what="values")
    assert func.calls == 1 and fprime.calls == 0


def test_start_error_is_a_valueerror_like_least_squares():
    """SciPy's least_squares also raises a ValueError here (its leastsq does not)."""
    with pytest.raises(ValueError):
        scipy.optimize.least_squares(lambda x: np.full(3, np.nan), [1.0])
    with pytest.raises(ValueError):
        minpack.leastsq(lambda x: np.full(3, np.nan), [1.0])


# ---------------------------------------------------------------------------
# not finite at a trial point: a failed step; the fit converges
# ---------------------------------------------------------------------------

UNDEFINED = {
    "log": (log_model, log_jac, FAR, LOG_TRUE),
    "sqrt": (sqrt_model, sqrt_jac, FAR_SQRT, SQRT_TRUE),
}


@pytest.mark.parametrize("use_jac", [False, True], ids=["lmdif", "lmder"])
@pytest.mark.parametrize("case", UNDEFINED)
def test_undefined_region_converges(case, use_jac):
    func, jac, x0, truth = UNDEFINED[case]
    counted = Counted(func)
    x, _, info, mesg, ier = minpack.leastsq(counted, x0, Dfun=jac if use_jac else None,
                                            full_output=True)
    assert counted.nonfinite > 0  # the problem does leave its domain
    assert ier in (1, 2, 3, 4), mesg
    np.testing.assert_allclose(x, truth, rtol=1e-7)
    assert np.isfinite(info["fvec"]).all()
    assert counted.calls == info["nfev"] < 60  # no run to maxfev


@pytest.mark.parametrize("use_jac", [False, True], ids=["lmdif", "lmder"])
def test_nan_trial_is_a_step_whose_norm_grew_tenfold(use_jac):
    """LM: a NaN trial point is exactly a failed step with |f| >= 10 |f(x)|.

    A model that returns 1e150 where it is undefined, instead of NaN, makes
    the same steps in minpack and in SciPy's MINPACK (which takes NaN
    differently): the same x, fvec, nfev and ier, bit for bit.
    """
    jac = log_jac if use_jac else None
    ours = minpack.leastsq(log_model, FAR, Dfun=jac, full_output=True)
    big = minpack.leastsq(log_model, FAR, args=(1e150,), Dfun=jac, full_output=True)
    ref = scipy.optimize.leastsq(log_model, FAR, args=(1e150,), Dfun=jac,
                                 full_output=True)
    for other in (big, ref):
        np.testing.assert_array_equal(ours[0], other[0])
        np.testing.assert_array_equal(ours[2]["fvec"], other[2]["fvec"])
        assert ours[2]["nfev"] == other[2]["nfev"]
        assert ours[4] == other[4]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_trials_are_the_same_failure(bad):
    """NaN, inf and -inf at a trial point: the same fit."""

    def model(x):
        return log_model(x) if x[0] > 0.0 else np.full(M, bad)

    ref = minpack.leastsq(log_model, FAR, full_output=True)
    out = minpack.leastsq(model, FAR, full_output=True)
    np.testing.assert_array_equal(out[0], ref[0])
    assert out[2]["nfev"] == ref[2]["nfev"] and out[4] == ref[4]


def test_callback_never_sees_a_nonfinite_point():
    """Every iterate the callback is shown has finite residuals."""
    seen = []
    minpack.leastsq(log_model, FAR, callback=lambda it: seen.append(it.fvec.copy()))
    assert len(seen) > 2
    assert all(np.isfinite(f).all() for f in seen)


def test_undefined_everywhere_but_x0_ends_within_a_few_steps():
    """Every trial point undefined: each step fails and cuts the step bound
    tenfold, until it is below xtol |x|, as MINPACK ends any run of failed
    steps (ier 2); x stays x0, with its finite residuals."""
    x0 = np.array([1.0, 1.0])
    counted = Counted(lambda x: x - 5.0 if (x == x0).all() else np.full(2, np.nan))
    x, _, info, mesg, ier = minpack.leastsq(counted, x0, Dfun=lambda x: np.eye(2),
                                            full_output=True)
    assert ier == 2, mesg
    assert counted.nonfinite == info["nfev"] - 1
    assert info["nfev"] <= 12  # delta from 100 |x0| to 1.5e-8 |x0|: 10 cuts
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(info["fvec"], x0 - 5.0)


EQUATIONS = {
    # log(x0) = 1, x1 = x0 / 3: from (30, 1) the Newton step makes x0 negative
    "log": (lambda x: np.array([np.log(x[0]) - 1.0, x[1] - x[0] / 3.0]),
            lambda x: np.array([[1.0 / x[0], 0.0], [-1.0 / 3.0, 1.0]]),
            [30.0, 1.0], [math.e, math.e / 3.0]),
    # sqrt(x0) + x1 = 3, x0 x1 = 2
    "sqrt": (lambda x: np.array([np.sqrt(x[0]) + x[1] - 3.0, x[0] * x[1] - 2.0]),
             lambda x: np.array([[0.5 / np.sqrt(x[0]), 1.0], [x[1], x[0]]]),
             [0.05, 1.0], [1.0, 2.0]),
}


@pytest.mark.parametrize("use_jac", [False, True], ids=["hybrd", "hybrj"])
@pytest.mark.parametrize("case", EQUATIONS)
def test_fsolve_undefined_region_converges(case, use_jac):
    """hybrd/hybrj: a failed step, no Broyden update from the NaN point.

    (SciPy's fsolve, whose Broyden update spreads the NaN into R and Q,
    stays at x0 with status 5 on both.)
    """
    f, jac, x0, root = EQUATIONS[case]

    def quiet(x):
        with np.errstate(invalid="ignore", divide="ignore"):
            return f(x)

    counted = Counted(quiet)
    x, info, ier, mesg = minpack.fsolve(counted, x0, fprime=jac if use_jac else None,
                                        full_output=True)
    assert counted.nonfinite > 0
    assert ier == 1, mesg
    np.testing.assert_allclose(quiet(x), 0.0, atol=1e-10)
    if root is not None:
        np.testing.assert_allclose(x, root, rtol=1e-9)


# ---------------------------------------------------------------------------
# a Jacobian that is not finite: ier 11
# ---------------------------------------------------------------------------


def nan_after(jac, calls: int):
    """`jac`, returning a NaN entry from call number `calls` on."""
    count = [0]

    def wrapped(x, *args):
        count[0] += 1
        J = np.array(jac(x, *args), dtype=float)
        if count[0] >= calls:
            J[-1, 0] = np.nan
        return J

    return wrapped


@pytest.mark.parametrize("at", [1, 3])
def test_dfun_nan_gives_ier_11(at):
    from support.compiled_models import BARD  # a problem that takes several iterations

    func = Counted(BARD.numpy_func)
    jac = Counted(nan_after(BARD.numpy_jac, at))
    x, _, info, mesg, ier = minpack.leastsq(func, BARD.x0, args=(BARD.data,),
                                            Dfun=jac, full_output=True)
    assert ier == NONFINITE_JACOBIAN == 11
    assert mesg == _MESSAGES[11]
    assert "The Jacobian at x is not finite" in mesg and "Dfun" in mesg
    assert info["njev"] == jac.calls == at
    assert info["nfev"] == func.calls
    assert np.isfinite(x).all() and np.isfinite(info["fvec"]).all()
    if at == 1:
        np.testing.assert_array_equal(x, BARD.x0)
        assert info["nfev"] == 1
    else:  # the fit stopped at its last iterate: the same as a maxfev stop there
        clean = minpack.leastsq(BARD.numpy_func, BARD.x0, args=(BARD.data,),
                                Dfun=BARD.numpy_jac, full_output=True,
                                maxfev=info["nfev"])
        np.testing.assert_array_equal(x, clean[0])


def test_dfun_nan_warns_without_full_output():
    with pytest.warns(RuntimeWarning, match="The Jacobian at x is not finite"):
        x, ier = minpack.leastsq(log_model, [1.0, 0.0],
                                 Dfun=lambda x: np.full((M, 2), np.nan))
    assert ier == 11
    np.testing.assert_array_equal(x, [1.0, 0.0])


def edge_model(x):
    """``sqrt(1 - x0)``: defined for x0 <= 1, so a forward step from x0 = 1
    (which lmdif takes) leaves the domain."""
    with np.errstate(invalid="ignore"):
        return np.array([np.sqrt(1.0 - x[0]) - 0.5, x[1] - 1.0, x[0] * x[1]])


def test_difference_jacobian_nan_gives_ier_11():
    func = Counted(edge_model)
    x, _, info, mesg, ier = minpack.leastsq(func, [1.0, 0.0], full_output=True)
    assert ier == 11, mesg
    assert info["nfev"] == func.calls == 1 + 2  # x0, then the two columns
    np.testing.assert_array_equal(x, [1.0, 0.0])


def test_curve_fit_jacobian_nan_fails_with_the_message():
    def model(t, a, b):
        with np.errstate(invalid="ignore"):
            return np.sqrt(1.0 - a) + b * t

    with pytest.raises(RuntimeError, match="Optimal parameters not found: The "
                                           "Jacobian at x is not finite"):
        minpack.curve_fit(model, T, T, p0=[1.0, 0.5])


@pytest.mark.parametrize("full_output", [False, True])
def test_fsolve_jacobian_nan_gives_11(full_output):
    func = Counted(lambda x: np.array([x[0] ** 2 - 2.0, x[1] - 1.0]))
    fprime = Counted(lambda x: np.array([[np.nan, 0.0], [0.0, 1.0]]))
    if full_output:
        x, info, ier, mesg = minpack.fsolve(func, [1.0, 1.0], fprime=fprime,
                                            full_output=True)
        assert ier == 11 and info["njev"] == 1 and info["nfev"] == 1
        assert "The Jacobian at x is not finite" in mesg and "fprime" in mesg
    else:
        with pytest.warns(RuntimeWarning, match="The Jacobian at x is not finite"):
            x = minpack.fsolve(func, [1.0, 1.0], fprime=fprime)
    np.testing.assert_array_equal(x, [1.0, 1.0])
    assert func.calls == 1 and fprime.calls == 1


def test_fsolve_difference_jacobian_nan_gives_11():
    func = Counted(lambda x: edge_model(np.append(x, 0.0))[:2] if x[0] <= 1.0
                   else np.array([np.nan, x[1] - 1.0]))
    x, info, ier, mesg = minpack.fsolve(func, [1.0, 0.0], full_output=True)
    assert ier == 11, mesg
    assert info["nfev"] == func.calls == 3
    np.testing.assert_array_equal(x, [1.0, 0.0])


# ---------------------------------------------------------------------------
# compiled functions (numba cfunc): the engine reports, Python raises
# ---------------------------------------------------------------------------
#
# The data are [t (M), y (M), calls, calls with NaN, jac_nan]: every residual
# call adds one to `calls`; the Jacobian is NaN when jac_nan is 1.


@numba.cfunc(FUNC_SIG)
def log_cfunc(m, n, x, fvec, user_data):
    d = numba.carray(user_data, (2 * m + 3,), np.float64)
    lg = math.log(x[0]) if x[0] > 0.0 else math.nan
    bad = 0.0
    for i in range(m):
        fvec[i] = lg * d[i] + x[1] - d[m + i]
        if not math.isfinite(fvec[i]):
            bad = 1.0
    d[2 * m] += 1.0
    d[2 * m + 1] += bad
    return 0


@numba.cfunc(JAC_SIG)
def log_cjac(m, n, x, fjac, ldfjac, user_data):
    d = numba.carray(user_data, (2 * m + 3,), np.float64)
    for i in range(m):
        fjac[i] = d[i] / x[0]
        fjac[ldfjac + i] = 1.0
    if d[2 * m + 2] > 0.0:
        fjac[0] = math.nan
    return 0


def log_data(y=Y_LOG, jac_nan=False):
    return np.concatenate([T, y, [0.0, 0.0, float(jac_nan)]])


def log_python(x, d):
    """The Python twin of log_cfunc (for the batch), same arithmetic."""
    lg = math.log(x[0]) if x[0] > 0.0 else math.nan
    return np.array([lg * d[i] + x[1] - d[M + i] for i in range(M)])


def log_python_jac(x, d):
    J = np.column_stack([d[:M] / x[0], np.ones(M)])
    if d[2 * M + 2] > 0.0:
        J[0, 0] = np.nan
    return J


@pytest.mark.parametrize("route", ["lean", "lean_full", "callback", "lmder"])
def test_compiled_start_raises_after_one_call(route):
    """x0 = (-1, 0): log of a negative number, every residual but the first
    (t = 0 multiplies the NaN... and gives NaN too: all of them)."""
    data = log_data()
    kwargs = {"m": M, "args": (data,)}
    if route == "lean_full":
        kwargs["full_output"] = True
    elif route == "callback":
        kwargs["callback"] = lambda it: None
    elif route == "lmder":
        kwargs["Dfun"] = log_cjac.ctypes
    with pytest.raises(ValueError) as exc:
        minpack.leastsq(log_cfunc.ctypes, [-1.0, 0.0], **kwargs)
    assert_start_error(exc, list(range(M)), M)
    assert data[2 * M] == 1


def test_compiled_fsolve_start_raises_after_one_call():
    data = np.array([1.0, 2.0, 0.5, 0.5, 0.0, 0.0, 0.0])  # m = n = 2: [t, y, calls...]
    with pytest.raises(ValueError) as exc:
        minpack.fsolve(log_cfunc.ctypes, [-1.0, 0.0], args=(data,))
    assert_start_error(exc, [0, 1], 2, what="values")
    assert data[4] == 1


@pytest.mark.parametrize("use_jac", [False, True], ids=["lmdif", "lmder"])
def test_compiled_undefined_region_converges_as_python(use_jac):
    data = log_data()
    jac = log_cjac.ctypes if use_jac else None
    x, _, info, mesg, ier = minpack.leastsq(log_cfunc.ctypes, FAR, args=(data,), m=M,
                                            Dfun=jac, full_output=True)
    assert data[2 * M + 1] > 0  # some trial points were NaN
    assert ier in (1, 2, 3, 4), mesg
    np.testing.assert_allclose(x, LOG_TRUE, rtol=1e-7)
    assert info["nfev"] == data[2 * M]
    py = minpack.leastsq(log_python, FAR, args=(log_data(),), full_output=True,
                         Dfun=log_python_jac if use_jac else None)
    np.testing.assert_array_equal(x, py[0])
    assert info["nfev"] == py[2]["nfev"] and ier == py[4]


def test_compiled_jacobian_nan_gives_ier_11():
    data = log_data(jac_nan=True)
    x, _, info, mesg, ier = minpack.leastsq(log_cfunc.ctypes, FAR, args=(data,), m=M,
                                            Dfun=log_cjac.ctypes, full_output=True)
    assert ier == 11 and info["njev"] == 1 and info["nfev"] == 1
    assert mesg == _MESSAGES[11]
    with pytest.warns(RuntimeWarning, match="The Jacobian at x is not finite"):
        x, ier = minpack.leastsq(log_cfunc.ctypes, FAR, args=(log_data(jac_nan=True),),
                                 m=M, Dfun=log_cjac.ctypes)
    assert ier == 11


# ---------------------------------------------------------------------------
# leastsq_batch: each problem its own ier
# ---------------------------------------------------------------------------

# rows: a good start, a start where log is undefined (ier 10), the far start
# that crosses the undefined region (converges), a NaN Jacobian (ier 11,
# lmder only), data with a NaN (ier 10), a good start again
BATCH_X0 = np.array([[1.5, 0.0], [-1.0, 0.0], FAR, [1.5, 0.0], [1.5, 0.0], [3.0, 1.0]])


def batch_data():
    y_nan = Y_LOG.copy()
    y_nan[3] = np.nan
    return np.array([log_data(), log_data(), log_data(), log_data(jac_nan=True),
                     log_data(y=y_nan), log_data()])


@pytest.mark.parametrize("use_jac", [False, True], ids=["lmdif", "lmder"])
@pytest.mark.parametrize("workers", [1, 2])
def test_batch_problems_go_nonfinite_alone(use_jac, workers):
    data = batch_data()
    compiled = minpack.leastsq_batch(
        log_cfunc.ctypes, BATCH_X0, args=data, m=M, workers=workers,
        Dfun=log_cjac.ctypes if use_jac else None, full_output=True)
    python = minpack.leastsq_batch(
        log_python, BATCH_X0, args=batch_data(), Dfun=log_python_jac if use_jac else None,
        full_output=True)
    for res in (compiled, python):
        expected = [1, 10, 1, 11 if use_jac else 1, 10, 1]
        assert ((res.ier >= 1) & (res.ier <= 4)).tolist() == [
            e == 1 for e in expected]
        for k, e in enumerate(expected):
            if e != 1:
                assert res.ier[k] == e, (k, res.ier)
        for k in (1, 4):  # ier 10: stopped at x0 after one evaluation
            np.testing.assert_array_equal(res.x[k], BATCH_X0[k])
            assert res.nfev[k] == 1 and not np.isfinite(res.fvec[k]).all()
            assert np.isnan(res.cov_x[k]).all()
        for k in (0, 2, 5):
            np.testing.assert_allclose(res.x[k], LOG_TRUE, rtol=1e-7)
    assert data[2, 2 * M + 1] > 0  # the far start met NaN on its way
    assert data[1, 2 * M] == 1 and data[4, 2 * M] == 1  # one call each at x0
    for name in ("x", "ier", "nfev", "njev", "fvec"):
        np.testing.assert_array_equal(getattr(compiled, name), getattr(python, name),
                                      err_msg=name)
    # every row that leastsq answers with a result is leastsq's result
    for k in (0, 2, 3, 5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            x, _, info, _, ier = minpack.leastsq(
                log_python, BATCH_X0[k], args=(batch_data()[k],), full_output=True,
                Dfun=log_python_jac if use_jac else None)
        np.testing.assert_array_equal(compiled.x[k], x)
        assert compiled.ier[k] == ier and compiled.nfev[k] == info["nfev"]


# ---------------------------------------------------------------------------
# the codes
# ---------------------------------------------------------------------------


def test_codes_do_not_collide():
    """10 and 11 are past MINPACK's 0-8 and leastsq's 9 (callback stop)."""
    from minpack._checks import SUCCESS
    from minpack._leastsq import STOPPED

    assert (NONFINITE_START, NONFINITE_JACOBIAN) == (10, 11)
    assert STOPPED == 9 and set(_MESSAGES) == set(range(9)) | {11}
    assert NONFINITE_JACOBIAN not in SUCCESS


def test_finite_problems_never_meet_the_tests():
    """While values stay finite nothing changes: the registry's own SciPy
    comparisons prove it problem by problem (test_leastsq.py,
    test_fsolve.py, ...); here, one fit that stays finite and one that
    meets a NaN only after its answer, bit for bit against SciPy."""
    ours = minpack.leastsq(log_model, [1.5, 0.0], full_output=True)
    ref = scipy.optimize.leastsq(log_model, [1.5, 0.0], full_output=True)
    np.testing.assert_array_equal(ours[0], ref[0])
    np.testing.assert_array_equal(ours[2]["fjac"], ref[2]["fjac"])
    assert ours[2]["nfev"] == ref[2]["nfev"] and ours[4] == ref[4]
    assert ours[3] == ref[3]
