"""The Python callbacks the Fortran solvers call, and the input checks they share.

Each solver call builds its own closures here (no shared state, so calls may
nest and run in many threads). A closure hands the user a copy of ``x`` (theirs
to keep), writes the result straight into the Fortran buffer, and turns any
exception into a stop request (a non-zero status); the solver function
re-raises it once the Fortran call has returned, so nothing unwinds through
Fortran.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

F64 = np.dtype(np.float64)


def as_start(x0: Any, name: str = "x0") -> np.ndarray:
    """Return the starting point as a fresh 1-D float64 array.

    `name` is the argument's name in error messages.

    Raises
    ------
    TypeError
        If `x0` is not real-valued (complex, object, strings), or is empty
        (MINPACK's improper input N = 0).
    ValueError
        If `x0` holds a NaN or an infinity: no fit can start there.
    """
    if type(x0) is np.ndarray and x0.dtype == F64 and x0.ndim == 1 and x0.size:
        x = x0.copy()  # the common case, with the checks that apply to it
        if not all(map(math.isfinite, x.tolist())):
            raise ValueError(f"{name} must be finite; got "
                             f"{np.array2string(x, threshold=8)}")
        return x
    a = np.asarray(x0)
    if a.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must be real numbers (a scalar or an array of floats); "
            f"got an array of dtype {a.dtype}"
        )
    x = np.array(a, dtype=np.float64, order="C").reshape(-1)
    if x.size == 0:
        raise TypeError(f"Improper input: {name} is empty (shape {a.shape}); it "
                        f"needs one entry per variable")
    # a Python loop over floats is the cheapest test for small x, and unlike
    # x.dot(x) it cannot overflow (a numpy warning) for a huge finite x0
    if not all(map(math.isfinite, x.tolist())):
        raise ValueError(f"{name} must be finite; got {np.array2string(x, threshold=8)}")
    return x


def as_real(value: Any, name: str) -> float:
    """Return a real scalar argument (ftol, factor, ...) as a float.

    Raises TypeError for strings, complex numbers, None and arrays with more
    than one element, which f2py would otherwise convert or truncate.
    """
    if type(value) is float:  # the common case, without the ABC check
        return value
    if isinstance(value, numbers.Real) or (
            isinstance(value, np.ndarray) and value.ndim == 0
            and value.dtype.kind in "biuf"):
        return float(value)
    raise TypeError(f"{name} must be a real number; got {describe(value)}")


def as_maxfev(maxfev: Any) -> int:
    """Return `maxfev` as an int; 0 (SciPy's test is ``maxfev == 0``) stays 0."""
    if type(maxfev) is int and -2**31 <= maxfev < 2**31:  # the common case
        return maxfev
    if isinstance(maxfev, numbers.Real) and maxfev == 0:
        return 0
    try:
        value = operator.index(maxfev)
    except TypeError:
        raise TypeError(f"maxfev must be an integer; got {describe(maxfev)}") from None
    if value > 2**31 - 1:  # SciPy's exception, with a message that says why
        raise OverflowError(f"maxfev={value} does not fit in a C int (at most 2**31 - 1)")
    return value


_EPS = {np.dtype(t): float(np.finfo(t).eps) for t in (np.float16, np.float32,
                                                     np.float64, np.longdouble)}


def machine_epsilon(dtype: np.dtype) -> float:
    """SciPy's default epsfcn: the machine epsilon of the residuals' dtype
    (float64's for integer residuals)."""
    eps = _EPS.get(dtype)
    return _EPS[F64] if eps is None else eps


def first_point(x: np.ndarray, x0: Any) -> tuple[np.ndarray, bool]:
    """The point of the one evaluation at x0, and whether MINPACK may reuse it.

    SciPy evaluates `func` at `x0` in x0's own dtype to learn the residuals'
    dtype (which sets the default epsfcn), then lets MINPACK evaluate at x0
    in float64. When x0 is float64, integer or a Python number the two are
    the same evaluation, so we make it once (a fresh float64 copy) and hand
    it to MINPACK. Only for another float dtype (float32, ...) do the two
    differ; then we call at x0 in that dtype, as SciPy does, and MINPACK
    makes its own first evaluation (one call more than nfev).
    """
    dtype = getattr(x0, "dtype", None)
    if dtype is None or dtype == F64 or dtype.kind != "f":
        return x.copy(), True
    return np.array(x0).reshape(-1), False


def as_diag(diag: Any, n: int) -> tuple[int, np.ndarray]:
    """Return MINPACK's (mode, diag) for the `diag` argument."""
    if diag is None:  # mode 1: MINPACK sets diag itself, never reading it
        return 1, np.zeros(n)
    given = np.asarray(diag)
    if given.dtype.kind not in "biuf":
        raise TypeError(f"diag must be real numbers; got an array of dtype {given.dtype}")
    d = np.array(given, dtype=np.float64).reshape(-1)
    if given.ndim > 1 or d.shape != (n,):
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


class ModelResidual:
    """curve_fit's residual ``w * (f(xdata, *p) - ydata)`` (unweighted if `w` is None).

    Called from Python like any residual function. ``_trampoline.c`` also
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

    def context(self) -> tuple:
        """``(f, xdata, ydata, w)`` for the trampoline: ydata and w as
        C-contiguous float64 vectors of length m (w None when unweighted)."""
        m = self.ydata.shape[0]
        w = None if self.w is None else np.ascontiguousarray(
            np.broadcast_to(self.w, (m,)), dtype=np.float64)
        return (self.f, self.xdata, np.ascontiguousarray(self.ydata, dtype=np.float64), w)


class ModelJacobian:
    """curve_fit's unweighted Jacobian ``jac(xdata, *p)``.

    Called from Python like any Dfun; ``_trampoline.c`` recognises it (see
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
) -> tuple:
    """The residual callback of a fit, for ``_trampoline.c``.

    The Fortran solver calls the C function ``minpack_py_residual`` with the
    address of this tuple, ``(func, args, m, errors, check, vectorized,
    check_block, model)``; it hands `func` a fresh copy of x (shape (n, 1),
    or (n, k) for a block of k points, when `vectorized`), copies a float64
    result of length m straight
    into the Fortran buffer, sends anything else through ``check`` (which
    raises a clear error for what is not a vector of m real numbers), and
    puts any exception in `errors`, telling the solver to stop. The caller
    must keep the tuple alive for the whole solver call.

    `model` is None, or for a :class:`ModelResidual` `func` (without args,
    not vectorized) its ``context()``: the trampoline then calls the model
    with x as NumPy scalars, and `check` takes the model's raw output.
    """
    if (type(func) is ModelResidual and not vectorized and not args
            and func.ydata.shape == (m,)):
        model = func

        def check_model(value: Any) -> np.ndarray:
            return residual_array(model.finish(value), m, "func")

        return (func, (), m, errors, check_model, False, None, model.context())
    if vectorized:
        def check(value: Any) -> np.ndarray:
            return vectorized_residuals(value, m, 1)[:, 0]
    else:
        def check(value: Any) -> np.ndarray:
            return residual_array(value, m, "func")

    def check_block(value: Any, k: int) -> np.ndarray:
        return vectorized_residuals(value, m, k)

    return (func, tuple(args), m, errors, check, vectorized, check_block, None)


def jacobian_context(
    Dfun: Callable[..., Any], args: tuple, m: int, n: int, col_deriv: bool,
    errors: list, checker: str = "leastsq", argname: str = "Dfun",
) -> tuple:
    """The Jacobian callback of a fit, for ``_trampoline.c``.

    The Fortran solver calls ``minpack_py_jacobian`` with the address of this
    tuple, ``(Dfun, args, col_deriv, errors, check, model)``. `check` turns
    anything but a float64 array of the expected shape into one, or raises
    SciPy's error (`checker` and `argname` name the function and argument in
    it). `model` is ``(jac, xdata)`` for a :class:`ModelJacobian` `Dfun`
    without args (the trampoline then calls ``jac(xdata, *x)`` itself), else
    None. The caller must keep the tuple alive for the whole solver call.
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

    model = ((Dfun.jac, Dfun.xdata) if type(Dfun) is ModelJacobian and not args
             else None)
    return (Dfun, tuple(args), bool(col_deriv), errors, check, model)


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
            # x and fvec are fresh arrays (the trampoline's), the user's to keep
            callback(Iteration(x, fvec, nfev, count[0], k))
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
