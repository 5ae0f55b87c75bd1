"""What the C trampoline (``_trampoline.c``) reads, and what it hands the user.

A Python function reaches the solver as if it were compiled: the address of
one of the trampoline's C callbacks, with the id of a context below as its
user data (see ``_compiled.Route``). The contexts are named tuples whose
fields the trampoline reads by position; ``tests/test_contexts.py`` checks
that their fields are in the order ``_trampoline.c`` expects.

Each solver call builds its own contexts (no shared state, so calls may nest
and run in many threads) and keeps them alive until the Fortran call returns.
The trampoline hands the user a copy of ``x`` (theirs to keep), writes the
result straight into the Fortran buffer, and turns any exception into a stop
request; the exception is kept in the context's ``errors`` list and the
solver function re-raises it once the Fortran call has returned, so nothing
unwinds through Fortran.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from . import _minpack
from ._checks import describe, residual_array, shape_mismatch, vectorized_residuals

__all__ = ["Iteration", "ModelJacobian", "ModelResidual", "TRAMPOLINE"]

#: The trampoline's C callbacks by name ("residual", "jacobian", "block",
#: "progress", "points"): their addresses.
TRAMPOLINE: dict[str, int]
TRAMPOLINE, _FIELDS = _minpack.trampoline()

# Builds a named tuple from a tuple of its fields, without the NamedTuple's
# own __new__ (Python code: a few hundred ns per context, on every fit).
new = tuple.__new__


class ModelContext(NamedTuple):
    """curve_fit's residual ``w * (f(xdata, *x) - ydata)``, computed in C."""

    f: Callable[..., Any]
    xdata: Any
    ydata: np.ndarray
    w: np.ndarray | None


class ResidualContext(NamedTuple):
    """A Python residual function, for the trampoline's residual and block."""

    func: Callable[..., Any]
    args: tuple
    m: int
    errors: list
    check: Callable[[Any], np.ndarray]
    vectorized: bool
    check_block: Callable[[Any, int], np.ndarray] | None
    model: ModelContext | None


class ModelJacobianContext(NamedTuple):
    """curve_fit's unweighted Jacobian ``jac(xdata, *x)``, called from C."""

    jac: Callable[..., Any]
    xdata: Any


class JacobianContext(NamedTuple):
    """A Python Jacobian, for the trampoline's jacobian."""

    dfun: Callable[..., Any]
    args: tuple
    col_deriv: bool
    errors: list
    check: Callable[[Any], np.ndarray]
    model: ModelJacobianContext | None


class FitContext(NamedTuple):
    """The user data of a Python func and Dfun (the C API gives both one)."""

    residual: ResidualContext
    jacobian: JacobianContext | None


class ProgressContext(NamedTuple):
    """The per-iteration report, for the trampoline's progress."""

    report: Callable[[int, np.ndarray, np.ndarray], int]
    errors: list


class PointsContext(NamedTuple):
    """The function of a vectorised batch, for the trampoline's points.

    ``func(x, problem)`` gets the points as a fresh (np, n) array and the
    problem of each (np,), counted from 0 within one ``_minpack.lm_points``
    call, and must return a C-contiguous float64 array of shape (np, m)
    (``minpack._points`` builds it around the user's function).
    """

    func: Callable[[np.ndarray, np.ndarray], np.ndarray]
    errors: list


class ModelResidual:
    """curve_fit's residual ``w * (f(xdata, *p) - ydata)`` (unweighted if `w` is None).

    Called from Python like any residual function. The trampoline also
    recognises it (see residual_context) and then computes the same numbers
    without a Python frame: it calls `f` itself and does the subtraction and
    weighting in C when `f` returns a float64 vector of length m and every
    result is a finite normal number (or zero), so that NumPy would have had
    nothing to warn about; for anything else it hands what `f` returned to
    `finish`, which does the work with NumPy, warnings and errors included.
    """

    __slots__ = ("f", "xdata", "ydata", "w")

    def __init__(self, f: Callable[..., Any], xdata: Any, ydata: np.ndarray,
                 w: np.ndarray | None) -> None:
        self.f = f
        self.xdata = xdata
        self.ydata = ydata
        self.w = w

    def __call__(self, p: np.ndarray) -> np.ndarray:
        return self.finish(self.f(self.xdata, *p))

    def finish(self, value: Any) -> np.ndarray:
        """The residual from the model's output `value` at some p."""
        shape = self.ydata.shape
        d = value - self.ydata
        if d.__class__ is not np.ndarray or d.shape != shape:
            if getattr(d, "shape", None) != shape:
                raise ValueError(
                    f"the model function must return one value per data point, "
                    f"shape {shape} (or a scalar); f(xdata, *params) - ydata has "
                    f"shape {np.shape(d)}")
        return d if self.w is None else self.w * d

    def context(self) -> ModelContext:
        """The model for the trampoline: ydata and w as C-contiguous float64
        vectors of length m (w None when unweighted)."""
        m = self.ydata.shape[0]
        w = None if self.w is None else np.ascontiguousarray(
            np.broadcast_to(self.w, (m,)), dtype=np.float64)
        ydata = np.ascontiguousarray(self.ydata, dtype=np.float64)
        return new(ModelContext, (self.f, self.xdata, ydata, w))


class ModelJacobian:
    """curve_fit's unweighted Jacobian ``jac(xdata, *p)``.

    Called from Python like any Dfun; the trampoline recognises it (see
    jacobian_context) and calls `jac` itself, with p as NumPy scalars.
    """

    def __init__(self, jac: Callable[..., Any], xdata: Any) -> None:
        self.jac = jac
        self.xdata = xdata
        # leastsq names the function in its shape-mismatch message
        self.__name__ = getattr(jac, "__name__", "jac")

    def __call__(self, p: np.ndarray) -> Any:
        return self.jac(self.xdata, *p)


def residual_context(
    func: Callable[..., Any], args: tuple, m: int, errors: list,
    vectorized: bool = False,
) -> ResidualContext:
    """The context of a Python residual function `func`.

    The trampoline hands `func` a fresh copy of x (shape (n, 1), or (n, k)
    for a block of k points, when `vectorized`), copies a float64 result of
    length m straight into the Fortran buffer, sends anything else through
    ``check`` (which raises a clear error for what is not a vector of m real
    numbers), and puts any exception in `errors`, telling the solver to stop.

    For a :class:`ModelResidual` `func` (without args, not vectorized)
    ``model`` is its ``context()``: the trampoline then calls the model with
    x as NumPy scalars, and ``check`` takes the model's raw output.
    """
    if (type(func) is ModelResidual and not vectorized and not args
            and func.ydata.shape == (m,)):
        model = func

        def check_model(value: Any) -> np.ndarray:
            return residual_array(model.finish(value), m, "func")

        return new(ResidualContext, (func, (), m, errors, check_model, False, None,
                                     model.context()))
    if vectorized:
        def check(value: Any) -> np.ndarray:
            return vectorized_residuals(value, m, 1)[:, 0]
    else:
        def check(value: Any) -> np.ndarray:
            return residual_array(value, m, "func")

    def check_block(value: Any, k: int) -> np.ndarray:
        return vectorized_residuals(value, m, k)

    return new(ResidualContext, (func, tuple(args), m, errors, check, vectorized,
                                 check_block, None))


def jacobian_context(
    Dfun: Callable[..., Any], args: tuple, m: int, n: int, col_deriv: bool,
    errors: list, checker: str = "leastsq", argname: str = "Dfun",
) -> JacobianContext:
    """The context of a Python Jacobian `Dfun`.

    ``check`` turns anything but a float64 array of the expected shape into
    one, or raises SciPy's error (`checker` and `argname` name the function
    and argument in it). ``model`` is set for a :class:`ModelJacobian` `Dfun`
    without args (the trampoline then calls ``jac(xdata, *x)`` itself).
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

    model = (new(ModelJacobianContext, (Dfun.jac, Dfun.xdata))
             if type(Dfun) is ModelJacobian and not args else None)
    return new(JacobianContext,
               (Dfun, tuple(args), bool(col_deriv), errors, check, model))


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


def progress_context(
    callback: Callable[[Iteration], Any], errors: list, stopped: list,
    k: int | None = None,
) -> ProgressContext:
    """The per-iteration report the solver makes (MINPACK's nprint hook).

    ``StopIteration`` from `callback` ends the fit and is recorded in
    `stopped` (the iteration number); any other exception goes to `errors`.
    """
    count = [0]

    def report(nfev: int, x: np.ndarray, fvec: np.ndarray) -> int:
        count[0] += 1
        try:
            # x and fvec are fresh arrays (the trampoline's), the user's to keep
            callback(Iteration(x, fvec, nfev, count[0], k))
        except StopIteration:
            stopped.append(count[0])
            return 1
        except BaseException as exc:  # re-raised by the solver function
            errors.append(exc)
            return 1
        return 0

    return new(ProgressContext, (report, errors))
