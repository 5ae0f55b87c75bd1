"""A few fits through every path of minpack, for a run under valgrind memcheck.

Usage: python smoke.py LIBRESIDUALS   (the shared library built from
residuals.c; see ci/_hardening.sh, which runs this under valgrind with
PYTHONMALLOC=malloc and python.supp).

Every path that reaches the Fortran library or the C trampoline is
exercised: Python residuals with and without a Jacobian, a residual that
raises at once and in the middle, curve_fit with 1-D and 2-D sigma, fsolve
(dense, banded, with fprime), check_jacobian, the iteration callback,
vectorized residuals (leastsq, curve_fit),
compiled residuals and Jacobians (ctypes), a compiled residual that stops
the solver, compiled fsolve, and leastsq_batch (compiled on two worker
threads, Python, and with a callback). Each result is checked, so memory
errors that corrupt results fail the run as well.
"""

from __future__ import annotations

import ctypes
import sys

import numpy as np

import minpack

T = np.linspace(0.0, 2.0, 9)
Y = 1.5 * np.exp(-0.8 * T) + 0.2
X0 = np.array([1.0, 1.0, 0.0])
TRUE = np.array([1.5, 0.8, 0.2])


class Boom(Exception):
    pass


def residual(p: np.ndarray) -> np.ndarray:
    return p[0] * np.exp(-p[1] * T) + p[2] - Y


def jacobian(p: np.ndarray) -> np.ndarray:
    e = np.exp(-p[1] * T)
    return np.column_stack([e, -p[0] * T * e, np.ones_like(T)])


def raising_at(at: int) -> object:
    """A residual that raises Boom on its call number `at`."""
    calls = [0]

    def raising(p: np.ndarray) -> np.ndarray:
        calls[0] += 1
        if calls[0] == at:
            raise Boom
        return residual(p)

    return raising


def close(x: np.ndarray) -> bool:
    return bool(np.allclose(x, TRUE, atol=1e-6))


def python_paths() -> None:
    x, ier = minpack.leastsq(residual, X0)
    assert close(x) and ier in (1, 2, 3, 4)
    x, cov, info, mesg, ier = minpack.leastsq(residual, X0, Dfun=jacobian,
                                              full_output=True)
    assert close(x) and cov.shape == (3, 3) and info["njev"] > 0
    x, cov, info, mesg, ier = minpack.leastsq(residual, X0.astype(np.float32),
                                              full_output=True)  # a float32 start
    assert close(x)
    for at in (1, 4):
        try:
            minpack.leastsq(raising_at(at), X0)
        except Boom:
            pass
        else:
            raise AssertionError("the exception was lost")
    try:
        minpack.leastsq(residual, X0, Dfun=lambda p: jacobian(p).T)
    except TypeError:
        pass
    seen = []
    x, ier = minpack.leastsq(residual, X0, callback=lambda it: seen.append(it.fnorm))
    assert close(x) and seen

    def columns(P: np.ndarray) -> np.ndarray:  # vectorized: P is (3, k)
        return P[0] * np.exp(-P[1] * T[:, None]) + P[2] - Y[:, None]

    x, ier = minpack.leastsq(columns, X0, vectorized=True)
    assert close(x)

    def model(t: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
        return a * np.exp(-b * t) + c

    popt, pcov = minpack.curve_fit(model, T, Y, p0=X0, sigma=np.full(T.size, 0.1))
    assert close(popt)
    popt, pcov = minpack.curve_fit(model, T, Y, p0=X0, vectorized=True)
    assert close(popt)
    cov2 = 0.01 * (np.eye(T.size) + 0.1 * np.ones((T.size, T.size)))
    popt, pcov = minpack.curve_fit(model, T, Y, p0=X0, sigma=cov2, absolute_sigma=True)
    assert close(popt)

    def system(p: np.ndarray) -> list:
        return [p[0] ** 2 - 2.0, p[0] * p[1] - 1.0]

    for kwargs in ({}, {"band": (0, 1)},
                   {"fprime": lambda p: [[2 * p[0], 0.0], [p[1], p[0]]]}):
        root = minpack.fsolve(system, [1.0, 1.0], **kwargs)
        assert np.allclose(root, [2**0.5, 2**-0.5])
    err = minpack.check_jacobian(residual, jacobian, X0 + 0.5)
    assert err.shape == (T.size,) and err.min() > 0.5
    res = minpack.leastsq_batch(lambda p, y: p[0] * np.exp(-p[1] * T) + p[2] - y,
                                np.tile(X0, (3, 1)), args=np.tile(Y, (3, 1)),
                                full_output=True)
    assert all(close(x) for x in res.x)


def compiled_paths(library: str) -> None:
    lib = ctypes.CDLL(library)
    func_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                 ctypes.POINTER(ctypes.c_double),
                                 ctypes.POINTER(ctypes.c_double), ctypes.c_void_p)
    jac_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                ctypes.POINTER(ctypes.c_double),
                                ctypes.POINTER(ctypes.c_double), ctypes.c_int,
                                ctypes.c_void_p)
    func = func_type(("exp_residual", lib))
    jac = jac_type(("exp_jacobian", lib))
    stopping = func_type(("stopping_residual", lib))
    square = func_type(("square_system", lib))

    x, ier = minpack.leastsq(func, X0, args=(Y,), m=Y.size)
    assert close(x)
    x, cov, info, mesg, ier = minpack.leastsq(func, X0, args=(Y,), m=Y.size, Dfun=jac,
                                              full_output=True)
    assert close(x) and info["njev"] > 0
    counted = np.append(Y, 0.0)  # the residual counts its calls in the last slot
    x, cov, info, mesg, ier = minpack.leastsq(stopping, X0, args=(counted,), m=Y.size,
                                              full_output=True)
    assert ier == -3, ier
    seen = []
    x, ier = minpack.leastsq(func, X0, args=(Y,), m=Y.size,
                             callback=lambda it: seen.append(it.nfev))
    assert close(x) and seen
    root = minpack.fsolve(square, [1.0, 1.0])
    assert np.allclose(root, [2**0.5, 2**-0.5])

    K = 40
    data = np.tile(Y, (K, 1))
    starts = np.tile(X0, (K, 1))
    for workers in (1, 2):
        res = minpack.leastsq_batch(func, starts, args=data, m=Y.size, Dfun=jac,
                                    workers=workers, full_output=True)
        assert all(close(x) for x in res.x) and np.isfinite(res.cov_x).all()
    res = minpack.leastsq_batch(func, starts[:3], args=data[:3], m=Y.size,
                                callback=lambda it: None)
    assert all(close(x) for x in res.x)


if __name__ == "__main__":
    python_paths()
    compiled_paths(sys.argv[1])
    print("smoke: all paths ran and gave the expected results")
