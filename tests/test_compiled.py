"""Compiled residuals and Jacobians in ``leastsq`` and ``fsolve``.

A compiled function goes through the same Fortran fit as a Python one, so
through every accepted form (numba ``cfunc``, ctypes function pointer, cffi
function pointer, ``scipy.LowLevelCallable``, ``PyCapsule``) a fit must give
exactly what the Python path gives with a Python residual that computes the
same numbers: the models of ``support/compiled_models.py`` run one numba kernel
on both paths, so the comparison is bit for bit, ``infodict`` included.

Then the rules around it: where ``user_data`` comes from, the errors for
wrong ``args``, a missing ``m`` or a wrong signature, a non-zero return
status, and the promises of a compiled fit: the GIL is released for the whole
fit, threads and nested calls give the same results as serial ones.
"""

from __future__ import annotations

import ctypes
import math
import threading
import time
import warnings
from ctypes import POINTER, c_double, c_int, c_void_p

import cffi
import numba
import numpy as np
import pytest
import scipy
from numba import types

import minpack
from support.compiled_models import (
    EXP,
    FUNC_C,
    FUNC_SIG,
    JAC_C,
    JAC_SIG,
    MODELS,
    Model,
    capsule,
    exp_cfunc_failing,
    exp_cfunc_gil_free,
    exp_cjac_failing,
    exp_cjac_gil_free,
    exp_data,
    exp_fill,
    failing_data,
    holds_gil,
    holds_gil_nogil,
)


# ---------------------------------------------------------------------------
# the accepted forms
# ---------------------------------------------------------------------------

CFUNC_T = ctypes.CFUNCTYPE(c_int, c_int, c_int, POINTER(c_double), POINTER(c_double),
                           c_void_p)
CJAC_T = ctypes.CFUNCTYPE(c_int, c_int, c_int, POINTER(c_double), POINTER(c_double),
                          c_int, c_void_p)

def as_double_array(pointer, size: int) -> np.ndarray:
    """Return a NumPy view of `size` doubles at `pointer` (int or ctypes pointer)."""
    return np.ctypeslib.as_array(ctypes.cast(pointer, POINTER(c_double)), (size,))


def ctypes_python_pair(model: Model) -> tuple:
    """Return the model as ctypes CFUNCTYPE callbacks whose bodies are Python."""
    size = model.data.size

    def func(m, n, x, fvec, user_data):
        d = as_double_array(user_data, size)
        as_double_array(fvec, m)[:] = model.func(as_double_array(x, n).copy(), d)
        return 0

    def jac(m, n, x, fjac, ldfjac, user_data):
        d = as_double_array(user_data, size)
        columns = as_double_array(fjac, n * ldfjac).reshape(n, ldfjac)
        columns[:, :m] = model.jac(as_double_array(x, n).copy(), d).T
        return 0

    return CFUNC_T(func), CJAC_T(jac)


def form(name: str, model: Model, data: np.ndarray) -> tuple:
    """``(func, Dfun, args)`` for `model` given in the form `name`.

    `data` is the array ``user_data`` points at; the caller keeps it alive.
    """
    f, j = model.cfunc, model.cjac
    if name == "cfunc":
        return f, j, (data,)
    if name == "numba-ctypes":
        return f.ctypes, j.ctypes, (data,)
    if name == "ctypes-callback":
        return (*ctypes_python_pair(model), (data,))
    if name == "cffi":
        ffi = cffi.FFI()
        return (ffi.cast(FUNC_C.replace(" (", " (*)("), f.address),
                ffi.cast(JAC_C.replace(" (", " (*)("), j.address), (data,))
    if name == "LowLevelCallable-user_data":
        ud = c_void_p(data.ctypes.data)
        return (scipy.LowLevelCallable(f.ctypes, ud),
                scipy.LowLevelCallable(j.ctypes, ud), ())
    if name == "LowLevelCallable-args":
        return (scipy.LowLevelCallable(f.ctypes), scipy.LowLevelCallable(j.ctypes),
                (data,))
    if name == "PyCapsule":
        return capsule(f.address, FUNC_C), capsule(j.address, JAC_C), (data,)
    if name == "PyCapsule-unnamed":
        return capsule(f.address, None), capsule(j.address, None), (data,)
    if name == "PyCapsule-context":
        ud = data.ctypes.data
        return capsule(f.address, FUNC_C, ud), capsule(j.address, JAC_C, ud), ()
    raise AssertionError(name)


FORMS = [
    "cfunc",
    "numba-ctypes",
    "ctypes-callback",
    "cffi",
    "LowLevelCallable-user_data",
    "LowLevelCallable-args",
    "PyCapsule",
    "PyCapsule-unnamed",
    "PyCapsule-context",
]

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def python_fit(model: Model, lmder: bool, func=None, jac=None, **kwargs):
    """Fit `model` on the Python path (its own kernels unless `func` is given)."""
    func = model.func if func is None else func
    jac = model.jac if jac is None else jac
    return minpack.leastsq(func, np.array(model.x0), args=(model.data.copy(),),
                           Dfun=jac if lmder else None, full_output=True, **kwargs)


def compiled_fit(model: Model, lmder: bool, data: np.ndarray | None = None, **kwargs):
    """Fit `model` with its numba cfuncs."""
    data = model.data.copy() if data is None else data
    return minpack.leastsq(model.cfunc, np.array(model.x0), args=(data,),
                           Dfun=model.cjac if lmder else None, m=model.m,
                           full_output=True, **kwargs)


def assert_same_fit(got: tuple, ref: tuple) -> None:
    """Two ``full_output`` results of leastsq are identical, bit for bit."""
    x, cov_x, info, mesg, ier = got
    np.testing.assert_array_equal(x, ref[0])
    if ref[1] is None:
        assert cov_x is None
    else:
        np.testing.assert_array_equal(cov_x, ref[1])
    assert info.keys() == ref[2].keys()
    for key, value in ref[2].items():
        np.testing.assert_array_equal(info[key], value, err_msg=key)
        assert np.asarray(info[key]).dtype == np.asarray(value).dtype, key
    assert (mesg, ier) == (ref[3], ref[4])


MODE = pytest.mark.parametrize("lmder", [False, True], ids=["lmdif", "lmder"])
MODEL = pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)

# ---------------------------------------------------------------------------
# every form gives the Python path's fit
# ---------------------------------------------------------------------------


@MODE
@MODEL
@pytest.mark.parametrize("name", FORMS)
def test_form_matches_python_path(name, model, lmder):
    data = model.data.copy()
    func, jac, args = form(name, model, data)
    got = minpack.leastsq(func, np.array(model.x0), args=args,
                          Dfun=jac if lmder else None, m=model.m, full_output=True)
    assert got[4] in (1, 2, 3, 4)
    assert_same_fit(got, python_fit(model, lmder))


@MODE
@MODEL
def test_short_output_matches_python_path(model, lmder):
    got = minpack.leastsq(model.cfunc, model.x0, args=(model.data,), m=model.m,
                          Dfun=model.cjac if lmder else None)
    ref = minpack.leastsq(model.func, model.x0, args=(model.data,),
                          Dfun=model.jac if lmder else None)
    assert len(got) == 2
    np.testing.assert_array_equal(got[0], ref[0])
    assert got[1] == ref[1]


@MODE
@MODEL
def test_numpy_residual_agrees_to_rounding(model, lmder):
    """Against a residual written with NumPy ufuncs.

    Bard uses only + - * / and agrees bit for bit. The exp model calls
    ``np.exp``, a SIMD implementation that differs from the C library's
    ``exp`` (which numba calls) in the last bit for some arguments; the
    finite-difference Jacobian of lmdif magnifies that to ~1e-11 in x, so
    only rounding-level agreement is required there.
    """
    got = compiled_fit(model, lmder)
    ref = python_fit(model, lmder, func=model.numpy_func, jac=model.numpy_jac)
    if model.numpy_exact:
        assert_same_fit(got, ref)
        return
    assert (got[2]["nfev"], got[4]) == (ref[2]["nfev"], ref[4])
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-9)
    np.testing.assert_allclose(got[2]["fvec"], ref[2]["fvec"], rtol=1e-7, atol=1e-12)


def test_inputs_left_untouched():
    x0 = np.array(EXP.x0)
    data = EXP.data.copy()
    minpack.leastsq(EXP.cfunc, x0, args=(data,), Dfun=EXP.cjac, m=EXP.m)
    np.testing.assert_array_equal(x0, EXP.x0)
    np.testing.assert_array_equal(data, EXP.data)


def test_options_reach_the_compiled_fit():
    kwargs = dict(ftol=1e-4, xtol=1e-3, maxfev=40, factor=0.5, diag=[1.0, 2.0, 3.0],
                  epsfcn=1e-10)
    assert_same_fit(compiled_fit(EXP, False, **kwargs),
                    python_fit(EXP, False, **kwargs))
    kwargs.pop("epsfcn")
    assert_same_fit(compiled_fit(EXP, True, **kwargs), python_fit(EXP, True, **kwargs))


# ---------------------------------------------------------------------------
# the lean entry (_minpack.lm_compiled) and the general route agree
# ---------------------------------------------------------------------------

class ArraySubclass(np.ndarray):
    """Not exactly an ndarray: the lean entry leaves it to the general route."""


# name -> (lean, overrides): leastsq's arguments changed by `overrides` go
# through the lean C entry (lean True) or are left to the general route.
ROUTES = {
    "plain": (True, {}),
    "x0 tuple": (True, {"x0": (1.0, 1.0, 0)}),
    "x0 int array": (False, {"x0": np.array([1, 1, 0])}),
    "x0 float32": (False, {"x0": np.array([1.0, 1.0, 0.0], dtype=np.float32)}),
    "int tolerances": (True, {"gtol": 0, "factor": 100}),
    "diag float64 array": (True, {"diag": np.array([1.0, 2.0, 3.0])}),
    "x0 big-endian": (False, {"x0": np.array([1.0, 1.0, 0.0], dtype=">f8")}),
    "x0 strided": (True, {"x0": np.array([1.0, 9.0, 1.0, 9.0, 0.0, 9.0])[::2]}),
    "diag big-endian": (False, {"diag": np.array([1.0, 2.0, 3.0], dtype=">f8")}),
    "x0 2-D": (False, {"x0": np.array([[1.0, 1.0, 0.0]])}),
    "x0 of numpy scalars": (False, {"x0": [np.float64(1.0), 1.0, 0.0]}),
    "x0 subclass": (False, {"x0": np.array([1.0, 1.0, 0.0]).view(ArraySubclass)}),
    "numpy ftol": (False, {"ftol": np.float64(1.49012e-8)}),
    "numpy maxfev": (False, {"maxfev": np.int32(600)}),
    "numpy m": (False, {"m": np.int64(50)}),
    "numpy epsfcn": (False, {"epsfcn": np.float64(2.220446049250313e-16)}),
    "diag list": (False, {"diag": [1.0, 2.0, 3.0]}),
    "diag int array": (False, {"diag": np.array([1, 2, 3])}),
    "args not a tuple": (True, {"args": EXP.data}),
}


@MODE
@pytest.mark.parametrize("name", ROUTES, ids=ROUTES.keys())
def test_lean_and_general_routes_agree(name, lmder, monkeypatch):
    """Whichever route a call takes, the fit is the same, bit for bit."""
    from minpack import _compiled

    lean, overrides = ROUTES[name]
    taken = []
    real = _compiled.lean_lm

    def spy(*a, **k):
        out = real(*a, **k)
        taken.append(out is not NotImplemented)
        return out

    monkeypatch.setattr(_compiled, "lean_lm", spy)
    kwargs = {"x0": np.array(EXP.x0), "args": (EXP.data.copy(),), "m": EXP.m}
    kwargs.update(overrides)
    x0 = kwargs.pop("x0")
    extra = {k: v for k, v in kwargs.items() if k not in ("args", "m")}
    got = minpack.leastsq(EXP.cfunc, x0, args=kwargs["args"], m=kwargs["m"],
                          Dfun=EXP.cjac if lmder else None, full_output=True, **extra)
    assert taken == [lean]
    ref_extra = {k: (np.asarray(v, dtype=np.float64) if k == "diag" else float(v))
                 for k, v in extra.items() if k != "maxfev"}
    if "maxfev" in extra:
        ref_extra["maxfev"] = int(extra["maxfev"])
    assert_same_fit(got, python_fit(EXP, lmder, **ref_extra))


def lean_args(**overrides) -> list:
    """The 14 arguments of _minpack.lm_compiled for the exp model."""
    a = {"faddr": EXP.cfunc.address, "jaddr": 0, "udefault": None,
         "fargs": (EXP.data,), "x0": [1.0, 1.0, 0.0], "m": EXP.m, "ftol": 1.49012e-8,
         "xtol": 1.49012e-8, "gtol": 0.0, "maxfev": 0,
         "epsfcn": float(np.finfo(float).eps), "factor": 100.0, "diag": None, "full": True}
    a.update(overrides)
    return list(a.values())


REFUSED = {
    "faddr 0": {"faddr": 0},
    "faddr float": {"faddr": float(EXP.cfunc.address)},
    "jaddr None": {"jaddr": None},
    "udefault and args": {"udefault": 8},
    "udefault float": {"udefault": 8.0, "fargs": ()},
    "args list": {"fargs": [EXP.data]},
    "args two arrays": {"fargs": (EXP.data, EXP.data)},
    "args non-contiguous": {"fargs": (EXP.data[::2],)},
    "args not an array": {"fargs": (EXP.data.tolist(),)},
    "x0 empty": {"x0": []},
    "x0 nan": {"x0": [1.0, float("nan"), 0.0]},
    "x0 inf array": {"x0": np.array([1.0, np.inf, 0.0])},
    "x0 complex": {"x0": np.array([1.0, 1.0, 0.0], dtype=complex)},
    "x0 bool item": {"x0": [1.0, True, 0.0]},
    "x0 huge int": {"x0": [1.0, 10**400, 0.0]},
    "x0 int beyond int64": {"x0": [1.0, 2**63, 0.0]},
    "x0 long double": {"x0": np.ones(3, dtype=np.longdouble)},
    "x0 0-d": {"x0": np.array(1.0)},
    "x0 string": {"x0": "abc"},
    "m None": {"m": None},
    "m bool": {"m": True},
    "m smaller than n": {"m": 2},
    "m too big for int": {"m": 2**40},
    "ftol string": {"ftol": "1e-8"},
    "xtol None": {"xtol": None},
    "gtol numpy": {"gtol": np.float64(0.0)},
    "maxfev float": {"maxfev": 100.0},
    "maxfev too big": {"maxfev": 2**31},
    "epsfcn None": {"epsfcn": None},
    "factor complex": {"factor": 1j},
    "diag list": {"diag": [1.0, 1.0, 1.0]},
    "diag short": {"diag": np.ones(2)},
    "diag float32": {"diag": np.ones(3, dtype=np.float32)},
    "diag big-endian": {"diag": np.ones(3, dtype=">f8")},
    "diag strided": {"diag": np.ones(6)[::2]},
    "full undecidable": {"full": np.ones(2)},
}


@pytest.mark.parametrize("overrides", REFUSED.values(), ids=REFUSED.keys())
def test_lean_entry_refuses_what_it_does_not_handle(overrides):
    from minpack import _minpack

    assert _minpack.lm_compiled(*lean_args(**overrides)) is NotImplemented


def test_lean_entry_fits():
    from minpack import _minpack

    x0 = np.array([1.0, 1.0, 0.0])
    x, fvec, diag, fjac, ipvt, qtf, info, nfev, njev = _minpack.lm_compiled(
        *lean_args(x0=x0))
    ref = python_fit(EXP, False)
    np.testing.assert_array_equal(x, ref[0])
    np.testing.assert_array_equal(fvec, ref[2]["fvec"])
    np.testing.assert_array_equal(fjac.T, ref[2]["fjac"])
    np.testing.assert_array_equal(ipvt - 1, ref[2]["ipvt"])
    assert (info, nfev, njev) == (ref[4], ref[2]["nfev"], 0)
    assert fjac.flags.f_contiguous and fjac.shape == (EXP.m, 3)
    assert ipvt.dtype == np.int32 and diag.shape == (3,)
    np.testing.assert_array_equal(x0, [1.0, 1.0, 0.0])  # a copy was fitted
    short = _minpack.lm_compiled(*lean_args(x0=x0, full=0))
    np.testing.assert_array_equal(short[0], x)
    assert short[1:6] == (None,) * 5 and short[6:] == (info, nfev, njev)
    with pytest.raises(TypeError, match="14 arguments"):
        _minpack.lm_compiled(*lean_args()[:13])


def test_compiled_lookup_is_cached_per_object():
    from minpack import _compiled

    f = EXP.cfunc.ctypes
    first = _compiled.as_compiled(f, "func")
    assert _compiled.as_compiled(f, "func") is first
    assert first.keepalive is f
    # an entry is used only for the very object it was made for
    other = CFUNC_T(lambda *a: 0)
    _compiled._CACHE[(id(other), "func")] = first
    try:
        got = _compiled.as_compiled(other, "func")
        assert got.keepalive is other
        assert got.address == ctypes.cast(other, c_void_p).value != first.address
    finally:
        _compiled._CACHE.pop((id(other), "func"), None)
    # bounded: many objects never make it grow past its size
    many = [CFUNC_T(lambda *a: 0) for _ in range(3 * _compiled._CACHE_SIZE)]
    for obj in many:
        assert _compiled.as_compiled(obj, "func").keepalive is obj
        assert len(_compiled._CACHE) <= _compiled._CACHE_SIZE
    # capsules are read every time (their pointer can be changed)
    cap = capsule(EXP.cfunc.address, FUNC_C)
    _compiled.as_compiled(cap, "func")
    assert all(entry.keepalive is not cap for entry in _compiled._CACHE.values())


# ---------------------------------------------------------------------------
# user_data
# ---------------------------------------------------------------------------

# user_data declared as an integer, so that the function can test it for NULL
@numba.cfunc(types.intc(types.intc, types.intc, types.CPointer(types.float64),
                        types.CPointer(types.float64), types.intp))
def wants_null(m, n, x, fvec, user_data):
    if user_data != 0:
        return 3
    for i in range(m):
        fvec[i] = x[0] - (i + 1.0)
    return 0


@pytest.mark.parametrize("args", [(), None], ids=["empty", "default"])
def test_no_args_passes_null(args):
    kwargs = {} if args is None else {"args": args}
    x, _, _, _, ier = minpack.leastsq(wants_null, [0.0], m=3, full_output=True,
                                      **kwargs)
    assert ier in (1, 2, 3, 4)
    assert x[0] == pytest.approx(2.0)


def test_user_data_is_the_array_data_pointer():
    seen = []

    @CFUNC_T
    def record(m, n, x, fvec, user_data):
        seen.append(user_data)
        for i in range(m):
            fvec[i] = x[0] - i
        return 0

    data = np.arange(4.0)
    minpack.leastsq(record, [0.0], args=(), m=3)
    assert set(seen) == {None}  # ctypes hands NULL over as None
    seen.clear()
    minpack.leastsq(record, [0.0], args=(data,), m=3)
    assert set(seen) == {data.ctypes.data}
    seen.clear()
    minpack.leastsq(record, [0.0], args=data, m=3)  # a bare array, as in SciPy
    assert set(seen) == {data.ctypes.data}


def test_user_data_is_not_a_copy():
    """The compiled function writes into the caller's own array (its call counter)."""
    data = failing_data(EXP.data, 0, 0)
    _, _, info, _, _ = minpack.leastsq(exp_cfunc_failing, EXP.x0, args=(data,),
                                       m=EXP.m, full_output=True)
    assert data[2 * EXP.m] == info["nfev"]


BAD_ARGS = {
    "two arrays": lambda d: (d, d),
    "list": lambda d: [d],
    "non-contiguous": lambda d: (np.repeat(d, 2)[::2],),
    "float": lambda d: (1.0,),
    "array and float": lambda d: (d, 1.0),
}


@pytest.mark.parametrize("make_args", BAD_ARGS.values(), ids=BAD_ARGS.keys())
@pytest.mark.parametrize("solver", ["leastsq", "fsolve"])
def test_wrong_args_is_a_type_error(make_args, solver):
    data = EXP.data.copy()
    with pytest.raises(TypeError, match=r"C-contiguous numpy array"):
        if solver == "leastsq":
            minpack.leastsq(EXP.cfunc, EXP.x0, args=make_args(data), m=EXP.m)
        else:
            minpack.fsolve(trig_cfunc, [1.0, 1.0], args=make_args(data))


def test_low_level_callable_user_data_and_args_is_a_type_error():
    data = EXP.data.copy()
    func = scipy.LowLevelCallable(EXP.cfunc.ctypes, c_void_p(data.ctypes.data))
    with pytest.raises(TypeError, match="user_data.*args must then be empty"):
        minpack.leastsq(func, EXP.x0, args=(data,), m=EXP.m)


def test_capsule_context_and_args_is_a_type_error():
    data = EXP.data.copy()
    func = capsule(EXP.cfunc.address, FUNC_C, data.ctypes.data)
    with pytest.raises(TypeError, match="user_data.*args must then be empty"):
        minpack.leastsq(func, EXP.x0, args=(data,), m=EXP.m)


# ---------------------------------------------------------------------------
# m, signatures, mixtures
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", FORMS)
def test_m_is_required(name):
    data = EXP.data.copy()
    func, _, args = form(name, EXP, data)
    with pytest.raises(TypeError, match=r"m \(the number of residuals\) is required"):
        minpack.leastsq(func, EXP.x0, args=args)


def test_m_smaller_than_n_is_improper_input():
    with pytest.raises(TypeError, match="must not exceed"):
        minpack.leastsq(EXP.cfunc, EXP.x0, args=(EXP.data,), m=2)


def test_m_too_big_for_a_c_int():
    with pytest.raises(OverflowError, match="m=2147483648 does not fit"):
        minpack.leastsq(EXP.cfunc, EXP.x0, args=(EXP.data,), m=2**31)


def test_x0_checked_before_the_signature_on_both_routes():
    """The lean entry does not change which error comes first."""
    for kw in ({}, {"callback": lambda it: None}):
        with pytest.raises(ValueError, match="x0 must be finite"):
            minpack.leastsq(returns_double, [np.nan], m=1, **kw)


@pytest.mark.parametrize("x0", [[2**64, 1.0, 0.0], np.array([1, 1, 0], dtype=object)],
                         ids=["int beyond uint64", "object array"])
def test_x0_numpy_cannot_read_as_numbers_is_refused(x0):
    with pytest.raises(TypeError, match="x0 must be real numbers"):
        minpack.leastsq(EXP.cfunc, x0, args=(EXP.data,), m=EXP.m)


def test_long_double_x0_overflow_warns_once():
    x0 = np.array([np.longdouble("1e4000"), 1.0, 0.0])
    if np.isinf(x0[0]):
        pytest.skip("long double is double on this platform: 1e4000 is already inf")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="x0 must be finite"):
            minpack.leastsq(EXP.cfunc, x0, args=(EXP.data,), m=EXP.m)
    assert [str(w.message) for w in caught] == ["overflow encountered in cast"]


def test_ctypes_prototype_changed_after_a_fit_is_noticed():
    f = CFUNC_T(lambda m, n, x, fvec, user_data: 0)
    minpack.leastsq(f, [1.0], m=1)
    f.restype = c_double
    with pytest.raises(TypeError, match="must return int"):
        minpack.leastsq(f, [1.0], m=1)


@numba.cfunc(types.intc(types.intc, types.intc, types.CPointer(types.float64),
                        types.CPointer(types.float64)))
def four_args(m, n, x, fvec):
    return 0


@ctypes.CFUNCTYPE(c_double, c_int, c_int, POINTER(c_double), POINTER(c_double),
                  c_void_p)
def returns_double(m, n, x, fvec, user_data):
    return 0.0


def test_wrong_signature_is_a_type_error():
    data = EXP.data
    with pytest.raises(TypeError, match="takes 4 arguments"):
        minpack.leastsq(four_args, EXP.x0, m=EXP.m)
    with pytest.raises(TypeError, match="takes 4 arguments"):
        minpack.leastsq(four_args.ctypes, EXP.x0, m=EXP.m)
    with pytest.raises(TypeError, match="must return int"):
        minpack.leastsq(returns_double, EXP.x0, args=(data,), m=EXP.m)
    # a residual function where the Jacobian belongs, and the reverse
    with pytest.raises(TypeError, match="Dfun.*takes 5 arguments"):
        minpack.leastsq(EXP.cfunc, EXP.x0, args=(data,), Dfun=EXP.cfunc, m=EXP.m)
    with pytest.raises(TypeError, match="func.*takes 6 arguments"):
        minpack.leastsq(EXP.cjac, EXP.x0, args=(data,), m=EXP.m)
    with pytest.raises(TypeError, match="signature 'double \\(double\\)'"):
        minpack.leastsq(capsule(EXP.cfunc.address, "double (double)"), EXP.x0,
                        args=(data,), m=EXP.m)
    with pytest.raises(TypeError, match="Dfun.*expected"):
        minpack.leastsq(EXP.cfunc, EXP.x0, args=(data,), m=EXP.m,
                        Dfun=capsule(EXP.cjac.address, FUNC_C))


def test_compiled_and_python_do_not_mix():
    data = EXP.data
    with pytest.raises(TypeError, match="Dfun is a Python callable"):
        minpack.leastsq(EXP.cfunc, EXP.x0, args=(data,), Dfun=EXP.jac, m=EXP.m)
    with pytest.raises(TypeError, match="func is not"):
        minpack.leastsq(EXP.func, EXP.x0, args=(data,), Dfun=EXP.cjac, m=EXP.m)
    with pytest.raises(ValueError, match="col_deriv"):
        minpack.leastsq(EXP.cfunc, EXP.x0, args=(data,), Dfun=EXP.cjac, m=EXP.m,
                        col_deriv=True)


# ---------------------------------------------------------------------------
# a non-zero return status stops the fit
# ---------------------------------------------------------------------------


@MODE
@pytest.mark.parametrize("status", [7, -3, 1])
@pytest.mark.parametrize("fail_at", [1, 2, 5])
def test_nonzero_status_stops_at_once(fail_at, status, lmder):
    data = failing_data(EXP.data, fail_at, status)
    x, cov_x, info, mesg, ier = minpack.leastsq(
        exp_cfunc_failing, EXP.x0, args=(data,), m=EXP.m, full_output=True,
        Dfun=exp_cjac_failing if lmder else None)
    assert data[2 * EXP.m] == fail_at  # no call after the one that said stop
    assert ier == -abs(status)
    assert cov_x is None
    assert f"ier = -|status| = {-abs(status)}" in mesg
    assert "non-zero status" in mesg


def test_nonzero_status_without_full_output_raises():
    data = failing_data(EXP.data, 5, 7)
    with pytest.raises(RuntimeError, match=r"non-zero status.*-7"):
        minpack.leastsq(exp_cfunc_failing, EXP.x0, args=(data,), m=EXP.m)


@numba.cfunc(JAC_SIG)
def jac_says_stop(m, n, x, fjac, ldfjac, user_data):
    return 2


def test_nonzero_status_from_jacobian():
    _, _, info, _, ier = minpack.leastsq(EXP.cfunc, EXP.x0, args=(EXP.data,), m=EXP.m,
                                         Dfun=jac_says_stop, full_output=True)
    assert ier == -2
    assert info["njev"] == 1
    with pytest.raises(RuntimeError, match="-2"):
        minpack.leastsq(EXP.cfunc, EXP.x0, args=(EXP.data,), m=EXP.m,
                        Dfun=jac_says_stop)


# ---------------------------------------------------------------------------
# fsolve
# ---------------------------------------------------------------------------


@numba.cfunc(FUNC_SIG)
def trig_cfunc(m, n, x, fvec, user_data):
    c = numba.carray(user_data, (2,), np.float64)
    fvec[0] = x[0] * math.cos(x[1]) - c[0]
    fvec[1] = x[1] * x[0] - x[1] - c[1]
    return 0


@numba.cfunc(JAC_SIG)
def trig_cjac(m, n, x, fjac, ldfjac, user_data):
    fjac[0] = math.cos(x[1])
    fjac[1] = x[1]
    fjac[ldfjac] = -x[0] * math.sin(x[1])
    fjac[ldfjac + 1] = x[0] - 1.0
    return 0


def trig(x, c):
    return np.array([x[0] * math.cos(x[1]) - c[0], x[1] * x[0] - x[1] - c[1]])


def trig_jac(x, c):
    return np.array([[math.cos(x[1]), -x[0] * math.sin(x[1])], [x[1], x[0] - 1.0]])


@pytest.mark.parametrize("hybrj", [False, True], ids=["hybrd", "hybrj"])
@pytest.mark.parametrize("name", ["cfunc", "numba-ctypes", "cffi", "PyCapsule"])
def test_fsolve_matches_python_path(name, hybrj):
    c = np.array([4.0, 5.0])
    trig_model = Model("trig", 2, (1.0, 1.0), c, trig_cfunc, trig_cjac, trig, trig_jac,
                       trig, trig_jac, numpy_exact=True)
    func, jac, args = form(name, trig_model, c)
    got = minpack.fsolve(func, [1.0, 1.0], args=args, fprime=jac if hybrj else None,
                         full_output=True)
    ref = minpack.fsolve(trig, [1.0, 1.0], args=(c,),
                         fprime=trig_jac if hybrj else None, full_output=True)
    np.testing.assert_array_equal(got[0], ref[0])
    assert got[1].keys() == ref[1].keys()
    for key in ref[1]:
        np.testing.assert_array_equal(got[1][key], ref[1][key], err_msg=key)
    assert got[2:] == ref[2:]
    assert got[2] == 1
    x = minpack.fsolve(func, [1.0, 1.0], args=args, fprime=jac if hybrj else None)
    np.testing.assert_array_equal(x, ref[0])


@numba.cfunc(FUNC_SIG)
def trig_stops(m, n, x, fvec, user_data):
    fvec[0] = x[0] * math.cos(x[1]) - 4.0
    fvec[1] = x[1] * x[0] - x[1] - 5.0
    return 7


def test_fsolve_nonzero_status_full_output():
    _, info, ier, msg = minpack.fsolve(trig_stops, [1.0, 1.0], full_output=True)
    assert ier == -7
    assert info["nfev"] == 1
    assert "non-zero status" in msg and "-7" in msg


def test_fsolve_nonzero_status_raises_runtime_error():
    with pytest.raises(RuntimeError, match="-7"):
        minpack.fsolve(trig_stops, [1.0, 1.0])


def test_fsolve_needs_both_compiled():
    with pytest.raises(TypeError, match="both"):
        minpack.fsolve(trig_cfunc, [1.0, 1.0], args=(np.array([4.0, 5.0]),),
                       fprime=trig_jac)


# ---------------------------------------------------------------------------
# threads, the GIL, reentrancy
# ---------------------------------------------------------------------------


def run_threads(target, count: int) -> list:
    """Run ``target(i)`` in `count` threads started together; return the results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def work(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def test_threads_match_serial():
    threads, fits = 8, 100
    datas = [[exp_data(noise=0.02, phase=0.01 * (i * fits + k)) for k in range(fits)]
             for i in range(threads)]

    def fit_all(i):
        return [compiled_fit(EXP, k % 2 == 1, data=datas[i][k]) for k in range(fits)]

    serial = [fit_all(i) for i in range(threads)]
    parallel = run_threads(fit_all, threads)
    for i in range(threads):
        for k in range(fits):
            assert_same_fit(parallel[i][k], serial[i][k])


def test_gil_probe_works():
    """The probe tells a held GIL from a released one."""
    assert holds_gil() == 1
    assert holds_gil_nogil() == 0


@MODE
def test_compiled_fit_releases_the_gil(lmder):
    """Every residual and Jacobian call of a compiled fit runs without the GIL."""
    got = minpack.leastsq(exp_cfunc_gil_free, EXP.x0, args=(EXP.data,), m=EXP.m,
                          Dfun=exp_cjac_gil_free if lmder else None, full_output=True)
    assert got[4] in (1, 2, 3, 4)  # a probe that saw the GIL would stop it with -5/-6
    assert_same_fit(got, python_fit(EXP, lmder))


@numba.cfunc(FUNC_SIG)
def trig_gil_free(m, n, x, fvec, user_data):
    fvec[0] = x[0] * math.cos(x[1]) - 4.0
    fvec[1] = x[1] * x[0] - x[1] - 5.0
    if holds_gil() != 0:
        return 5
    return 0


def test_compiled_fsolve_releases_the_gil():
    _, _, ier, _ = minpack.fsolve(trig_gil_free, [1.0, 1.0], full_output=True)
    assert ier == 1


_libc = ctypes.CDLL(None)
_usleep = _libc.usleep
_usleep.argtypes = [ctypes.c_uint]
_usleep.restype = c_int


@numba.cfunc(FUNC_SIG)
def exp_cfunc_handshake(m, n, x, fvec, user_data):
    """Wait on the first call (at most ~20 s) for Python to answer.

    The data are [t, y, asked, answered].
    """
    d = numba.carray(user_data, (2 * m + 2,), np.float64)
    exp_fill(m, x, d, fvec)
    if d[2 * m] == 0.0:
        d[2 * m] = 1.0
        for _ in range(200_000):
            if d[2 * m + 1] != 0.0:
                return 0
            _usleep(100)  # an opaque call: d is read afresh each time
        return 4
    return 0


def test_python_runs_while_a_compiled_fit_runs():
    """A Python thread does work while the fit thread sits inside a residual.

    The residual waits for a flag that only Python code in another thread sets;
    if the fit held the GIL, that code could never run and the residual would
    give up with status 4.
    """
    data = np.concatenate([EXP.data, [0.0, 0.0]])
    out: list = []
    fit = threading.Thread(target=lambda: out.append(minpack.leastsq(
        exp_cfunc_handshake, EXP.x0, args=(data,), m=EXP.m, full_output=True)))
    fit.start()
    deadline = time.monotonic() + 60
    while data[2 * EXP.m] == 0.0 and time.monotonic() < deadline:
        time.sleep(0.001)
    data[2 * EXP.m + 1] = 1.0  # Python code, run while the fit waits in C
    fit.join()
    assert out[0][4] in (1, 2, 3, 4)
    assert_same_fit(out[0], python_fit(EXP, False))


def test_python_residual_calling_compiled_leastsq():
    """Reentrancy: each call of a Python residual runs a compiled fit."""
    inner_ref = compiled_fit(EXP, True)
    inner_calls = []

    def outer(p):
        inner = compiled_fit(EXP, True)
        assert_same_fit(inner, inner_ref)
        inner_calls.append(1)
        return (p - inner[0]) * np.array([1.0, 2.0, 3.0])

    x, _, info, _, ier = minpack.leastsq(outer, [0.0, 0.0, 0.0], full_output=True)
    assert ier in (1, 2, 3, 4)
    assert len(inner_calls) == info["nfev"]
    np.testing.assert_allclose(x, inner_ref[0], rtol=1e-12)


def test_compiled_residual_calling_compiled_leastsq():
    """Reentrancy: a compiled (ctypes) residual whose body runs a compiled fit."""
    inner_ref = compiled_fit(EXP, False)
    inner_fits = []

    @CFUNC_T
    def outer(m, n, x, fvec, user_data):
        # no assert in here: ctypes would swallow the exception
        inner_fits.append(compiled_fit(EXP, False))
        as_double_array(fvec, m)[:] = as_double_array(x, n) - inner_fits[-1][0]
        return 0

    x, _, info, _, ier = minpack.leastsq(outer, [0.0, 0.0, 0.0], m=3, full_output=True)
    assert ier in (1, 2, 3, 4)
    assert len(inner_fits) == info["nfev"]
    for inner in inner_fits:
        assert_same_fit(inner, inner_ref)
    np.testing.assert_allclose(x, inner_ref[0], rtol=1e-12)
