"""The Python callbacks the Fortran solvers call, and the input checks they share.

Each solver call builds its own closures here (no shared state, so calls may
nest and run in many threads). A closure hands the user a copy of ``x`` (theirs
to keep), writes the result straight into the Fortran buffer, and turns any
exception into a stop request (a non-zero status); the solver function
re-raises it once the Fortran call has returned, so nothing unwinds through
Fortran.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

F64 = np.dtype(np.float64)


def as_start(x0: Any) -> np.ndarray:
    """Return the starting point as a fresh 1-D float64 array.

    Raises
    ------
    TypeError
        If `x0` is not real-valued (complex, object, strings).
    """
    a = np.asarray(x0)
    if a.dtype.kind not in "biuf":
        raise TypeError(
            f"x0 must be real numbers (a scalar or an array of floats); "
            f"got an array of dtype {a.dtype}"
        )
    return np.array(a, dtype=np.float64, order="C").reshape(-1)


def as_diag(diag: Any, n: int) -> tuple[int, np.ndarray]:
    """Return MINPACK's (mode, diag) for the `diag` argument."""
    if diag is None:
        return 1, np.ones(n)
    d = np.array(diag, dtype=np.float64).reshape(-1)
    if d.shape != (n,):
        raise ValueError(
            f"diag must have one entry per variable (length {n}); "
            f"got shape {np.shape(diag)}")
    return 2, d


def describe(value: Any) -> str:
    """Describe a callback's return value for an error message."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r:.60}"


def residual_array(value: Any, m: int | None, name: str) -> np.ndarray:
    """Check a residual vector returned by `name` and return it as an array.

    `m` is the expected length, or None on the first call (any length).
    A scalar counts as a vector of length 1, as in SciPy.
    """
    try:
        a = np.asarray(value)
    except Exception as exc:  # e.g. ragged sequences
        raise TypeError(
            f"{name} must return a 1-D array of real numbers; it returned "
            f"{describe(value)}, which is not convertible to an array ({exc})"
        ) from exc
    if a.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must return a 1-D array of real numbers; it returned "
            f"{describe(value)}"
        )
    if a.ndim == 0:
        a = a.reshape(1)
    if a.ndim != 1 or (m is not None and a.shape[0] != m):
        expected = "a 1-D array" if m is None else f"a 1-D array of length {m}"
        raise ValueError(
            f"{name} must return {expected}; it returned {describe(value)}"
        )
    return a


def shape_mismatch(checker: str, argname: str, thefunc: Any,
                   expected: tuple, shape: tuple) -> TypeError:
    """SciPy's error for a callable whose output has the wrong shape."""
    msg = (f"{checker}: there is a mismatch between the input and output "
           f"shape of the '{argname}' argument")
    name = getattr(thefunc, "__name__", None)
    msg += f" '{name}'." if name else "."
    msg += f"Shape should be {expected} but it is {shape}."
    return TypeError(msg)


def residual_callback(
    func: Callable[..., Any], args: tuple, m: int, errors: list
) -> Callable[[np.ndarray, np.ndarray], int]:
    """Build the callback the Fortran solver calls for residuals."""
    mshape = (m,)

    def fcn(x: np.ndarray, fvec: np.ndarray) -> int:
        try:
            r = func(x.copy(), *args)
            if r.__class__ is np.ndarray and r.dtype is F64 and r.shape == mshape:
                fvec[:] = r
            else:
                fvec[:] = residual_array(r, m, "func")
        except BaseException as exc:  # re-raised by the solver function
            errors.append(exc)
            return -1
        return 0

    return fcn


def jacobian_callback(
    Dfun: Callable[..., Any], args: tuple, m: int, n: int, col_deriv: bool,
    errors: list, checker: str = "leastsq", argname: str = "Dfun",
) -> Callable[[np.ndarray, np.ndarray], int]:
    """Build the callback the Fortran solver calls for the Jacobian.

    `checker` and `argname` name the function and argument in SciPy's error
    message for a result of the wrong shape.
    """
    expected = (n, m) if col_deriv else (m, n)
    # SciPy checks the shape only when neither dimension is 1; otherwise any
    # array with the right number of elements is taken in order.
    strict = expected[0] != 1 and expected[1] != 1

    def check(value: Any) -> np.ndarray:
        try:
            a = np.asarray(value)
        except Exception as exc:
            raise TypeError(
                f"{argname} must return a 2-D array of real numbers of shape "
                f"{expected}; it returned {describe(value)} ({exc})") from exc
        if a.dtype.kind not in "biuf":
            raise TypeError(
                f"{argname} must return a 2-D array of real numbers of shape "
                f"{expected}; it returned {describe(value)}")
        if a.shape == expected:
            return a
        if strict:
            raise shape_mismatch(checker, argname, Dfun, expected,
                                 np.atleast_1d(a).shape)
        if a.size != expected[0] * expected[1]:
            raise ValueError(
                f"{argname} must return an array of shape {expected}; it "
                f"returned {describe(value)}")
        return a.reshape(expected)

    def jac(x: np.ndarray, fjac: np.ndarray) -> int:
        try:
            J = Dfun(x.copy(), *args)
            if not (J.__class__ is np.ndarray and J.shape == expected
                    and J.dtype.kind == "f"):
                J = check(J)
            if col_deriv:
                fjac.T[...] = J
            else:
                fjac[...] = J
        except BaseException as exc:  # re-raised by the solver function
            errors.append(exc)
            return -1
        return 0

    return jac


class Iteration:
    """What an iteration callback receives: the state at the start of an iteration.

    Attributes
    ----------
    x : ndarray
        The current estimate (a copy the callback may keep).
    fvec : ndarray
        The residuals at `x` (a copy).
    fnorm : float
        The 2-norm of `fvec`.
    nfev : int
        Residual evaluations so far.
    iteration : int
        1 for the first iteration, then 2, 3, ...
    k : int or None
        The problem's index in a batch (None outside `leastsq_batch`).
    """

    __slots__ = ("x", "fvec", "fnorm", "nfev", "iteration", "k")

    def __init__(self, x: np.ndarray, fvec: np.ndarray, nfev: int, iteration: int,
                 k: int | None) -> None:
        self.x = x
        self.fvec = fvec
        self.fnorm = float(np.sqrt(np.dot(fvec, fvec)))
        self.nfev = nfev
        self.iteration = iteration
        self.k = k

    def __repr__(self) -> str:
        k = "" if self.k is None else f"k={self.k}, "
        return (f"Iteration({k}iteration={self.iteration}, nfev={self.nfev}, "
                f"fnorm={self.fnorm:.6g}, x={self.x!r})")


def never_called(*args: Any) -> int:
    """Stands in for a callback the solver is told never to call."""
    return 1


def progress_callback(
    callback: Callable[[Iteration], Any], errors: list, stopped: list,
    k: int | None = None,
) -> Callable[[int, np.ndarray, np.ndarray], int]:
    """Build the per-iteration report the Fortran solver calls (nprint = 1).

    ``StopIteration`` from `callback` ends the fit and is recorded in
    `stopped` (the iteration number); any other exception goes to `errors`.
    """
    count = [0]

    def progress(nfev: int, x: np.ndarray, fvec: np.ndarray) -> int:
        count[0] += 1
        try:
            callback(Iteration(x.copy(), fvec.copy(), nfev, count[0], k))
        except StopIteration:
            stopped.append(count[0])
            return 1
        except BaseException as exc:  # re-raised by the solver function
            errors.append(exc)
            return 1
        return 0

    return progress


def vectorized_residuals(value: Any, m: int | None, k: int) -> np.ndarray:
    """Check what a vectorized `func` returned for k points: shape (m, k).

    For one point a 1-D array of length m is accepted too.
    """
    a = np.asarray(value)
    if a.dtype.kind not in "biuf":
        raise TypeError(
            f"func (vectorized) must return real numbers; it returned {describe(value)}")
    if k == 1 and a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2 or a.shape[1] != k or (m is not None and a.shape[0] != m):
        rows = "m" if m is None else str(m)
        raise ValueError(
            f"func (vectorized) must return an array of shape ({rows}, {k}) for x of "
            f"shape (n, {k}): one column of residuals per column of x; it returned "
            f"{describe(value)}")
    return a


def vectorized_callbacks(
    func: Callable[..., Any], args: tuple, m: int, errors: list
) -> tuple[Callable[[np.ndarray, np.ndarray], int], Callable[[np.ndarray, np.ndarray], int]]:
    """Callbacks for a vectorized `func` (x of shape (n, k) -> (m, k)).

    The first evaluates one point (passed as shape (n, 1)); the second, the n
    points of a difference Jacobian in one call.
    """

    def fcn(x: np.ndarray, fvec: np.ndarray) -> int:
        try:
            fvec[:] = vectorized_residuals(func(x.reshape(-1, 1), *args), m, 1)[:, 0]
        except BaseException as exc:  # re-raised by the solver function
            errors.append(exc)
            return -1
        return 0

    def block(x: np.ndarray, fvec: np.ndarray) -> int:
        try:
            fvec[...] = vectorized_residuals(func(x.copy(), *args), m, x.shape[1])
        except BaseException as exc:  # re-raised by the solver function
            errors.append(exc)
            return -1
        return 0

    return fcn, block
