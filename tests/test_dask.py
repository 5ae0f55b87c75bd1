"""``minpack.dask``: the batch functions over Dask chunks.

The contract: the lazy result computes to exactly what the in-memory call
returns for the whole batch, on every Dask scheduler (threads, processes, a
``dask.distributed`` LocalCluster), whatever the chunks (unequal, empty),
with compiled residuals given by name or by a factory, and when a worker
process dies in the middle of a fit (Dask runs its tasks again).
"""

from __future__ import annotations

import importlib
import os
import sys

import dask.array as da
import numpy as np
import pytest

import minpack
import minpack.dask
from support.compiled_models import EXP, exp_cfunc, exp_cjac, exp_data

M = 30
T = np.linspace(0.0, 4.0, M)


def decay(t, a, k, c):
    """The model of these tests, plain NumPy."""
    return a * np.exp(-k * t) + c


def cube(K: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """K noisy decays, one per row, and a per-problem start near each."""
    rng = np.random.default_rng(seed)
    truth = np.column_stack([rng.uniform(1, 3, K), rng.uniform(0.3, 2, K),
                             rng.uniform(-0.5, 0.5, K)])
    y = decay(T, *(truth[:, j:j + 1] for j in range(3)))
    y = y + 0.01 * rng.standard_normal((K, M))
    return y, truth * 0.8 + 0.1


CURVE_FIELDS = ("popt", "pcov", "perr", "ier", "nfev", "success")


def assert_same_curves(got, want, full_output=False):
    """Every field of two CurveFitBatchResults is equal, bit for bit."""
    assert type(got) is type(want)
    for name in CURVE_FIELDS + (("fvec",) if full_output else ()):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name),
                                      err_msg=name)
        assert getattr(got, name).dtype == getattr(want, name).dtype, name
    if full_output:
        assert list(got.mesg) == list(want.mesg)


def test_curve_fit_batch_equals_in_memory(scheduler):
    """Per-problem p0 in a Dask array, shared xdata, full_output: the same
    result as the in-memory call, on every scheduler.
    """
    y, p0 = cube(37)
    lazy = minpack.dask.curve_fit_batch(decay, T, da.from_array(y, chunks=(10, M)),
                                        p0=da.from_array(p0, chunks=(10, 3)),
                                        full_output=True)
    assert isinstance(lazy.popt, da.Array)
    assert lazy.popt.chunks == ((10, 10, 10, 7), (3,))
    assert lazy.pcov.shape == (37, 3, 3)
    got = lazy.compute(**scheduler)
    want = minpack.curve_fit_batch(decay, T, y, p0=p0, full_output=True)
    assert want.success.all()
    assert_same_curves(got, want, full_output=True)


def test_curve_fit_batch_numpy_input_chunked_for_you(scheduler):
    """NumPy input with chunks=: per-problem xdata, sigma and bounds too."""
    y, p0 = cube(23, seed=1)
    x = np.broadcast_to(T, y.shape) * np.linspace(1.0, 1.1, 23)[:, None]
    sigma = np.full(y.shape, 0.01) * np.linspace(1, 2, M)
    lb = np.tile([0.0, 0.0, -1.0], (23, 1))
    ub = np.tile([5.0, 3.0, 1.0], (23, 1))
    held = int(np.argmax(p0[:, 1]))  # a box that binds for one problem: its
    ub[held, 1] = p0[held, 1]  # start is below its true rate (0.8 k + 0.1 < k)
    lazy = minpack.dask.curve_fit_batch(decay, x, y, p0=p0, sigma=sigma,
                                        bounds=(lb, ub), chunks=6)
    assert lazy.popt.chunks[0] == (6, 6, 6, 5)
    got = lazy.compute(**scheduler)
    want = minpack.curve_fit_batch(decay, x, y, p0=p0, sigma=sigma, bounds=(lb, ub))
    assert_same_curves(got, want)
    np.testing.assert_array_equal(got.active_mask, want.active_mask)
    assert got.active_mask[held, 1] == 1


def plane_decay(xy, a, k, c):
    """A model of two variables, given as a shared (2, m) xdata."""
    return a * np.exp(-k * xy[0]) + c * xy[1]


def test_shared_two_row_xdata_with_chunks_of_two():
    """A shared (2, m) xdata stays shared in chunks of 2 problems (where the
    in-memory call alone would take it for one row per problem).
    """
    xy = np.stack([T, np.cos(T)])
    y, p0 = cube(7, seed=5)
    lazy = minpack.dask.curve_fit_batch(plane_decay, xy, y, p0=p0, chunks=2)
    assert_same_curves(lazy.compute(scheduler="threads"),
                       minpack.curve_fit_batch(plane_decay, xy, y, p0=p0))


def test_vectorized_residual_sees_the_batch_indices(scheduler):
    """leastsq_batch(vectorized=True) without args: func(X, k) gets the
    problem indices of the whole batch in every chunk.
    """
    y, _ = cube(11, seed=6)

    def residuals(X, k):
        return y[k] - (X[:, :1] * np.exp(-X[:, 1:2] * T) + X[:, 2:])

    x0 = np.tile([1.0, 1.0, 0.0], (11, 1))
    lazy = minpack.dask.leastsq_batch(residuals, x0, vectorized=True, chunks=4,
                                      full_output=True)
    got = lazy.compute(**scheduler)
    want = minpack.leastsq_batch(residuals, x0, vectorized=True, full_output=True)
    assert want.success.all()
    for name in BATCH_FIELDS:
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name),
                                      err_msg=name)


def test_unequal_and_empty_chunks():
    """Chunks of 5, 0, 12 and 3 problems: the empty one gives no rows."""
    y, p0 = cube(20, seed=2)
    sizes = (5, 0, 12, 3)
    ydask = da.from_array(y, chunks=(sizes, (M,)))
    lazy = minpack.dask.curve_fit_batch(decay, T, ydask, p0=p0)
    assert lazy.popt.chunks[0] == sizes
    assert_same_curves(lazy.compute(scheduler="threads"),
                       minpack.curve_fit_batch(decay, T, y, p0=p0))
    lazy = minpack.dask.curve_fit_batch(decay, T, y, p0=p0, chunks=sizes)
    assert lazy.ier.chunks == (sizes,)
    assert_same_curves(lazy.compute(scheduler="threads"),
                       minpack.curve_fit_batch(decay, T, y, p0=p0))


def test_no_problems():
    """K = 0: empty arrays, as in memory."""
    lazy = minpack.dask.curve_fit_batch(decay, T, np.zeros((0, M)), p0=[1.0, 1.0, 0.0])
    got = lazy.compute(scheduler="sync")
    assert got.popt.shape == (0, 3) and got.pcov.shape == (0, 3, 3)
    assert got.ier.shape == (0,)


def test_nan_pixels_stay_isolated(scheduler):
    """A row of NaN and a row with a few NaN points under nan_policy='omit':
    the same as in memory, and the clean rows as if the bad ones were absent.
    """
    y, p0 = cube(16, seed=3)
    y[3] = np.nan
    y[9, ::4] = np.nan
    lazy = minpack.dask.curve_fit_batch(decay, T, y, p0=p0, nan_policy="omit",
                                        chunks=5)
    got = lazy.compute(**scheduler)
    want = minpack.curve_fit_batch(decay, T, y, p0=p0, nan_policy="omit")
    assert_same_curves(got, want)
    assert not got.success[3] and np.isnan(got.pcov[3]).all()
    assert got.success[9]
    # a row with points left out is curve_fit on the row without them
    partial = minpack.curve_fit(decay, T, y[9], p0=p0[9], nan_policy="omit")[0]
    np.testing.assert_array_equal(got.popt[9], partial)
    clean = np.delete(np.arange(16), [3, 9])
    alone = minpack.curve_fit_batch(decay, T, y[clean], p0=p0[clean])
    np.testing.assert_array_equal(got.popt[clean], alone.popt)
    assert got.success[clean].all()


def exp_problems(K: int) -> tuple[np.ndarray, np.ndarray]:
    """K data sets of the exp model (``[t, y]`` rows) and their starts."""
    data = np.array([exp_data(phase=0.3 * k, b=1.0 + 0.05 * k) for k in range(K)])
    return data, np.tile(EXP.x0, (K, 1))


def make_exp_cfunc():
    """A factory of the compiled exp residual (imported in each process)."""
    from support.compiled_models import exp_cfunc

    return exp_cfunc


BATCH_FIELDS = ("x", "ier", "nfev", "njev", "fnorm", "cov_x", "fvec")


@pytest.mark.parametrize("given", ["name", "factory"])
def test_compiled_residual_by_name_or_factory(scheduler, given):
    """A numba cfunc cannot be pickled; by name or factory it reaches every
    worker and the fits equal the in-memory compiled batch.
    """
    data, x0 = exp_problems(14)
    func = "support.compiled_models:exp_cfunc" if given == "name" else make_exp_cfunc
    lazy = minpack.dask.leastsq_batch(func, x0, args=data, m=EXP.m, chunks=4,
                                      full_output=True,
                                      Dfun="support.compiled_models:exp_cjac")
    got = lazy.compute(**scheduler)
    want = minpack.leastsq_batch(exp_cfunc, x0, args=data, Dfun=exp_cjac, m=EXP.m,
                                 full_output=True)
    assert isinstance(got, minpack.BatchResult)
    assert want.success.all()
    for name in BATCH_FIELDS:
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name),
                                      err_msg=name)


def test_factory_runs_once_per_process(tmp_path):
    """Each process calls the factory once, however many chunks it fits."""
    log = tmp_path / "calls"

    def factory():
        with open(log, "a") as f:
            f.write(f"{os.getpid()}\n")
        from support.compiled_models import exp_cfunc

        return exp_cfunc

    data, x0 = exp_problems(12)
    for _ in range(2):  # and once for every call with the same factory
        lazy = minpack.dask.leastsq_batch(factory, x0, args=data, m=EXP.m, chunks=2)
        got = lazy.compute(scheduler="threads", num_workers=2)
        assert got.success.all()
    assert log.read_text().split() == [str(os.getpid())]


def test_compiled_object_refused_by_processes():
    """A compiled object itself works on threads; sent to processes, it fails
    with a message that says what to pass instead.
    """
    data, x0 = exp_problems(4)
    lazy = minpack.dask.leastsq_batch(exp_cfunc, x0, args=data, m=EXP.m, chunks=2)
    threads = lazy.compute(scheduler="threads")
    np.testing.assert_array_equal(
        threads.x, minpack.leastsq_batch(exp_cfunc, x0, args=data, m=EXP.m).x)
    with pytest.raises(Exception, match="cannot be sent to another process") as info:
        lazy.compute(scheduler="processes", num_workers=2)
    cause = info.value.__cause__
    assert "package.module:attr" in str(info.value) + ("" if cause is None else str(cause))


def test_leastsq_batch_python_residual_with_bounds(scheduler):
    """A Python residual with per-problem data and boxes, Dask inputs."""
    data, x0 = exp_problems(9)
    lb = np.tile([0.0, 0.0, -1.0], (9, 1))
    ub = np.tile([10.0, 1.2, 1.0], (9, 1))
    lazy = minpack.dask.leastsq_batch(
        EXP.func, da.from_array(x0, chunks=(4, 3)), args=da.from_array(data, chunks=4),
        bounds=(da.from_array(lb, chunks=(4, 3)), ub), full_output=True)
    got = lazy.compute(**scheduler)
    want = minpack.leastsq_batch(EXP.func, x0, args=data, bounds=(lb, ub),
                                 full_output=True)
    for name in BATCH_FIELDS + ("active_mask",):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name),
                                      err_msg=name)
    assert (got.active_mask[:, 1] == 1).any()  # some rates held at 1.2


def test_killed_worker_is_retried(dask_client, tmp_path):
    """The first call of the model in a worker kills that worker's process;
    Dask runs the task again on a live worker and the result is exact.
    """
    marker = str(tmp_path / "killed")

    def dies_once(t, a, k, c):
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return a * np.exp(-k * t) + c
        os.close(fd)
        os._exit(1)  # the worker process dies in the middle of its task

    y, p0 = cube(24, seed=4)
    lazy = minpack.dask.curve_fit_batch(dies_once, T, y, p0=p0, chunks=6)
    try:
        got = lazy.compute(scheduler=dask_client, retries=2)
    finally:
        dask_client.wait_for_workers(2, timeout=120)
    assert os.path.exists(marker), "no worker was killed"
    assert_same_curves(got, minpack.curve_fit_batch(decay, T, y, p0=p0))


def test_input_errors_up_front():
    """Shapes are checked before anything is computed."""
    with pytest.raises(ValueError, match=r"ydata must have shape \(K, m\)"):
        minpack.dask.curve_fit_batch(decay, T, np.zeros(M))
    with pytest.raises(ValueError, match="p0 must have one row per problem"):
        minpack.dask.curve_fit_batch(decay, T, np.zeros((4, M)), p0=np.ones((3, 3)))
    with pytest.raises(ValueError, match="chunks must be sizes that add up"):
        minpack.dask.curve_fit_batch(decay, T, np.zeros((4, M)), chunks=(1, 2))
    with pytest.raises(ValueError, match=r"x0 must have shape \(K, n\)"):
        minpack.dask.leastsq_batch(EXP.func, np.ones(3))
    with pytest.raises(ValueError, match="package.module:attr"):
        minpack.dask.compiled("no_colon_here")


def test_clear_error_without_dask(monkeypatch):
    """Without Dask, importing minpack.dask says which extra to install."""
    for name in [n for n in sys.modules if n == "dask" or n.startswith("dask.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.delitem(sys.modules, "minpack.dask")
    with pytest.raises(ImportError, match=r"pip install minpack\[dask\]"):
        importlib.import_module("minpack.dask")
