"""The iteration callback of ``leastsq`` and ``leastsq_batch``.

MINPACK reports at the start of every iteration, right after the Jacobian is
computed, so the callback runs exactly once per Jacobian evaluation: ``njev``
times for lmder; for lmdif right after each block of n forward-difference
evaluations of ``func``. What it receives is checked against what the fit
actually evaluated, on the Python path and the compiled path (which must
report the very same iterations), and stopping and failing in it are checked
for every path.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minpack
from support.compiled_models import BARD, EXP, MODELS, Model, exp_data

MODE = pytest.mark.parametrize("lmder", [False, True], ids=["lmdif", "lmder"])
MODEL = pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
PATH = pytest.mark.parametrize("compiled", [False, True], ids=["python", "compiled"])


class Recorder:
    """A callback that keeps every Iteration, and a copy of it as first seen."""

    def __init__(self, stop_at: int | None = None, scribble: bool = False) -> None:
        self.seen: list = []
        self.snapshots: list = []
        self.stop_at = stop_at
        self.scribble = scribble

    def __call__(self, it: minpack.Iteration) -> None:
        """Record `it`; scribble on it or stop, as configured."""
        self.seen.append(it)
        self.snapshots.append((it.x.copy(), it.fvec.copy(), it.fnorm, it.nfev,
                               it.iteration, it.k))
        if self.scribble:  # the fit must not notice
            it.x[:] = 1e300
            it.fvec[:] = np.nan
        if it.iteration == self.stop_at:
            raise StopIteration


def run(model: Model, compiled: bool, lmder: bool, **kwargs):
    """``leastsq(..., full_output=True)`` of `model` on the chosen path."""
    data = model.data.copy()
    if compiled:
        return minpack.leastsq(model.cfunc, np.array(model.x0), args=(data,), m=model.m,
                               Dfun=model.cjac if lmder else None, full_output=True,
                               **kwargs)
    return minpack.leastsq(model.func, np.array(model.x0), args=(data,),
                           Dfun=model.jac if lmder else None, full_output=True,
                           **kwargs)


def assert_same_fit(got: tuple, ref: tuple) -> None:
    np.testing.assert_array_equal(got[0], ref[0])
    if ref[1] is None:
        assert got[1] is None
    else:
        np.testing.assert_array_equal(got[1], ref[1])
    assert got[2].keys() == ref[2].keys()
    for key in ref[2]:
        np.testing.assert_array_equal(got[2][key], ref[2][key], err_msg=key)
    assert got[3:] == ref[3:]


# ---------------------------------------------------------------------------
# once per iteration, with consistent contents
# ---------------------------------------------------------------------------


@MODEL
def test_lmdif_reports_after_each_jacobian(model):
    """Python lmdif: each report follows n forward-difference evaluations."""
    calls: list = []

    def func(x, data):
        calls.append(x.copy())
        return model.func(x, data)

    rec = Recorder()
    counts: list = []
    _, _, info, _, ier = minpack.leastsq(
        func, model.x0, args=(model.data,), full_output=True,
        callback=lambda it: (counts.append(len(calls)), rec(it)))
    assert ier in (1, 2, 3, 4)
    n = model.n
    assert len(rec.seen) >= 1
    for it, before in zip(rec.seen, counts, strict=True):
        assert it.nfev == before  # nfev counts the calls made so far
        # the n calls just before are x + h_j e_j, j = 0..n-1, in order
        for j, xj in enumerate(calls[before - n:before]):
            differs = np.flatnonzero(xj != it.x)
            assert list(differs) == [j]
    # one evaluation at x0, n per Jacobian, at least one trial step per iteration
    assert info["nfev"] == len(calls)
    assert info["nfev"] >= 1 + (n + 1) * len(rec.seen)
    np.testing.assert_array_equal(rec.seen[0].x, model.x0)


@MODEL
def test_lmder_reports_once_per_jacobian(model):
    """Python lmder: one report per Dfun call, at the point Dfun just saw."""
    func_calls: list = []
    jac_calls: list = []

    def func(x, data):
        func_calls.append(x.copy())
        return model.func(x, data)

    def jac(x, data):
        jac_calls.append((x.copy(), len(func_calls)))
        return model.jac(x, data)

    rec = Recorder()
    _, _, info, _, ier = minpack.leastsq(func, model.x0, args=(model.data,), Dfun=jac,
                                         full_output=True, callback=rec)
    assert ier in (1, 2, 3, 4)
    assert len(rec.seen) == info["njev"] == len(jac_calls)
    for it, (xj, nfev_then) in zip(rec.seen, jac_calls, strict=True):
        np.testing.assert_array_equal(it.x, xj)
        assert it.nfev == nfev_then
    assert info["nfev"] == len(func_calls)


@PATH
@MODE
@MODEL
def test_iteration_contents(model, lmder, compiled):
    rec = Recorder()
    _, _, info, _, ier = run(model, compiled, lmder, callback=rec)
    assert ier in (1, 2, 3, 4)
    if lmder:
        assert len(rec.seen) == info["njev"]
    assert [it.iteration for it in rec.seen] == list(range(1, len(rec.seen) + 1))
    nfevs = [it.nfev for it in rec.seen]
    # between reports: at least one trial step (and n evaluations for lmdif's
    # difference Jacobian)
    assert min(np.diff(nfevs), default=1) >= (1 if lmder else model.n + 1)
    assert nfevs[-1] < info["nfev"]
    for it in rec.seen:
        assert it.k is None
        assert it.x.shape == (model.n,) and it.fvec.shape == (model.m,)
        np.testing.assert_array_equal(it.fvec, model.func(it.x, model.data))
        assert it.fnorm == pytest.approx(np.linalg.norm(it.fvec), rel=1e-15)
        assert isinstance(it.fnorm, float) and isinstance(it.nfev, int)
    assert repr(rec.seen[0]).startswith("Iteration(iteration=1, nfev=")


@PATH
@MODE
def test_callback_arrays_are_copies_to_keep(lmder, compiled):
    rec = Recorder()
    run(EXP, compiled, lmder, callback=rec)
    assert len({id(it.x) for it in rec.seen}) == len(rec.seen)
    for it, (x, fvec, *_) in zip(rec.seen, rec.snapshots, strict=True):
        np.testing.assert_array_equal(it.x, x)  # unchanged after the fit
        np.testing.assert_array_equal(it.fvec, fvec)
    assert not np.array_equal(rec.seen[0].x, rec.seen[-1].x)


@PATH
@MODE
def test_scribbling_on_the_arrays_changes_nothing(lmder, compiled):
    assert_same_fit(run(EXP, compiled, lmder, callback=Recorder(scribble=True)),
                    run(EXP, compiled, lmder))


@MODE
@MODEL
def test_compiled_path_reports_the_same_iterations(model, lmder):
    python, compiled = Recorder(), Recorder()
    assert_same_fit(run(model, True, lmder, callback=compiled),
                    run(model, False, lmder, callback=python))
    assert len(compiled.snapshots) == len(python.snapshots)
    for got, ref in zip(compiled.snapshots, python.snapshots, strict=True):
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])
        assert got[2:] == ref[2:]


# ---------------------------------------------------------------------------
# callback=None, a callback that does nothing, a callback that is not callable
# ---------------------------------------------------------------------------


@PATH
@MODE
@MODEL
def test_default_and_no_op_callback_change_nothing(model, lmder, compiled):
    plain = run(model, compiled, lmder)
    assert_same_fit(run(model, compiled, lmder, callback=None), plain)
    assert_same_fit(run(model, compiled, lmder, callback=lambda it: None), plain)
    assert_same_fit(run(model, compiled, lmder, callback=lambda it: True), plain)


@pytest.mark.parametrize("callback", [1, "print", [print]], ids=["int", "str", "list"])
def test_callback_not_callable(callback):
    with pytest.raises(TypeError, match="callback must be callable"):
        minpack.leastsq(EXP.func, EXP.x0, args=(EXP.data,), callback=callback)
    with pytest.raises(TypeError, match="callback must be callable"):
        minpack.leastsq(EXP.cfunc, EXP.x0, args=(EXP.data,), m=EXP.m, callback=callback)
    with pytest.raises(TypeError, match="callback must be callable"):
        minpack.leastsq_batch(EXP.cfunc, np.array([EXP.x0]), args=EXP.data[None],
                              m=EXP.m, callback=callback)


# ---------------------------------------------------------------------------
# stopping early
# ---------------------------------------------------------------------------


@PATH
@MODE
@pytest.mark.parametrize("stop_at", [1, 2, 3])
def test_stop_iteration_ends_the_fit(stop_at, lmder, compiled):
    rec = Recorder(stop_at=stop_at)
    x, cov_x, info, mesg, ier = run(BARD, compiled, lmder, callback=rec)
    assert ier == 9
    assert mesg == f"Stopped by the callback (StopIteration) at iteration {stop_at}."
    assert len(rec.seen) == stop_at
    last = rec.seen[-1]
    np.testing.assert_array_equal(x, last.x)  # stopped where it was
    np.testing.assert_array_equal(info["fvec"], last.fvec)
    assert info["nfev"] == last.nfev  # no evaluation after the stop
    assert cov_x is None
    if lmder:
        assert info["njev"] == stop_at


@PATH
@MODE
def test_stop_iteration_without_full_output(lmder, compiled):
    rec = Recorder(stop_at=2)
    model = BARD
    args = (model.data,)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if compiled:
            out = minpack.leastsq(model.cfunc, model.x0, args=args, m=model.m,
                                  Dfun=model.cjac if lmder else None, callback=rec)
        else:
            out = minpack.leastsq(model.func, model.x0, args=args,
                                  Dfun=model.jac if lmder else None, callback=rec)
    assert len(out) == 2
    np.testing.assert_array_equal(out[0], rec.seen[-1].x)
    assert out[1] == 9


class Oops(Exception):
    """An exception of the test's own."""


class Abort(BaseException):
    """Not an Exception: must get through just the same."""


@PATH
@MODE
@pytest.mark.parametrize("kind", [Oops, Abort, KeyboardInterrupt])
def test_exception_in_callback_propagates(kind, lmder, compiled):
    error = kind("from the callback")
    after: list = []

    def callback(it):
        if it.iteration == 2:
            raise error
        if it.iteration > 2:
            after.append(it)

    with pytest.raises(kind) as caught:
        run(EXP, compiled, lmder, callback=callback)
    assert caught.value is error
    assert after == []


def test_nested_fit_inside_callback():
    """A callback may run a fit of its own (compiled or Python)."""
    inner: list = []

    def callback(it):
        inner.append(minpack.leastsq(EXP.cfunc, it.x, args=(EXP.data,), m=EXP.m)[0])
        inner.append(minpack.leastsq(EXP.func, it.x, args=(EXP.data,))[0])

    assert_same_fit(run(EXP, False, True, callback=callback), run(EXP, False, True))
    assert len(inner) >= 2
    for x in inner:
        np.testing.assert_allclose(x, inner[0], rtol=1e-6)


# ---------------------------------------------------------------------------
# in a batch
# ---------------------------------------------------------------------------


@PATH
@MODE
def test_batch_callback_reports_what_leastsq_reports(lmder, compiled):
    count = 3
    data = np.array([exp_data(noise=0.02, phase=k) for k in range(count)])
    x0 = np.tile(EXP.x0, (count, 1))
    func, jac = (EXP.cfunc, EXP.cjac) if compiled else (EXP.func, EXP.jac)
    batch = Recorder()
    res = minpack.leastsq_batch(func, x0, args=data, Dfun=jac if lmder else None,
                                m=EXP.m, callback=batch)
    expected: list = []
    for k in range(count):
        single = Recorder()
        minpack.leastsq(func, x0[k], args=(data[k],), Dfun=jac if lmder else None,
                        m=EXP.m, callback=single)
        expected += [(*snap[:5], k) for snap in single.snapshots]
        if lmder:
            assert len(single.snapshots) == res.njev[k]
    assert len(batch.snapshots) == len(expected)
    for got, ref in zip(batch.snapshots, expected, strict=True):
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])
        assert got[2:] == ref[2:]


def test_an_error_escaping_the_progress_report_is_raised(monkeypatch):
    """Not swallowed: leastsq raises it (the report runs through the trampoline)."""
    from minpack import _contexts, _leastsq

    def broken_progress(callback, errors, stopped, k=None):
        def report(nfev, x, fvec):
            raise KeyError("escaped the report")
        return _contexts.ProgressContext(report, errors)

    monkeypatch.setattr(_leastsq, "progress_context", broken_progress)
    with pytest.raises(KeyError, match="escaped the report"):
        minpack.leastsq(lambda p: p - 1.0, [0.0, 0.0], callback=lambda it: None)
