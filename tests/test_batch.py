"""``minpack.leastsq_batch``: many independent fits in one call.

The contract: row ``k`` of the result is what ``leastsq`` gives for problem
``k`` alone (same function, ``args=(args[k],)``, same options), whether the
fits run compiled on one or several worker threads or as a loop over a Python
callable; one bad problem never spoils the others; input errors are reported
up front. ``fnorm`` is the only field not compared bit for bit: the compiled
batch takes MINPACK's ``enorm`` of the final residuals, the reference here
``sqrt(fvec @ fvec)``, which may differ in the last bit.
"""

from __future__ import annotations

import math
import threading

import numba
import numpy as np
import pytest

import minpack
from support.compiled_models import (
    EXP,
    FUNC_C,
    FUNC_SIG,
    MODELS,
    Model,
    capsule,
    exp_cfunc_failing,
    exp_cfunc_gil_free,
    exp_cjac_failing,
    exp_cjac_gil_free,
    exp_data,
    failing_data,
)

K = 12


def batch_data(model: Model, count: int = K) -> np.ndarray:
    """`count` data sets of `model`, one per row (the exp model's are all different)."""
    if model is EXP:
        return np.array([exp_data(noise=0.02, phase=0.5 * k) for k in range(count)])
    return np.tile(model.data, (count, 1)) * (1.0 + 0.01 * np.arange(count))[:, None]


def starts(model: Model, count: int = K) -> np.ndarray:
    return np.tile(model.x0, (count, 1)) * (1.0 + 0.05 * np.arange(count))[:, None]


def reference(func, Dfun, x0: np.ndarray, data: np.ndarray | None, m: int | None,
              **options) -> list:
    """``leastsq(..., full_output=True)`` for each problem alone, on fresh copies."""
    out = []
    for k in range(x0.shape[0]):
        args = () if data is None else (data[k].copy(),)
        out.append(minpack.leastsq(func, x0[k].copy(), args=args, Dfun=Dfun, m=m,
                                   full_output=True, **options))
    return out


def assert_rows_match(res: minpack.BatchResult, refs: list, rows=None,
                      full_output: bool = True) -> None:
    """Every row (or the given `rows`) of `res` is the matching `refs` entry."""
    rows = range(len(refs)) if rows is None else rows
    for k, (x, cov_x, info, _, ier) in zip(rows, refs, strict=True):
        np.testing.assert_array_equal(res.x[k], x, err_msg=f"x[{k}]")
        assert res.ier[k] == ier, k
        assert res.nfev[k] == info["nfev"], k
        assert res.njev[k] == info.get("njev", 0), k
        fvec = info["fvec"]
        np.testing.assert_allclose(res.fnorm[k], np.sqrt(fvec @ fvec), rtol=1e-15,
                                   atol=0, err_msg=f"fnorm[{k}]")
        if full_output:
            np.testing.assert_array_equal(res.fvec[k], fvec, err_msg=f"fvec[{k}]")
            if cov_x is None:
                assert np.isnan(res.cov_x[k]).all(), k
            else:
                np.testing.assert_array_equal(res.cov_x[k], cov_x,
                                              err_msg=f"cov_x[{k}]")


def check_result_shapes(res: minpack.BatchResult, count: int, m: int, n: int,
                        full_output: bool) -> None:
    assert res.x.shape == (count, n) and res.x.dtype == np.float64
    for name in ("ier", "nfev", "njev"):
        value = getattr(res, name)
        assert value.shape == (count,) and value.dtype == np.int32, name
    assert res.fnorm.shape == (count,)
    assert len(res) == count
    if full_output:
        assert res.fvec.shape == (count, m)
        assert res.cov_x.shape == (count, n, n)
    else:
        assert res.fvec is None and res.cov_x is None


MODE = pytest.mark.parametrize("lmder", [False, True], ids=["lmdif", "lmder"])

# ---------------------------------------------------------------------------
# rows equal per-problem leastsq
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("full_output", [False, True], ids=["short", "full"])
@pytest.mark.parametrize("workers", [1, 2])
@MODE
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_compiled_rows_equal_leastsq(model, lmder, workers, full_output):
    data, x0 = batch_data(model), starts(model)
    Dfun = model.cjac if lmder else None
    res = minpack.leastsq_batch(model.cfunc, x0, args=data, Dfun=Dfun, m=model.m,
                                workers=workers, full_output=full_output)
    check_result_shapes(res, K, model.m, model.n, full_output)
    assert res.success.all()
    assert_rows_match(res, reference(model.cfunc, Dfun, x0, data, model.m),
                      full_output=full_output)
    np.testing.assert_array_equal(x0, starts(model))  # inputs untouched
    np.testing.assert_array_equal(data, batch_data(model))


@MODE
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_python_callable_rows_equal_leastsq(model, lmder):
    """``func(x, args[k])`` in Python: the same rows as the compiled batch."""
    data, x0 = batch_data(model), starts(model)
    res = minpack.leastsq_batch(model.func, x0, args=data, full_output=True,
                                Dfun=model.jac if lmder else None)
    check_result_shapes(res, K, model.m, model.n, True)
    assert_rows_match(res, reference(model.func, model.jac if lmder else None, x0, data,
                                     None))
    compiled = minpack.leastsq_batch(model.cfunc, x0, args=data, m=model.m,
                                     Dfun=model.cjac if lmder else None,
                                     full_output=True)
    for name in ("x", "ier", "nfev", "njev", "fvec", "cov_x"):
        np.testing.assert_array_equal(getattr(res, name), getattr(compiled, name),
                                      err_msg=name)


def test_python_callable_without_args():
    t = np.linspace(0.0, 3.0, 10)
    res = minpack.leastsq_batch(lambda p: np.exp(-p[0] * t) - np.exp(-1.5 * t),
                                np.array([[1.0], [2.0], [0.5]]))
    np.testing.assert_allclose(res.x, 1.5, rtol=1e-7)


def test_options_are_shared_by_every_problem():
    data, x0 = batch_data(EXP), starts(EXP)
    options = dict(ftol=1e-5, xtol=1e-4, maxfev=60, factor=1.0, diag=[1.0, 3.0, 2.0],
                   epsfcn=1e-12)
    res = minpack.leastsq_batch(EXP.cfunc, x0, args=data, m=EXP.m, full_output=True,
                                workers=2, **options)
    assert_rows_match(res, reference(EXP.cfunc, None, x0, data, EXP.m, **options))


def test_non_contiguous_args_rows():
    """Rows of a non-contiguous ``args`` are made C-contiguous before the fits."""
    data, x0 = batch_data(EXP), starts(EXP)
    wide = np.zeros((K, 2 * data.shape[1]))
    wide[:, ::2] = data
    res = minpack.leastsq_batch(EXP.cfunc, x0, args=wide[:, ::2], m=EXP.m,
                                full_output=True)
    assert_rows_match(res, reference(EXP.cfunc, None, x0, data, EXP.m))


@numba.cfunc(FUNC_SIG)
def decay_cfunc(m, n, x, fvec, user_data):
    """exp(-x t) - exp(-b t) at t = 0, 1/3, ..., 3; user_data points at b."""
    b = numba.carray(user_data, (1,), np.float64)[0]
    for i in range(m):
        t = i / 3.0
        fvec[i] = math.exp(-x[0] * t) - math.exp(-b * t)
    return 0


def decay(x, b):
    t = np.arange(10) / 3.0
    return np.exp(-x[0] * t) - np.exp(-b * t)


@pytest.mark.parametrize("callback", [None, lambda it: None], ids=["plain", "callback"])
def test_one_number_per_problem(callback):
    """``args`` of shape (K,): each problem's user_data points at one number."""
    b = np.array([0.5, 1.0, 1.5])
    compiled = minpack.leastsq_batch(decay_cfunc, np.ones((3, 1)), args=b, m=10,
                                     callback=callback)
    python = minpack.leastsq_batch(decay, np.ones((3, 1)), args=b, callback=callback)
    for res in (compiled, python):
        assert res.success.all()
        np.testing.assert_allclose(res.x[:, 0], b, rtol=1e-7)


# ---------------------------------------------------------------------------
# one bad problem is isolated
# ---------------------------------------------------------------------------


@MODE
@pytest.mark.parametrize("workers", [1, 2])
def test_bad_problems_are_isolated(lmder, workers):
    """NaN data, a fit that runs out of evaluations, a function saying stop."""
    m = EXP.m
    # maxfev: enough for the usual start, too few for the start (0.1, 8, 3)
    maxfev = 15 if lmder else 40
    count = 8
    x0 = starts(EXP, count)
    data = np.array([failing_data(row, 0, 0) for row in batch_data(EXP, count)])
    nan_row, slow_row, stop_row = 1, 4, 6
    data[nan_row, m + 10] = np.nan
    x0[slow_row] = [0.1, 8.0, 3.0]
    data[stop_row, 2 * m + 1:] = [3, 7]  # from the 3rd call on, return 7
    fresh = data.copy()

    Dfun = exp_cjac_failing if lmder else None
    res = minpack.leastsq_batch(exp_cfunc_failing, x0, args=data, Dfun=Dfun, m=m,
                                maxfev=maxfev, workers=workers, full_output=True)
    # leastsq raises a ValueError for the NaN row (NaN residuals at its x0)
    others = [k for k in range(count) if k != nan_row]
    refs = reference(exp_cfunc_failing, Dfun, x0[others], fresh[others], m,
                     maxfev=maxfev)
    assert_rows_match(res, refs, rows=others)

    assert res.ier[slow_row] == 5
    assert res.ier[stop_row] == -7
    assert data[stop_row, 2 * m] == 3  # stopped at once
    assert res.ier[nan_row] == 10 and res.nfev[nan_row] == 1
    np.testing.assert_array_equal(res.x[nan_row], x0[nan_row])
    good = [k for k in range(count) if k not in (nan_row, slow_row, stop_row)]
    assert res.success[good].all()
    # the good rows are what they are in a batch of good problems only
    clean = minpack.leastsq_batch(exp_cfunc_failing, x0[good], args=fresh[good],
                                  Dfun=Dfun, m=m, maxfev=maxfev, full_output=True)
    for name in ("x", "ier", "nfev", "njev", "fnorm", "fvec", "cov_x"):
        np.testing.assert_array_equal(getattr(res, name)[good], getattr(clean, name),
                                      err_msg=name)


# ---------------------------------------------------------------------------
# input errors
# ---------------------------------------------------------------------------


def test_x0_must_be_two_dimensional():
    data = batch_data(EXP, 2)
    for x0 in (np.array(EXP.x0), np.zeros((2, 3, 1)), 1.0):
        with pytest.raises(ValueError, match=r"x0 must have shape \(K, n\)"):
            minpack.leastsq_batch(EXP.cfunc, x0, args=data, m=EXP.m)


def test_args_must_have_one_row_per_problem():
    x0 = starts(EXP, 3)
    with pytest.raises(ValueError, match=r"one row per problem \(shape \(3, "):
        minpack.leastsq_batch(EXP.cfunc, x0, args=batch_data(EXP, 2), m=EXP.m)
    with pytest.raises(ValueError, match="one row per problem"):
        minpack.leastsq_batch(EXP.cfunc, x0, args=np.array(1.0), m=EXP.m)
    with pytest.raises(TypeError, match="args must be None or a numpy array"):
        minpack.leastsq_batch(EXP.cfunc, x0, args=list(batch_data(EXP, 3)), m=EXP.m)
    with pytest.raises(TypeError, match="args must be None or a numpy array"):
        minpack.leastsq_batch(EXP.func, x0, args=(batch_data(EXP, 3),))


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "python"])
def test_workers_must_be_a_positive_integer(compiled):
    func = EXP.cfunc if compiled else EXP.func
    x0, data = starts(EXP, 2), batch_data(EXP, 2)
    for workers in (0, -1):
        with pytest.raises(ValueError,
                           match=f"workers must be at least 1; got {workers}"):
            minpack.leastsq_batch(func, x0, args=data, m=EXP.m, workers=workers)
    with pytest.raises(TypeError):
        minpack.leastsq_batch(func, x0, args=data, m=EXP.m, workers=1.5)


def test_compiled_needs_m_and_matching_dfun():
    x0, data = starts(EXP, 2), batch_data(EXP, 2)
    with pytest.raises(TypeError, match="m .* is required"):
        minpack.leastsq_batch(EXP.cfunc, x0, args=data)
    with pytest.raises(TypeError, match="must both be compiled functions"):
        minpack.leastsq_batch(EXP.cfunc, x0, args=data, Dfun=EXP.jac, m=EXP.m)
    with pytest.raises(TypeError, match="must both be compiled functions"):
        minpack.leastsq_batch(EXP.func, x0, args=data, Dfun=EXP.cjac, m=EXP.m)
    with pytest.raises(TypeError, match="func must be callable or a compiled function"):
        minpack.leastsq_batch(3.0, x0, args=data)
    with pytest.raises(TypeError, match="callback must be callable"):
        minpack.leastsq_batch(EXP.cfunc, x0, args=data, m=EXP.m, callback=1)


def test_user_data_twice_is_a_type_error():
    """A capsule carrying user data (its context) and per-problem args as well."""
    x0, data = starts(EXP, 2), batch_data(EXP, 2)
    func = capsule(EXP.cfunc.address, FUNC_C, data[0].ctypes.data)
    with pytest.raises(TypeError, match="args must then be None"):
        minpack.leastsq_batch(func, x0, args=data, m=EXP.m)
    # without args every problem gets the capsule's user data
    res = minpack.leastsq_batch(func, x0, m=EXP.m)
    assert_rows_match(res, reference(EXP.cfunc, None, x0, data[[0, 0]], EXP.m),
                      full_output=False)


# ---------------------------------------------------------------------------
# edge cases: K = 0 and K = 1
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("full_output", [False, True], ids=["short", "full"])
@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "python"])
def test_no_problems(compiled, full_output):
    func = EXP.cfunc if compiled else EXP.func
    res = minpack.leastsq_batch(func, np.zeros((0, 3)), args=np.zeros((0, 2 * EXP.m)),
                                m=EXP.m, full_output=full_output, workers=2)
    check_result_shapes(res, 0, EXP.m, 3, full_output)
    assert res.success.shape == (0,)
    assert "K=0" in repr(res)


@pytest.mark.parametrize("workers", [1, 2, None])
def test_one_problem(workers):
    data, x0 = batch_data(EXP, 1), starts(EXP, 1)
    res = minpack.leastsq_batch(EXP.cfunc, x0, args=data, Dfun=EXP.cjac, m=EXP.m,
                                full_output=True, workers=workers)
    check_result_shapes(res, 1, EXP.m, 3, True)
    assert_rows_match(res, reference(EXP.cfunc, EXP.cjac, x0, data, EXP.m))


# ---------------------------------------------------------------------------
# threads and the GIL
# ---------------------------------------------------------------------------


def test_batches_from_several_threads():
    count, fits = 4, 64
    datas = [np.array([exp_data(noise=0.02, phase=0.1 * (i * fits + k))
                       for k in range(fits)]) for i in range(count)]
    x0 = starts(EXP, fits)

    def run(i):
        return minpack.leastsq_batch(EXP.cfunc, x0, args=datas[i], m=EXP.m,
                                     Dfun=EXP.cjac if i % 2 else None, workers=2,
                                     full_output=True)

    serial = [run(i) for i in range(count)]
    results: list = [None] * count
    errors: list = []
    barrier = threading.Barrier(count)

    def work(i):
        try:
            barrier.wait()
            results[i] = run(i)
        except BaseException as exc:  # re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    for i in range(count):
        for name in ("x", "ier", "nfev", "njev", "fnorm", "fvec", "cov_x"):
            np.testing.assert_array_equal(getattr(results[i], name),
                                          getattr(serial[i], name), err_msg=name)


@pytest.mark.parametrize("workers", [1, 2])
def test_batch_releases_the_gil(workers):
    data, x0 = batch_data(EXP), starts(EXP)
    res = minpack.leastsq_batch(exp_cfunc_gil_free, x0, args=data, m=EXP.m,
                                Dfun=exp_cjac_gil_free, workers=workers)
    assert res.success.all()  # a probe that saw the GIL would give ier -5 or -6


# ---------------------------------------------------------------------------
# the iteration callback in a batch
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "python"])
def test_callback_sees_every_problem(compiled):
    data, x0 = batch_data(EXP, 4), starts(EXP, 4)
    func, Dfun = (EXP.cfunc, EXP.cjac) if compiled else (EXP.func, EXP.jac)
    seen: list = []
    res = minpack.leastsq_batch(func, x0, args=data, Dfun=Dfun, m=EXP.m,
                                full_output=True,
                                callback=lambda it: seen.append((it.k, it.iteration)))
    plain = minpack.leastsq_batch(func, x0, args=data, Dfun=Dfun, m=EXP.m,
                                  full_output=True)
    for name in ("x", "ier", "nfev", "njev", "fvec", "cov_x"):
        np.testing.assert_array_equal(getattr(res, name), getattr(plain, name),
                                      err_msg=name)
    # one problem after another, iterations 1, 2, ... njev of each
    expected = [(k, i + 1) for k in range(4) for i in range(plain.njev[k])]
    assert seen == expected


def test_stop_iteration_stops_one_problem():
    data, x0 = batch_data(EXP, 4), starts(EXP, 4)

    def stop_problem_2(it):
        if it.k == 2 and it.iteration == 2:
            raise StopIteration

    res = minpack.leastsq_batch(EXP.cfunc, x0, args=data, m=EXP.m,
                                callback=stop_problem_2)
    plain = minpack.leastsq_batch(EXP.cfunc, x0, args=data, m=EXP.m)
    assert list(res.ier) == [plain.ier[0], plain.ier[1], 9, plain.ier[3]]
    rows = [0, 1, 3]
    np.testing.assert_array_equal(res.x[rows], plain.x[rows])
    np.testing.assert_array_equal(res.nfev[rows], plain.nfev[rows])


def test_callback_exception_propagates():
    data, x0 = batch_data(EXP, 3), starts(EXP, 3)
    error = ZeroDivisionError("from the callback")

    def fail_on_problem_1(it):
        if it.k == 1:
            raise error

    with pytest.raises(ZeroDivisionError) as info:
        minpack.leastsq_batch(EXP.cfunc, x0, args=data, m=EXP.m,
                              callback=fail_on_problem_1)
    assert info.value is error
