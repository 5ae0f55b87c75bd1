"""Input checks shared by the solver functions, and the rules they share.

Each solver function validates its arguments once, here, with messages that
say what was wrong and what was expected; what passes is handed to the
Fortran glue as plain float64 arrays and C ints.
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any, NamedTuple

import numpy as np

from . import _minpack

F64 = np.dtype(np.float64)

# leastsq's ier (and curve_fit's) when the fit succeeded.
SUCCESS = (1, 2, 3, 4)


def default_maxfev(n: int, with_jac: bool) -> int:
    """MINPACK's default limit on function evaluations for n variables.

    200 (n + 1) with a difference Jacobian, 100 (n + 1) with an analytic one,
    at most 2**31 - 1: the library's own rule, which the solvers apply to a
    maxfev <= 0 (see minpack_capi.f90); asked here only for messages.
    """
    return _minpack.default_maxfev(n, int(with_jac))


def check_sizes(n: int, m: int) -> None:
    """MINPACK's improper input N > M, as the TypeError SciPy raises."""
    if n > m:
        raise TypeError(f"Improper input: func input vector length N={n} must"
                        f" not exceed func output vector length M={m}")


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
    (float64's for integer residuals).
    """
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


class Box(NamedTuple):
    """Bounds of a fit as the glue takes them: lower <= x <= upper."""

    lower: np.ndarray
    """float64, one per variable (-inf: none)."""
    upper: np.ndarray
    """float64, one per variable (+inf: none)."""
    active: np.ndarray
    """int32, written by the solver: -1 on the lower bound (or fixed), 1 on
    the upper, 0 free."""


def split_bounds(bounds: Any) -> tuple[Any, Any]:
    """(lb, ub) from a 2-sequence or an object with ``lb`` and ``ub``
    (``scipy.optimize.Bounds``).
    """
    if hasattr(bounds, "lb") and hasattr(bounds, "ub"):
        # (scipy.optimize.Bounds keeps a scalar bound as an array of one)
        return tuple(b.reshape(()) if np.ndim(b) == 1 and np.size(b) == 1 else b
                     for b in (np.asarray(bounds.lb), np.asarray(bounds.ub)))
    try:
        lb, ub = bounds
    except (TypeError, ValueError):
        raise ValueError(
            "bounds must be a 2-tuple (lb, ub), each a scalar or an array with one "
            "entry per parameter, or a scipy.optimize.Bounds instance; got "
            f"{describe(bounds)}") from None
    return lb, ub


def _bound_array(value: Any, n: int, name: str) -> np.ndarray:
    given = np.asarray(value)
    if given.dtype.kind not in "biuf":
        raise TypeError(f"bounds: {name} must be real numbers; got {describe(value)}")
    if given.ndim == 0:
        return np.full(n, float(given))
    a = np.array(given, dtype=np.float64)
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"bounds: {name} must be a scalar or have one entry per "
                         f"parameter (length {n}); got shape {given.shape}")
    return a


def _which(mask: np.ndarray, names: Any) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(names[i] if names is not None else f"x0[{i}]" for i in idx[:6])
    return shown + (f" and {idx.size - 6} more" if idx.size > 6 else "")


def as_bounds(bounds: Any, x: np.ndarray | None, n: int, *, names: Any = None,
              outside: str = "Initial guess is outside of provided bounds") -> Box | None:
    """Check `bounds` for n parameters starting at `x` and return the Box.

    None when there are no bounds (None, or every bound infinite): the fit is
    then MINPACK's own. `names` (a list of n strings) names the parameters in
    messages; `outside` starts the message for an `x` outside the box
    (SciPy's wording differs between curve_fit and least_squares).

    Raises
    ------
    ValueError
        For a malformed box: not a pair, the wrong length, a NaN bound, a
        lower bound above its upper bound; and for `x` outside the box.
    """
    if bounds is None:
        return None
    lb, ub = split_bounds(bounds)
    lower = _bound_array(lb, n, "the lower bounds")
    upper = _bound_array(ub, n, "the upper bounds")
    nan = np.isnan(lower) | np.isnan(upper)
    if nan.any():
        raise ValueError(f"bounds must not be NaN (use -inf or inf for no bound); "
                         f"NaN for {_which(nan, names)}")
    wrong = lower > upper
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise ValueError(f"bounds: each lower bound must be at most its upper bound "
                         f"(equal fixes the parameter); lower > upper for "
                         f"{_which(wrong, names)} (e.g. {float(lower[i])!r} > "
                         f"{float(upper[i])!r})")
    if not (np.any(lower > -np.inf) or np.any(upper < np.inf)):
        return None
    if x is not None:
        out = (x < lower) | (x > upper)
        if out.any():
            idx = np.flatnonzero(out)
            which = "; ".join(
                f"{names[i] if names is not None else f'x0[{i}]'} = {float(x[i])!r} "
                f"not in [{float(lower[i])!r}, {float(upper[i])!r}]" for i in idx[:6])
            more = f"; and {idx.size - 6} more" if idx.size > 6 else ""
            raise ValueError(f"{outside}: {which}{more}")
    return Box(lower, upper, np.zeros(n, dtype=np.int32))


def held_parameters(box: Box, fjac: np.ndarray, ipvt: np.ndarray) -> np.ndarray:
    """The parameters the bounded fit held at its end (a bool mask): on a
    bound (or fixed) with a zero column in the final Jacobian, as the engine
    leaves them. `fjac` is the solver's (m, n) R and Householder vectors,
    `ipvt` its 1-based permutation: column j of R is parameter ipvt[j] - 1.
    """
    n = ipvt.size
    held = np.zeros(n, dtype=bool)
    for j in range(n):
        p = ipvt[j] - 1
        held[p] = box.active[p] != 0 and not np.any(fjac[: j + 1, j])
    return held


def free_covariance(fjac: np.ndarray, ipvt: np.ndarray,
                    held: np.ndarray) -> np.ndarray | None:
    """(J^T J)^-1 over the free parameters, NaN in the rows and columns of the
    held ones; None when the free parameters' R is singular.

    The held columns are zero, so the pivoted QR puts them last: R's leading
    nf by nf block is the free parameters' own R (the same computation as the
    glue's ``free_covar`` for batches).
    """
    n = ipvt.size
    free = np.flatnonzero(~held)
    nf = free.size
    cov = np.full((n, n), np.nan)
    if nf == 0:
        return cov
    order = ipvt[:nf] - 1
    if held[order].any():  # a free column is zero too: singular
        return None
    rank = np.empty(n, dtype=np.int32)
    rank[free] = np.arange(1, nf + 1, dtype=np.int32)
    c, info = _minpack.covar(np.asfortranarray(fjac[:nf, :nf]), rank[order])
    if info != 0:
        return None
    cov[np.ix_(free, free)] = c
    return cov
