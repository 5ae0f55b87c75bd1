"""Compiled (numba ``cfunc``) residuals and Jacobians for the tests of compiled fits.

``MODELS`` is the registry: small frozen :class:`Model` records, each a
least-squares problem given twice over, once as Python callables for the
ordinary path (``func(x, data)``, ``jac(x, data)`` returning ``(m, n)``) and
once as numba ``cfunc`` objects with the C signatures of ``minpack``::

    int func(int m, int n, const double *x, double *fvec, void *user_data);
    int jac(int m, int n, const double *x, double *fjac, int ldfjac,
            void *user_data);

The per-problem data reach the compiled functions through ``user_data`` (a
pointer to ``data``) and the Python ones as their second argument.

Both versions of a model run the same numba-compiled kernel (``exp_fill``
and friends), so they compute bit-identical residuals and Jacobians and the
two paths through ``minpack`` must give bit-identical fits. (NumPy's own
``np.exp`` is a SIMD implementation that differs from the C library's ``exp``,
which numba calls, in the last bit for a few percent of arguments; the tests
that use a NumPy residual say so and compare to rounding level only.)

``exp`` is the model of ``benchmarks/fit_exp.f90``: ``y = a exp(-b t) + c``
with m = 50, n = 3, data laid out as ``[t_1..t_m, y_1..y_m]``. ``bard`` is
MGH problem 8 (m = 15, n = 3), which needs only + - * / and so is
bit-identical in NumPy too.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from numba import types

FUNC_C = "int (int, int, double *, double *, void *)"
"""C signature of a compiled residual function (a capsule's name)."""
JAC_C = "int (int, int, double *, double *, int, void *)"
"""C signature of a compiled Jacobian function."""
FUNC_SIG = types.intc(types.intc, types.intc, types.CPointer(types.float64),
                      types.CPointer(types.float64), types.voidptr)
"""numba signature of a compiled residual function."""
JAC_SIG = types.intc(types.intc, types.intc, types.CPointer(types.float64),
                     types.CPointer(types.float64), types.intc, types.voidptr)
"""numba signature of a compiled Jacobian function."""


# ---------------------------------------------------------------------------
# kernels: called from the cfuncs (with pointers) and from Python (with arrays)
# ---------------------------------------------------------------------------


@numba.njit
def exp_fill(m, x, d, fvec):
    """Residuals of the exp model at `x`; `d` holds ``[t, y]``."""
    for i in range(m):
        fvec[i] = d[m + i] - (x[0] * math.exp(-x[1] * d[i]) + x[2])


@numba.njit
def exp_jac_fill(m, x, d, jt):
    """Fill ``jt[j, i] = d f_i / d x_j`` (the transpose: column-major storage)."""
    for i in range(m):
        e = math.exp(-x[1] * d[i])
        jt[0, i] = -e
        jt[1, i] = x[0] * d[i] * e
        jt[2, i] = -1.0


BARD_Y = np.array([0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58,
                   0.73, 0.96, 1.34, 2.10, 4.39])


@numba.njit
def bard_fill(m, x, y, fvec):
    """Residuals of Bard's problem at `x`; `y` holds the data."""
    for i in range(m):
        u = i + 1.0
        v = m - i + 0.0
        w = min(u, v)
        fvec[i] = y[i] - (x[0] + u / (v * x[1] + w * x[2]))


@numba.njit
def bard_jac_fill(m, x, y, jt):
    """Fill ``jt[j, i] = d f_i / d x_j`` for Bard's problem."""
    for i in range(m):
        u = i + 1.0
        v = m - i + 0.0
        w = min(u, v)
        den = v * x[1] + w * x[2]
        jt[0, i] = -1.0
        jt[1, i] = u * v / (den * den)
        jt[2, i] = u * w / (den * den)


# ---------------------------------------------------------------------------
# the compiled functions
# ---------------------------------------------------------------------------


@numba.cfunc(FUNC_SIG)
def exp_cfunc(m, n, x, fvec, user_data):
    """Compiled residuals of the exp model; user_data points at ``[t, y]``."""
    d = numba.carray(user_data, (2 * m,), np.float64)
    exp_fill(m, x, d, fvec)
    return 0


@numba.cfunc(JAC_SIG)
def exp_cjac(m, n, x, fjac, ldfjac, user_data):
    """Compiled Jacobian of the exp model, column-major."""
    d = numba.carray(user_data, (2 * m,), np.float64)
    exp_jac_fill(m, x, d, numba.carray(fjac, (n, ldfjac)))
    return 0


@numba.cfunc(FUNC_SIG)
def bard_cfunc(m, n, x, fvec, user_data):
    """Compiled residuals of Bard's problem; user_data points at y."""
    bard_fill(m, x, numba.carray(user_data, (m,), np.float64), fvec)
    return 0


@numba.cfunc(JAC_SIG)
def bard_cjac(m, n, x, fjac, ldfjac, user_data):
    """Compiled Jacobian of Bard's problem, column-major."""
    y = numba.carray(user_data, (m,), np.float64)
    bard_jac_fill(m, x, y, numba.carray(fjac, (n, ldfjac)))
    return 0


# The exp model with a status switch: data are [t, y, calls, fail_at, status];
# every call adds 1 to `calls`, and from call number `fail_at` on (fail_at > 0)
# the function returns `status` instead of 0. fail_at = 0 never fails.


@numba.cfunc(FUNC_SIG)
def exp_cfunc_failing(m, n, x, fvec, user_data):
    """Compiled exp residuals that count calls and fail on request."""
    d = numba.carray(user_data, (2 * m + 3,), np.float64)
    exp_fill(m, x, d, fvec)
    d[2 * m] += 1.0
    if d[2 * m + 1] > 0.0 and d[2 * m] >= d[2 * m + 1]:
        return np.int32(d[2 * m + 2])
    return 0


@numba.cfunc(JAC_SIG)
def exp_cjac_failing(m, n, x, fjac, ldfjac, user_data):
    """Compiled exp Jacobian for the layout of `exp_cfunc_failing`."""
    d = numba.carray(user_data, (2 * m + 3,), np.float64)
    exp_jac_fill(m, x, d, numba.carray(fjac, (n, ldfjac)))
    return 0


def failing_data(data: np.ndarray, fail_at: int, status: int) -> np.ndarray:
    """Return `data` plus the call counter and the switch of `exp_cfunc_failing`."""
    return np.concatenate([data, [0.0, float(fail_at), float(status)]])


# ---------------------------------------------------------------------------
# the Python versions (same kernels) and NumPy versions (np.exp)
# ---------------------------------------------------------------------------


def _python_pair(fill: Callable, jac_fill: Callable, m: int, n: int) -> tuple:
    def func(x, data):
        fvec = np.empty(m)
        fill(m, x, data, fvec)
        return fvec

    def jac(x, data):
        jt = np.empty((n, m))
        jac_fill(m, x, data, jt)
        return jt.T

    return func, jac


def exp_numpy(x, data):
    """Return the exp model's residuals, written with NumPy (its own ``np.exp``)."""
    m = data.size // 2
    return data[m:] - (x[0] * np.exp(-x[1] * data[:m]) + x[2])


def exp_numpy_jac(x, data):
    """Return the exp model's Jacobian, written with NumPy."""
    m = data.size // 2
    t = data[:m]
    e = np.exp(-x[1] * t)
    return np.column_stack([-e, x[0] * t * e, -np.ones(m)])


def bard_numpy(x, y):
    """Bard's residuals with NumPy, in the kernel's order of operations."""
    u = np.arange(1.0, 16.0)
    v = 16.0 - u
    w = np.minimum(u, v)
    return y - (x[0] + u / (v * x[1] + w * x[2]))


def bard_numpy_jac(x, y):
    """Return Bard's Jacobian with NumPy, in the kernel's order of operations."""
    u = np.arange(1.0, 16.0)
    v = 16.0 - u
    w = np.minimum(u, v)
    den = v * x[1] + w * x[2]
    return np.column_stack([-np.ones(15), u * v / (den * den), u * w / (den * den)])


def exp_data(m: int = 50, noise: float = 0.01, a: float = 3.0, b: float = 1.3,
             c: float = 0.5, phase: float = 0.0) -> np.ndarray:
    """Return data of the exp model, ``[t, y]``; the defaults are fit_exp.f90's."""
    t = 4.0 * np.arange(m) / (m - 1)
    y = a * np.exp(-b * t) + c + noise * np.sin(7.0 * t + phase)
    return np.concatenate([t, y])


# ---------------------------------------------------------------------------
# the registry
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Model:
    """One problem, compiled and in Python."""

    name: str
    m: int
    x0: tuple[float, ...]
    data: np.ndarray
    """``user_data`` of the compiled functions, second argument of the Python ones."""
    cfunc: Any
    cjac: Any
    func: Callable[..., np.ndarray]
    """Python residual running the same kernel as `cfunc`."""
    jac: Callable[..., np.ndarray]
    numpy_func: Callable[..., np.ndarray]
    """Python residual written with NumPy ufuncs."""
    numpy_jac: Callable[..., np.ndarray]
    numpy_exact: bool
    """True when `numpy_func` and `numpy_jac` are bit-identical to the kernels."""

    @property
    def n(self) -> int:
        """The number of variables."""
        return len(self.x0)


_exp_func, _exp_jac = _python_pair(exp_fill, exp_jac_fill, 50, 3)
_bard_func, _bard_jac = _python_pair(bard_fill, bard_jac_fill, 15, 3)

EXP = Model("exp", 50, (1.0, 1.0, 0.0), exp_data(), exp_cfunc, exp_cjac, _exp_func,
            _exp_jac, exp_numpy, exp_numpy_jac, numpy_exact=False)
BARD = Model("bard", 15, (1.0, 1.0, 1.0), BARD_Y.copy(), bard_cfunc, bard_cjac,
             _bard_func, _bard_jac, bard_numpy, bard_numpy_jac, numpy_exact=True)
MODELS = [EXP, BARD]


def exp_python(m: int, n: int) -> tuple[Callable, Callable]:
    """Python residual and Jacobian of the exp model for any m (same kernels)."""
    return _python_pair(exp_fill, exp_jac_fill, m, n)


# ---------------------------------------------------------------------------
# PyCapsules
# ---------------------------------------------------------------------------

_capsule_new = ctypes.PYFUNCTYPE(
    ctypes.py_object, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)(
    ("PyCapsule_New", ctypes.pythonapi))
_capsule_set_context = ctypes.PYFUNCTYPE(
    ctypes.c_int, ctypes.py_object, ctypes.c_void_p)(
    ("PyCapsule_SetContext", ctypes.pythonapi))
_capsule_names: dict = {}  # a capsule's name must outlive the capsule


def capsule(address: int, name: str | None, context: int | None = None):
    """Return a PyCapsule holding `address`, named `name`, with context `context`."""
    if name is not None and name not in _capsule_names:
        _capsule_names[name] = ctypes.create_string_buffer(name.encode())
    cname = None if name is None else ctypes.addressof(_capsule_names[name])
    cap = _capsule_new(address, cname, None)
    if context is not None:
        _capsule_set_context(cap, context)
    return cap


# ---------------------------------------------------------------------------
# a probe of the GIL, from compiled code
# ---------------------------------------------------------------------------

# PyGILState_Check through a plain C function pointer, which numba can call.
# (Called from Python through ctypes it would always say 0: ctypes releases
# the GIL around foreign calls.)
_gil_state_check = ctypes.CFUNCTYPE(ctypes.c_int)(
    ctypes.cast(ctypes.pythonapi.PyGILState_Check, ctypes.c_void_p).value)


@numba.njit
def holds_gil():
    """PyGILState_Check() called from compiled code: 1 when the GIL is held."""
    return _gil_state_check()


@numba.njit(nogil=True)
def holds_gil_nogil():
    """Probe from a function that releases the GIL: 0."""
    return _gil_state_check()


# The exp model, but a call made with the GIL held returns 5 (6 for the
# Jacobian): a fit that gives ier 1-4 ran every call without the GIL.


@numba.cfunc(FUNC_SIG)
def exp_cfunc_gil_free(m, n, x, fvec, user_data):
    """Compiled exp residuals; status 5 if called with the GIL held."""
    exp_fill(m, x, numba.carray(user_data, (2 * m,), np.float64), fvec)
    if holds_gil() != 0:
        return 5
    return 0


@numba.cfunc(JAC_SIG)
def exp_cjac_gil_free(m, n, x, fjac, ldfjac, user_data):
    """Compiled exp Jacobian; status 6 if called with the GIL held."""
    d = numba.carray(user_data, (2 * m,), np.float64)
    exp_jac_fill(m, x, d, numba.carray(fjac, (n, ldfjac)))
    if holds_gil() != 0:
        return 6
    return 0
