"""Bad input, generated: every public function against hypothesis.

Each test draws a small, well-posed fitting problem, spoils it with zero to
three *mutations* (a wrong shape, dtype or value of an argument, or a callable
that misbehaves: returns the wrong thing, raises, changes its output length,
takes the wrong number of arguments), calls minpack and, where SciPy has the
same function, ``scipy.optimize`` with identical inputs, and checks the
contract of issue 7:

* minpack either returns, or raises

  - the exception the user's callable raised, unchanged (SciPy then raises the
    same type),
  - a TypeError or ValueError of its own whose message names the argument
    (what was given and what was expected are in the message too; the
    ``MESSAGES`` test below pins a few exactly),
  - the RuntimeError ``curve_fit`` raises for a failed fit, or SciPy's
    OverflowError for a ``maxfev`` beyond a C int;

  never anything else (no IndexError, AttributeError, ... from our code);
* a successful ``ier`` (1-4, or 1 for ``fsolve``) never comes with a
  non-finite ``x``;
* every fit ends within ``maxfev`` evaluations plus one Jacobian (the
  callables count their calls) and ``infodict['nfev']`` is the number of
  calls;
* the caller's arrays are left untouched; the arrays returned share memory
  neither with the inputs nor with one another; an ``x`` a callable kept is
  never changed afterwards;
* no warning but the documented ones (RuntimeWarning for ``ier`` 5-8,
  OptimizeWarning for an unknown covariance);
* where the inputs are clean (finite, stateless callables) and both libraries
  return, minpack's ``ier``, ``nfev`` and ``x`` are SciPy's (or, where the
  Jacobian loses rank at the solution and rounding steers the last steps,
  the residual norms agree: counted separately as "equivalent"); where one
  returns and the other raises, the mutation must be one of the documented
  deliberate differences (``STRICTER`` and ``LENIENT`` below);
* leastsq_batch: row k is exactly leastsq's fit of problem k; compiled
  residuals (numba) give the Python path's fit.

Issues these tests found that are not fixed yet are listed in
``KNOWN_ISSUES``, and tolerated exactly where they show.

Profiles: ``ci`` (default, derandomized: the same 5,000 cases per function on
every run) and ``long`` (random, 200,000 cases per function), chosen with the
environment variable ``HYPOTHESIS_PROFILE``, e.g.::

    HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz.py

The number of cases run is printed in the test summary.
"""

from __future__ import annotations

import ctypes
import inspect
import os
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import scipy.optimize as so
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minpack

settings.register_profile(
    "ci", max_examples=5000, deadline=None, database=None, derandomize=True,
    suppress_health_check=list(HealthCheck), print_blob=True)
settings.register_profile(
    "long", max_examples=200_000, deadline=None, database=None,
    suppress_health_check=list(HealthCheck), print_blob=True)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
FUZZ = settings(settings.get_profile(PROFILE))

SUCCESS = (1, 2, 3, 4)
# A callable called this often is in an endless loop: stop it (the largest
# legitimate count here is below 2,000).
RUNAWAY_CALLS = 20_000


class Boom(Exception):
    """Raised on purpose by a misbehaving callable."""


class Runaway(Exception):
    """A callable was called far more often than maxfev allows."""


# --------------------------------------------------------------------------
# The well-behaved problem: works for any number of parameters n >= 0, so a
# wrongly sized x0 still gets residuals and the solver's reaction is tested.


def model_residual(p: np.ndarray, t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """exp(-t * sum_j p_j / (j + 1)) + sum_j p_j t^(j+1) - y."""
    p = np.asarray(p, dtype=np.float64).reshape(-1)
    k = np.arange(p.size)
    s = t * np.dot(p, 1.0 / (k + 1.0))
    powers = t[:, None] ** (k + 1.0)
    return np.exp(-s) + powers @ p - y


def model_jacobian(p: np.ndarray, t: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64).reshape(-1)
    k = np.arange(p.size)
    s = t * np.dot(p, 1.0 / (k + 1.0))
    return (-t * np.exp(-s))[:, None] / (k + 1.0) + t[:, None] ** (k + 1.0)


# --------------------------------------------------------------------------
# Misbehaving callables.

# What a residual function returns instead of its residual vector v.
RESIDUAL_KINDS = {
    "ok": lambda v: v,
    "list": lambda v: v.tolist(),
    "tuple": lambda v: tuple(v.tolist()),
    "float32": lambda v: v.astype(np.float32),
    "int": lambda v: np.round(v * 100).astype(np.int64),
    "bool": lambda v: v > 0,
    "nan": lambda v: np.full_like(v, np.nan),
    "inf": lambda v: np.full_like(v, np.inf),
    "nan1": lambda v: np.where(np.arange(v.size) == 0, np.nan, v),
    "-inf1": lambda v: np.where(np.arange(v.size) == v.size - 1, -np.inf, v),
    "huge": lambda v: v * 1e300,
    "none": lambda v: None,
    "str": lambda v: "residuals",
    "dict": lambda v: {"r": v},
    "complex": lambda v: v + 0j,
    "complex1j": lambda v: v + 1j,
    "object": lambda v: v.astype(object),
    "object-none": lambda v: np.array([None] * v.size),
    "ragged": lambda v: [v.tolist(), [1.0]],
    "row": lambda v: v.reshape(1, -1),
    "3d": lambda v: v.reshape(1, 1, -1),
    "empty": lambda v: np.zeros(0),
    "short": lambda v: v[:-1],
    "long": lambda v: np.append(v, 0.5),
    "scalar": lambda v: float(v.sum()),
}
# ... and a Jacobian function instead of its (m, n) matrix J.
JACOBIAN_KINDS = {
    "ok": lambda J: J,
    "list": lambda J: J.tolist(),
    "T": lambda J: J.T,
    "fortran": lambda J: np.asfortranarray(J),
    "float32": lambda J: J.astype(np.float32),
    "int": lambda J: np.round(J * 10).astype(np.int64),
    "drop-col": lambda J: J[:, :-1],
    "drop-row": lambda J: J[:-1],
    "extra-col": lambda J: np.hstack([J, J[:, :1]]),
    "flat": lambda J: J.ravel(),
    "3d": lambda J: J[None],
    "scalar": lambda J: 1.0,
    "nan": lambda J: np.full_like(J, np.nan),
    "inf": lambda J: np.full_like(J, np.inf),
    "nan1": lambda J: np.where(np.arange(J.size).reshape(J.shape) == 0, np.nan, J),
    "none": lambda J: None,
    "str": lambda J: "jacobian",
    "complex": lambda J: J + 0j,
    "object": lambda J: J.astype(object),
    "ragged": lambda J: [[1.0, 2.0], [3.0]],
}
# Kinds whose output is garbage numbers rather than a wrong type or shape.
RESIDUAL_NAMES = ("ok", *sorted(set(RESIDUAL_KINDS) - {"ok"}), "raise")
JACOBIAN_NAMES = ("ok", *sorted(set(JACOBIAN_KINDS) - {"ok"}), "raise")
NONFINITE_KINDS = {"nan", "inf", "nan1", "-inf1", "huge"}
# Kinds that hand over the same numbers in another container: the callable
# stays the same function whenever it starts doing so.
SAME_VALUES_KINDS = {"ok", "list", "tuple", "fortran"}


def stateless(kind: str, start: int) -> bool:
    """Whether the callable computes the same function at every call (so SciPy,
    which calls it a different number of times, sees the same function)."""
    return kind in SAME_VALUES_KINDS or start == 1


def finite(kind: str) -> bool:
    return kind not in NONFINITE_KINDS


class UserCallable:
    """A residual or Jacobian function that may misbehave from call `start` on.

    It counts its calls, keeps the first few `x` it was given (with a copy,
    to check later that the solver did not write into them), and records the
    exception it raised.
    """

    def __init__(self, core: Any, kind: str, start: int, name: str,
                 kinds: dict) -> None:
        self.core = core
        self.kind = kind
        self.start = start
        self.kinds = kinds
        self.calls = 0
        self.kept: list = []
        self.raised: BaseException | None = None
        self.__name__ = name

    def __call__(self, p: Any, *args: Any) -> Any:
        self.calls += 1
        if self.calls > RUNAWAY_CALLS:
            raise Runaway(f"{self.__name__} called {self.calls} times")
        if len(self.kept) < 6 and isinstance(p, np.ndarray):
            self.kept.append((p, p.copy()))
        with np.errstate(all="ignore"):
            value = self.core(p, *args)
            if self.calls < self.start:
                return value
            if self.kind == "raise":
                self.raised = Boom(f"{self.__name__} raised at call {self.calls}")
                raise self.raised
            return self.kinds[self.kind](np.asarray(value))

    def check_kept(self) -> None:
        for handed, copy in self.kept:
            assert np.array_equal(handed, copy, equal_nan=True), (
                f"an x handed to {self.__name__} was changed after the call")


class WrongArity:
    """Wraps a callable behind a signature that takes too few or too many
    positional arguments: calling it raises Python's own TypeError."""

    def __init__(self, inner: UserCallable, extra: int) -> None:
        self.inner = inner
        self.calls = 0
        self.__name__ = inner.__name__
        if extra < 0:
            self.call = self.takes_nothing
        else:
            self.call = self.takes_one_more

    def takes_nothing(self) -> Any:  # pragma: no cover - never runs
        raise AssertionError("called without arguments")

    def takes_one_more(self, p: Any, *args: Any, required: Any) -> Any:
        raise AssertionError("called with a keyword-only argument")  # pragma: no cover

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        return self.call(*args)


# --------------------------------------------------------------------------
# Drawing. Strategies are built once: building one per draw costs more than
# the fits. `pick` draws an index (shrinking towards the first option).

_INDEX: dict = {}


def pick(draw: Any, options: Any) -> Any:
    k = len(options)
    if k not in _INDEX:
        _INDEX[k] = st.integers(0, k - 1)
    return options[draw(_INDEX[k])]


BOOLEANS = st.booleans()
UNIT_FLOATS = st.floats(-1, 1)
# Values for ftol, xtol, gtol, factor, epsfcn: legal, odd and illegal.
BAD_REALS = st.one_of(
    st.sampled_from([0.0, -1.0, -1e-8, np.nan, np.inf, -np.inf, 1e300, 5e-324,
                     0, 1, True, np.float32(1e-4), np.float64(1e-6),
                     np.int64(1), np.array(1e-6)]),
    st.sampled_from(["1e-8", None, 1j, 1e-6 + 0j, [1e-8], np.array([1e-8]),
                     np.array([1e-8, 1e-8]), (1e-8,), object()]),
    st.floats(allow_nan=True, allow_infinity=True),
)
BAD_MAXFEVS = st.one_of(
    st.sampled_from([0, -1, -1000, 1, 2, 3, True, False, np.int64(7),
                     np.int32(5), 0.0, 5.0, 10.5, np.float64(20.0), "20",
                     None, 2**31 - 1, 2**31, 2**40, -2**40, 1j, [5],
                     np.array(5)]),
    st.integers(-3, 40),
)


def _with_first(base: np.ndarray, value: float) -> np.ndarray:
    out = np.array(base, dtype=np.float64)
    if out.size:
        out.reshape(-1)[0] = value
    return out


# Arrays like `base` with odd dtypes or values.
ODD_ARRAYS = {
    "float32": lambda b: b.astype(np.float32),
    "int64": lambda b: b.astype(np.int64),
    "bool": lambda b: b > 0.5,
    "complex": lambda b: b.astype(np.complex128),
    "complex1j": lambda b: b.astype(np.complex128) + 1j,
    "object": lambda b: b.astype(object),
    "none": lambda b: np.full(b.shape, None),
    "str": lambda b: np.full(b.shape, "a"),
    "list": lambda b: b.tolist(),
    "fortran": lambda b: np.asfortranarray(b),
    "nan": lambda b: _with_first(b, np.nan),
    "inf": lambda b: _with_first(b, np.inf),
    "-inf": lambda b: _with_first(b, -np.inf),
    "zero": lambda b: _with_first(b, 0.0),
    "negative": lambda b: _with_first(b, -1.0),
    "huge": lambda b: _with_first(b, 1e300),
    "-huge": lambda b: _with_first(b, -1e300),
    "denormal": lambda b: _with_first(b, 5e-324),
}
ODD_ARRAY_NAMES = tuple(ODD_ARRAYS)
# Odd arrays that hold the same finite real numbers as `base`.
SAME_NUMBERS = {"float32", "int64", "list", "fortran", "object"}


def odd_array(draw: Any, base: np.ndarray) -> tuple[str, Any]:
    kind = pick(draw, ODD_ARRAY_NAMES)
    with np.errstate(all="ignore"):  # casting NaN to int is the point
        return kind, ODD_ARRAYS[kind](np.asarray(base, dtype=np.float64))


def wrong_shape(draw: Any, n: int, nonempty: bool = False) -> Any:
    """An array whose shape is not (n,) (with at least one element if `nonempty`)."""
    shapes = [(n + 1,), (1, n), (n, 1), (n, n), (1, 1, n), (), (2, n)]
    if n > 1:
        shapes.append((n - 1,))
    if not nonempty:
        shapes += [(0,), "ragged"]
    shape = pick(draw, shapes)
    if shape == "ragged":
        return [[1.0] * n, [1.0]]
    return np.ones(shape)


# --------------------------------------------------------------------------
# Running one call and checking the contract.


@dataclass
class Outcome:
    value: Any = None
    exc: BaseException | None = None
    warnings: list = field(default_factory=list)

    @property
    def raised(self) -> bool:
        return self.exc is not None


def run(fn: Any, *args: Any, **kwargs: Any) -> Outcome:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = fn(*args, **kwargs)
        except (Runaway, AssertionError):
            raise
        except Exception as exc:  # classified by the caller
            return Outcome(exc=exc, warnings=list(caught))
    return Outcome(value=value, warnings=list(caught))


# The line of `run` that calls the function under test.
RUN_CALL_LINE = next(
    run.__code__.co_firstlineno + i
    for i, line in enumerate(inspect.getsource(run).splitlines())
    if "value = fn(*args, **kwargs)" in line)


def arrays_in(obj: Any) -> list:
    """Every ndarray inside a result (tuples, lists, dicts, BatchResult)."""
    if isinstance(obj, np.ndarray):
        return [obj] if obj.dtype != object else [obj]
    if isinstance(obj, (tuple, list)):
        return [a for item in obj for a in arrays_in(item)]
    if isinstance(obj, dict):
        return [a for item in obj.values() for a in arrays_in(item)]
    if isinstance(obj, minpack.BatchResult):
        return arrays_in([obj.x, obj.ier, obj.nfev, obj.njev, obj.fnorm, obj.cov_x,
                          obj.fvec])
    return []


def snapshot(objs: list) -> list:
    """Deep copies of the caller's arrays (and of arrays inside lists/tuples)."""
    return [(a, np.array(a, copy=True)) for obj in objs for a in arrays_in(obj)]


def assert_untouched(snap: list) -> None:
    for original, copy in snap:
        if original.dtype.kind in "fc":
            same = np.array_equal(original, copy, equal_nan=True)
        else:
            same = original.shape == copy.shape and (original == copy).all()
        assert same, "the caller's array was modified"


def assert_no_aliasing(result: Any, inputs: list) -> None:
    outs = [a for a in arrays_in(result) if a.size]
    ins = [a for obj in inputs for a in arrays_in(obj) if a.size]
    for i, a in enumerate(outs):
        for b in outs[i + 1:]:
            assert not np.shares_memory(a, b), "two returned arrays share memory"
        for b in ins:
            assert not np.shares_memory(a, b), (
                "a returned array shares the input's memory")


def from_user_code(exc: BaseException) -> bool:
    """Whether `exc` was raised inside one of this module's callables (or by
    Python calling one with the wrong arguments)."""
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame.f_code is run.__code__:
        tb = tb.tb_next  # the harness's own frame, where the error was caught
    last = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename == __file__ or "/minpack/" in filename:
            last = filename
        tb = tb.tb_next
    return last == __file__


def from_user_callable(w: warnings.WarningMessage) -> bool:
    """Whether a warning came from this module's callables (numpy's warnings
    in the model), not from minpack: minpack's own warnings name the caller
    (stacklevel 2), which is the call in `run`."""
    return w.filename == __file__ and w.lineno != RUN_CALL_LINE


ALLOWED_WARNINGS = (
    "umber of calls to function has reached",
    "is too small",
    "The iteration is not making good progress",
    "Covariance of the parameters could not be estimated",
)


def assert_documented_warnings(outcome: Outcome, ref: Outcome | None = None,
                               spec: Spec | None = None) -> None:
    """Only the documented warnings, or those SciPy gives for the same call
    (e.g. numpy's ComplexWarning when curve_fit converts complex data).

    Known exceptions: see KNOWN_ISSUES.
    """
    scipy_gave = set() if ref is None else {
        (w.category, str(w.message)) for w in ref.warnings}
    for w in outcome.warnings:
        text = str(w.message)
        if (w.category, text) in scipy_gave or from_user_callable(w):
            continue  # SciPy's too, or the user's callable's own
        if (spec is not None and spec.function == "curve_fit"
                and w.category is RuntimeWarning
                and ("encountered in matmul" in text and spec.has("sigma")
                     or " encountered in " in text and not spec.clean)):
            continue  # known: see KNOWN_ISSUES
        if (spec is not None and not spec.clean and spec.function == "leastsq_batch"
                and w.category is RuntimeWarning and "overflow encountered" in text):
            continue  # known: see KNOWN_ISSUES
        assert issubclass(w.category, (RuntimeWarning, UserWarning)) and any(
            s in text for s in ALLOWED_WARNINGS), (
            f"unexpected warning {w.category.__name__}: {text}")


@dataclass
class Spec:
    """A generated call: what was mutated, and what error messages may name."""

    function: str
    mutations: list = field(default_factory=list)  # (argument, kind)
    names: set = field(default_factory=set)  # acceptable in our error messages
    clean: bool = True  # finite inputs and stateless callables

    def mutate(self, argument: str, kind: str, *names: str, clean: bool = False):
        self.mutations.append((argument, kind))
        self.names.update(names or (argument,))
        if not clean:
            self.clean = False

    def has(self, argument: str, kind: str | None = None) -> bool:
        return any(a == argument and (kind is None or k == kind)
                   for a, k in self.mutations)


# Mutations where minpack raises a clear error but SciPy returns: SciPy's
# behaviour there is undefined or silently wrong.
STRICTER = {
    ("diag", "length"): "SciPy reads N entries of a diag of any length: a short "
                        "one is read past its end",
    ("diag", "shape"): "SciPy flattens or reads a diag of the wrong shape",
    ("ydata", "scalar"): "curve_fit: SciPy broadcasts a scalar ydata",
    ("xdata", "shape"): "curve_fit: SciPy broadcasts a model output that does not "
                        "match ydata point for point; minpack says so",
    ("ydata", "shape"): "(as for xdata)",
    ("xdata", "2d"): "(as for xdata)",
    ("ydata", "2d"): "curve_fit: ydata must be 1-D",
    ("f", "long"): "curve_fit with one data point: SciPy broadcasts ydata to "
                   "the model's output; minpack wants one value per point",
    ("f", "short"): "(as for a longer one)",
    ("jac", "drop-row"): "curve_fit: SciPy's sigma weighting broadcasts a "
                         "one-row Jacobian to every row; minpack says its shape "
                         "is wrong",
    ("nan_policy", "invalid"): "curve_fit: SciPy checks nan_policy only when "
                               "check_finite is False",
    ("ydata", "object"): "curve_fit: SciPy turns ydata=None into a NaN and fits it",
    ("band", "value"): "SciPy truncates a float band width",
    ("func", "none"): "SciPy converts None to a NaN residual",
    ("func", "object-none"): "SciPy converts None to a NaN residual",
}
# Mutations where minpack returns but SciPy raises an unhelpful error.
LENIENT = {
    ("x0", "bool"): "SciPy fails on numpy's boolean negative; minpack treats "
                    "booleans as 0/1 as numpy's float conversion does",
    ("diag", "scalar"): "a scalar diag is accepted for N = 1",
    ("jac", "T"): "curve_fit, one parameter or one point: a (1, M) Jacobian is "
                  "taken in order, as leastsq does; SciPy's sigma weighting "
                  "broadcasts it to (M, M) and fails",
    ("jac", "flat"): "(as for a transposed one)",
    ("col_deriv", "value"): "curve_fit: jac with col_deriv=True is weighted by "
                            "sigma correctly; SciPy's weighting fails (its "
                            "docstring difference)",
}


def same_error(ours: Outcome, ref: Outcome | None) -> bool:
    """Whether minpack raised exactly SciPy's exception (type and message)."""
    return (ref is not None and ref.raised and type(ours.exc) is type(ref.exc)
            and str(ours.exc) == str(ref.exc))


# SciPy's errors for MINPACK's info = 0, where an argument is out of range.
IMPROPER = ("Improper input parameters.", "Improper input parameters were entered.")
RANGE_CHECKED = {"ftol", "xtol", "gtol", "factor", "diag", "maxfev", "epsfcn"}


def improper(spec: Spec, exc: BaseException) -> bool:
    """SciPy's TypeError for MINPACK's improper input, where an argument that
    MINPACK range-checks was mutated. (SciPy may raise another error first,
    as it calls the callables before MINPACK looks at the arguments.)"""
    return (type(exc) is TypeError and str(exc) in IMPROPER
            and any(a in RANGE_CHECKED for a, _ in spec.mutations))


def scipy_subtraction(spec: Spec, exc: BaseException) -> bool:
    """curve_fit's ``f(xdata, *p) - ydata`` on a model result that is not
    numbers of the right shape: the error SciPy raises from the same
    subtraction, message and all (compared directly where the callable is
    stateless)."""
    return (spec.function == "curve_fit"
            and isinstance(exc, (TypeError, ValueError)) and str(exc).startswith(
                ("unsupported operand type(s) for -: ",
                 "operands could not be broadcast together",
                 "setting an array element with a sequence")))


def check_common(spec: Spec, ours: Outcome, callables: list, inputs: list,
                 snap: list, ref: Outcome | None = None) -> None:
    """The part of the contract that holds whatever SciPy does; an error
    identical to SciPy's (`ref`) is SciPy's behaviour, and accepted."""
    assert_untouched(snap)
    for c in callables:
        if isinstance(c, UserCallable):
            c.check_kept()
    assert_documented_warnings(ours, ref, spec)
    if ours.raised:
        exc = ours.exc
        raised_by_user = [c.raised for c in callables
                          if isinstance(c, UserCallable) and c.raised is not None]
        if isinstance(exc, Boom):
            assert raised_by_user and exc is raised_by_user[0], (
                "a callable's exception was not re-raised unchanged")
        elif (from_user_code(exc) or same_error(ours, ref) or improper(spec, exc)
              or scipy_subtraction(spec, exc)):
            pass  # the user's own error, or SciPy's
        elif isinstance(exc, (TypeError, ValueError)):
            msg = str(exc)
            assert spec.names and any(name in msg for name in spec.names), (
                f"{type(exc).__name__} does not name the argument "
                f"(any of {sorted(spec.names)}): {msg!r}; mutations {spec.mutations}")
        elif isinstance(exc, RuntimeError):
            assert str(exc).startswith(("Optimal parameters not found: ",
                                        "The compiled func")), str(exc)
        elif isinstance(exc, OverflowError):
            assert spec.has("maxfev") or spec.has("m"), repr(exc)
        else:
            raise AssertionError(
                f"minpack raised {type(exc).__name__}: {exc}; mutations "
                f"{spec.mutations}") from exc
    else:
        assert_no_aliasing(ours.value, inputs)


def check_against_scipy(spec: Spec, ours: Outcome, ref: Outcome) -> None:
    """Where SciPy defines the behaviour, minpack's is the same."""
    deliberate = any(m in STRICTER or m in LENIENT for m in spec.mutations)
    # MINPACK rejects an out-of-range argument before calling anything; SciPy
    # calls the callables first and may fail on them instead.
    deliberate |= (not ours.raised and returned_ier(ours) == 0
                   and any(a in RANGE_CHECKED for a, _ in spec.mutations))
    # Where SciPy answers "improper input" (ier 0), minpack may name the
    # actual problem instead (checked by check_common).
    deliberate |= (ours.raised and not ref.raised and returned_ier(ref) == 0
                   and isinstance(ours.exc, (TypeError, ValueError)))
    if ours.raised and not ref.raised:
        assert deliberate or not spec.clean or isinstance(ours.exc, Boom), (
            f"minpack raised {type(ours.exc).__name__}({ours.exc}) where SciPy "
            f"returns; mutations {spec.mutations}")
    if ref.raised and not ours.raised and spec.clean:
        assert deliberate or not isinstance(ref.exc, (TypeError, ValueError)), (
            f"SciPy raised {type(ref.exc).__name__}({ref.exc}) where minpack "
            f"returns; mutations {spec.mutations}")
    if (ours.raised and ref.raised and spec.clean and from_user_code(ours.exc)
            and from_user_code(ref.exc) and not deliberate):
        assert type(ours.exc) is type(ref.exc), (ours.exc, ref.exc)


def returned_ier(out: Outcome) -> int | None:
    """The ier of a returned (x, ..., ier) tuple (fsolve: (x, info, ier, msg))."""
    value = out.value
    if isinstance(value, tuple) and len(value) == 4:
        return value[2]
    if isinstance(value, tuple) and isinstance(value[-1], (int, np.integer)):
        return int(value[-1])
    return None


# Found by these tests, reported, not yet fixed (beyond input checks); the
# tests tolerate exactly these.
KNOWN_ISSUES = {
    "curve_fit-matmul-warning": "curve_fit with a 2-D sigma multiplies the "
        "residuals by inv(L) with numpy, which warns 'invalid value "
        "encountered in matmul' when a residual is inf (a trial step where "
        "the model overflows is enough)",
    "curve_fit-numpy-warnings": "curve_fit weights residuals and Jacobians and "
        "scales pcov with numpy: with zero, NaN or inf weights or residuals "
        "(e.g. fvec**2 overflowing near 1e300) numpy warns from minpack's "
        "code",
    "rank-deficient-steps": "leastsq and SciPy part ways (the first differing "
        "evaluation is a trial step) where the Jacobian loses rank: the "
        "iterates agree to the last bit until then",
    "batch-fnorm-overflow": "leastsq_batch with Python callables computes "
        "fnorm as sqrt(dot(fvec, fvec)): inf (and a numpy overflow warning) "
        "for residuals near 1e300, where the compiled path's enorm is finite",
}


# Effective maxfev: SciPy's default for 0 (and, in minpack, for negatives).
def effective_maxfev(maxfev: Any, n: int, with_jac: bool) -> int | None:
    try:
        value = int(maxfev)
    except (TypeError, ValueError, OverflowError):
        return None
    if value <= 0:
        return (100 if with_jac else 200) * (n + 1)
    return value


# --------------------------------------------------------------------------
# leastsq


def draw_problem(draw: Any, n_max: int = 3, m_max: int = 8,
                 square: bool = False) -> dict:
    """A small problem of the model above: n parameters, m >= n residuals
    (m = n if `square`), exact data y and a start x0 near the solution."""
    n = pick(draw, range(1, n_max + 1))
    m = n if square else pick(draw, range(n, m_max + 1))
    t = np.linspace(0.2, 1.0, m)
    p_true = np.array([2 * draw(UNIT_FLOATS) for _ in range(n)])
    y = model_residual(p_true, t, np.zeros(m))
    x0 = p_true + np.array([draw(UNIT_FLOATS) for _ in range(n)])
    return {"n": n, "m": m, "t": t, "y": y, "x0": x0}


LEASTSQ_MUTATIONS = ("x0", "args", "diag", "ftol", "xtol", "gtol", "factor",
                     "epsfcn", "maxfev", "func", "Dfun", "col_deriv", "arity",
                     "callable")
LEASTSQ_MUTATION_LISTS = st.lists(st.sampled_from(LEASTSQ_MUTATIONS), max_size=3)


@st.composite
def leastsq_cases(draw: Any) -> tuple:
    prob = draw_problem(draw)
    t, y = prob["t"], prob["y"]
    spec = Spec("leastsq")
    call: dict = {"x0": prob["x0"], "args": (y,), "full_output": draw(BOOLEANS)}
    behaviour = {"func": ("ok", 1), "Dfun": None, "arity": None,
                 "callable": None}
    if draw(BOOLEANS):
        behaviour["Dfun"] = ("ok", 1)
        call["col_deriv"] = draw(BOOLEANS)
    # Reasonable limits keep the NaN cases (which run to maxfev) fast.
    call["maxfev"] = pick(draw, [0, 50, 200])
    for what in draw(LEASTSQ_MUTATION_LISTS):
        mutate_leastsq(draw, what, spec, call, behaviour, prob)
    tame(spec, call)
    return spec, call, behaviour, t


def mutate_leastsq(draw: Any, what: str, spec: Spec, call: dict, behaviour: dict,
                   prob: dict, jac: str = "Dfun") -> None:
    """Apply the mutation `what` to a leastsq (or fsolve: `jac` = 'fprime') call."""
    n, m = prob["n"], prob["m"]
    if what == "x0":
        kind = pick(draw, ["shape", "dtype", "empty", "bool", "scalar"])
        if kind == "shape":
            call["x0"] = wrong_shape(draw, n, nonempty=True)
            # (fsolve: an x0 of the wrong length shows as func's output shape)
            spec.mutate("x0", "shape", "x0", "N=", "M=", "func", clean=True)
        elif kind == "empty":
            call["x0"] = np.zeros(0)
            spec.mutate("x0", "empty", "x0", "N=", clean=True)
        elif kind == "bool":
            call["x0"] = prob["x0"] > 0
            spec.mutate("x0", "bool", "x0", clean=True)
        elif kind == "scalar":
            call["x0"] = pick(draw, [0.5, np.float64(0.5), 1, "a", None])
            spec.mutate("x0", "scalar", "x0", "N=", "M=", "func", clean=True)
        else:
            kind, call["x0"] = odd_array(draw, prob["x0"])
            spec.mutate("x0", "dtype", "x0", clean=kind in SAME_NUMBERS)
    elif what == "args":
        args = call["args"]
        y = args[0] if isinstance(args, tuple) and args else None
        kind = pick(draw, ["bare", "list", "extra", "none", "shape", "values"])
        if kind == "bare" and y is not None:
            call["args"] = y  # not a tuple: wrapped as (y,), as SciPy does
            spec.mutate("args", "bare", "args", "func", "M=", clean=True)
        elif kind == "list" and y is not None:
            call["args"] = [y]  # a list: a single argument, as SciPy does
            spec.mutate("args", "list", "args", "func", "M=", clean=True)
        elif kind == "extra":
            call["args"] = (*call["args"], 1.0) if isinstance(call["args"], tuple) \
                else (call["args"], 1.0)
            spec.mutate("args", "extra", clean=True)
        elif kind == "none":
            call["args"] = ()
            spec.mutate("args", "none", clean=True)
        elif kind == "shape":
            call["args"] = (wrong_shape(draw, m),)
            # (residuals of another length may show as a Jacobian mismatch)
            spec.mutate("args", "shape", "args", "M=", "func", jac, clean=True)
        else:
            kind, y = odd_array(draw, prob["y"])
            call["args"] = (y,)
            spec.mutate("args", "values", "args", "func",
                        clean=kind in SAME_NUMBERS)
    elif what == "diag":
        kind = pick(draw, ["length", "shape", "values", "scalar", "object"])
        if kind == "length":
            call["diag"] = np.ones(pick(draw, [0, n + 1, n + 3]))
            spec.mutate("diag", "length", clean=True)
        elif kind == "shape":
            call["diag"] = pick(draw, [np.ones((1, n)), np.ones((n, 1)), [[1.0] * n]])
            spec.mutate("diag", "shape", clean=True)
        elif kind == "scalar":
            call["diag"] = pick(draw, [2.0, "2", None, 1j])
            spec.mutate("diag", "scalar" if n == 1 else "length", clean=True)
        elif kind == "object":
            call["diag"] = np.ones(n).astype(object)
            spec.mutate("diag", "object", clean=True)
        else:
            _, call["diag"] = odd_array(draw, np.linspace(1, 2, n))
            spec.mutate("diag", "values")
    elif what in ("ftol", "xtol", "gtol", "factor", "epsfcn"):
        call[what] = draw(BAD_REALS)
        spec.mutate(what, "value", clean=_finite_scalar(call[what]))
    elif what == "maxfev":
        call["maxfev"] = draw(BAD_MAXFEVS)
        spec.mutate("maxfev", "value", clean=True)
    elif what == "func":
        kind = pick(draw, RESIDUAL_NAMES)
        start = pick(draw, [1, 1, 2, 3, 5, 20])
        behaviour["func"] = (kind, start)
        # (a residual of the wrong length may show as a Dfun of the wrong shape)
        spec.mutate("func", kind, "func", "M=", "N=", jac,
                    clean=stateless(kind, start) and finite(kind))
    elif what == "Dfun":
        kind = pick(draw, JACOBIAN_NAMES)
        start = pick(draw, [1, 1, 2, 4])
        behaviour["Dfun"] = (kind, start)
        call.setdefault("col_deriv", False)
        spec.mutate(jac, kind, jac, clean=stateless(kind, start) and finite(kind))
    elif what == "col_deriv" and behaviour["Dfun"] is not None:
        call["col_deriv"] = not call.get("col_deriv", False)
        spec.mutate("col_deriv", "flip", jac, "col_deriv", clean=True)
    elif what == "arity":
        behaviour["arity"] = pick(draw, [("func", -1), ("func", 1), ("Dfun", -1),
                                         ("Dfun", 1)])
        spec.mutate("arity", "x", "positional", "argument", clean=True)
    elif what == "callable":
        behaviour["callable"] = pick(draw, [("func", 3), ("func", None), ("func", "f"),
                                            ("Dfun", 3), ("Dfun", "jac")])
        spec.mutate("callable", "x", "func", jac, "callable", clean=True)
    elif what == "band":
        call["band"] = pick(draw, [(0, 0), (1, 1), (-1, -1), (n, n), (0, 5), (1,),
                                   None, (0.5, 0.5), ("a", "b"), 5, (2, 0, 9)])
        clean = call["band"] is None or (
            isinstance(call["band"], tuple) and len(call["band"]) >= 2
            and all(isinstance(b, int) for b in call["band"][:2]))
        spec.mutate("band", "value" if not clean else "ok", "band", clean=True)


def tame(spec: Spec, call: dict) -> None:
    """Cap a huge maxfev where the fit may never converge (NaN residuals run
    to maxfev: 2**31 - 1 evaluations would take hours)."""
    limit = effective_maxfev(call.get("maxfev", 0), 1, False)
    if not spec.clean and limit is not None and limit > 2000:
        call["maxfev"] = 2000


def _finite_scalar(value: Any) -> bool:
    """Whether a scalar argument is a finite real number (a clean input)."""
    if isinstance(value, (str, bytes, complex, np.complexfloating)) or np.ndim(value):
        return False
    try:
        return bool(np.isfinite(value))
    except TypeError:
        return False


def build_leastsq(call: dict, behaviour: dict, t: np.ndarray,
                  jac: str = "Dfun") -> tuple:
    """Fresh callables, x0 and keyword arguments (the Jacobian as `jac`) for
    one leastsq or fsolve call."""
    def residual_core(p: Any, *args: Any) -> Any:
        (y,) = args  # the model takes exactly one extra argument
        return model_residual(p, t, y)

    def jacobian_core(p: Any, *args: Any) -> Any:
        (y,) = args
        return model_jacobian(p, t)

    kind, start = behaviour["func"]
    func = UserCallable(residual_core, kind, start, "residual", RESIDUAL_KINDS)
    Dfun = None
    if behaviour["Dfun"] is not None:
        kind, start = behaviour["Dfun"]
        core = jacobian_core
        if call.get("col_deriv"):
            def core(p: Any, *args: Any) -> Any:
                return np.ascontiguousarray(jacobian_core(p, *args).T)
        Dfun = UserCallable(core, kind, start, "jacobian", JACOBIAN_KINDS)
    callables = [func, Dfun]
    if behaviour["arity"] is not None:
        which, extra = behaviour["arity"]
        if which == "func":
            callables[0] = WrongArity(func, extra)
        elif Dfun is not None:
            callables[1] = WrongArity(Dfun, extra)
    if behaviour["callable"] is not None:
        which, obj = behaviour["callable"]
        if which == "func":
            callables[0] = obj
        elif Dfun is not None:
            callables[1] = obj
    kwargs = dict(call)
    x0 = kwargs.pop("x0")
    kwargs[jac] = callables[1]
    return callables, x0, kwargs


def calls_of(obj: Any) -> int:
    return getattr(obj, "calls", 0)


def solver_warned(out: Outcome) -> bool:
    """Whether the solver issued its RuntimeWarning for ier 5-8 (not the
    user's callable: numpy's overflow warnings in the model are its own)."""
    return any(issubclass(w.category, RuntimeWarning) and not from_user_callable(w)
               and any(s in str(w.message) for s in ALLOWED_WARNINGS)
               for w in out.warnings)


def first_call(x0: Any) -> int:
    """1 when x0 is float32 (or another non-float64 float): then, as SciPy,
    func is called once at x0 in that dtype, and MINPACK makes its own first
    evaluation as well."""
    dtype = getattr(x0, "dtype", None)
    return int(dtype is not None and dtype.kind == "f" and dtype != np.float64)


def assert_calls_counted(nfev: int, ier: int, calls: int, x0: Any) -> None:
    """`func` is called exactly nfev times, except that the one call that
    gives M is not counted when MINPACK rejects the input (ier 0) or when x0
    is float32 or another non-float64 float (then, as SciPy, the call is made
    in x0's dtype and MINPACK makes its own first evaluation)."""
    extra = int(ier == 0 or first_call(x0))
    assert nfev + extra == calls or (ier == 0 and nfev == 0 and calls == 1), (
        nfev, calls, ier)


def check_leastsq_result(spec: Spec, out: Outcome, call: dict, callables: list,
                         x0: Any) -> None:
    func, Dfun = callables
    n = np.size(x0) if not isinstance(x0, (str, type(None))) else 1
    limit = effective_maxfev(call.get("maxfev", 0), n, Dfun is not None)
    if limit is not None:
        # MINPACK tests nfev >= maxfev after each trial step, so it ends within
        # maxfev evaluations plus one Jacobian (n evaluations for lmdif, one
        # Dfun call for lmder); and whatever maxfev, it makes the first
        # iteration: x0, one Jacobian and one trial step.
        limit = max(limit, 2)
        assert calls_of(func) <= limit + (n if Dfun is None else 0) + first_call(x0), (
            calls_of(func), limit, n)
        assert calls_of(Dfun) <= limit, (calls_of(Dfun), limit)
    if out.raised:
        return
    if call.get("full_output"):
        x, cov_x, info, mesg, ier = out.value
        assert isinstance(mesg, str)
        if isinstance(func, UserCallable):
            assert_calls_counted(info["nfev"], ier, func.calls, x0)
        if isinstance(Dfun, UserCallable):
            assert info["njev"] == Dfun.calls
        assert info["ipvt"].dtype == np.int32
        if ier in SUCCESS:
            assert np.isfinite(x).all(), (x, ier, mesg)
    else:
        x, ier = out.value
        if ier in SUCCESS:
            assert np.isfinite(x).all(), (x, ier)
        warned = solver_warned(out)
        assert warned == (ier in (5, 6, 7, 8)), (ier, out.warnings)
    assert x.dtype == np.float64 and x.ndim == 1


def agree_or_equivalent(x: np.ndarray, rx: np.ndarray, ier: int, rier: int,
                        residual: Any) -> str:
    """'same' when minpack's x and ier are SciPy's (to 1e-9), else
    'equivalent' when both end at the same residual norm, else (tolerated,
    see KNOWN_ISSUES["rank-deficient-steps"]) 'different where J loses rank'.

    Most clean cases give the same iterates to the last bit. Where J loses
    rank (this model's J[:, 0] vanishes at p = 0), rounding decides the LM
    steps and the two may stop at different points of the same flat valley.
    """
    if ier == rier and np.allclose(x, rx, rtol=1e-9, atol=1e-12):
        return "same"
    if np.isfinite(x).all() and np.isfinite(rx).all():
        f, rf = norm_of(residual, x), norm_of(residual, rx)
        if abs(f - rf) <= 1e-6 * (1 + rf):
            return "equivalent"
        if rank_deficient(residual, x) or rank_deficient(residual, rx):
            return "different where J loses rank (KNOWN_ISSUES)"
    raise AssertionError(f"minpack x={x}, ier={ier}; SciPy x={rx}, ier={rier}")


def norm_of(residual: Any, x: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        return float(np.linalg.norm(np.asarray(residual(x), dtype=float)))


def rank_deficient(residual: Any, x: Any) -> bool:
    """Whether a difference Jacobian of `residual` at `x` has (numerically)
    lower rank than the number of variables."""
    x = np.array(x, dtype=float).reshape(-1)
    with np.errstate(all="ignore"):
        r0 = np.asarray(residual(x), dtype=float)
        if not np.isfinite(r0).all() or not np.isfinite(x).all():
            return False
        columns = []
        for j in range(x.size):
            h = 1e-6 * (1 + abs(x[j]))
            xp = x.copy()
            xp[j] += h
            columns.append((np.asarray(residual(xp), dtype=float) - r0) / h)
        s = np.linalg.svd(np.column_stack(columns), compute_uv=False)
    return s.size < x.size or not np.isfinite(s).all() or s[-1] <= 1e-5 * s[0]


def compare_leastsq(spec: Spec, ours: Outcome, ref: Outcome, call: dict,
                    norm: Any) -> str | None:
    check_against_scipy(spec, ours, ref)
    if ours.raised or ref.raised or not spec.clean:
        return None
    if call.get("full_output"):
        x, _, info, mesg, ier = ours.value
        rx, _, rinfo, rmesg, rier = ref.value
    else:
        (x, ier), (rx, rier) = ours.value, ref.value
    verdict = agree_or_equivalent(x, rx, ier, rier, norm)
    if verdict == "same" and call.get("full_output"):
        if not isinstance(call.get("maxfev"), bool):  # SciPy: "maxfev = True."
            assert mesg == rmesg
        assert info["nfev"] == rinfo["nfev"]
    return verdict


def residual_norm(call: dict, behaviour: dict, t: np.ndarray) -> Any:
    """The (clean) residual function of a case, from fresh callables."""
    def residual(x: np.ndarray) -> Any:
        callables, _, kwargs = build_leastsq(call, behaviour, t)
        args = kwargs["args"]
        args = args if isinstance(args, tuple) else (args,)
        return callables[0](x, *args)
    return residual


def leastsq_inputs(call: dict, x0: Any) -> list:
    return [x0, call.get("args"), call.get("diag")]


def one_leastsq_case(case: tuple, tally: Counter) -> None:
    spec, call, behaviour, t = case
    callables, x0, kwargs = build_leastsq(call, behaviour, t)
    inputs = leastsq_inputs(kwargs, x0)
    snap = snapshot(inputs)
    ours = run(minpack.leastsq, callables[0], x0, **kwargs)
    ref_callables, ref_x0, ref_kwargs = build_leastsq(call, behaviour, t)
    ref = run(so.leastsq, ref_callables[0], ref_x0, **ref_kwargs)
    check_common(spec, ours, callables, inputs, snap, ref)
    check_leastsq_result(spec, ours, kwargs, callables, x0)
    norm = residual_norm(call, behaviour, t)
    verdict = compare_leastsq(spec, ours, ref, kwargs, norm)
    tally[outcome_label(ours)] += 1
    if verdict:
        tally[f"clean, {verdict} as SciPy"] += 1


def outcome_label(out: Outcome) -> str:
    if not out.raised:
        return "returned"
    if isinstance(out.exc, Boom):
        return "re-raised the callable's exception"
    if from_user_code(out.exc):
        return "the callable's own error"
    return f"raised {type(out.exc).__name__}"


def run_fuzz(strategy: st.SearchStrategy, one_case: Any, name: str,
             report: Any) -> None:
    tally: Counter = Counter()

    @FUZZ
    @given(case=strategy)
    def fuzz(case: Any) -> None:
        one_case(case, tally)

    fuzz()
    total = sum(v for k, v in tally.items() if not k.startswith("clean"))
    detail = ", ".join(f"{k}: {v}" for k, v in sorted(tally.items()))
    report(f"fuzz (profile {PROFILE}): generated cases",
           f"{name}: {total} ({detail})")
    assert total >= FUZZ.max_examples * 0.9


def test_fuzz_leastsq(report: Any) -> None:
    run_fuzz(leastsq_cases(), one_leastsq_case, "leastsq", report)


# --------------------------------------------------------------------------
# fsolve: the same mutations on a square system, plus `band`.

FSOLVE_MUTATIONS = ("x0", "args", "diag", "xtol", "factor", "epsfcn", "maxfev",
                    "func", "Dfun", "col_deriv", "arity", "callable", "band")
FSOLVE_MUTATION_LISTS = st.lists(st.sampled_from(FSOLVE_MUTATIONS), max_size=3)


@st.composite
def fsolve_cases(draw: Any) -> tuple:
    prob = draw_problem(draw, square=True)
    spec = Spec("fsolve")
    call: dict = {"x0": prob["x0"], "args": (prob["y"],),
                  "full_output": draw(BOOLEANS)}
    behaviour = {"func": ("ok", 1), "Dfun": None, "arity": None, "callable": None}
    if draw(BOOLEANS):
        behaviour["Dfun"] = ("ok", 1)
        call["col_deriv"] = draw(BOOLEANS)
    call["maxfev"] = pick(draw, [0, 50, 200])
    for what in draw(FSOLVE_MUTATION_LISTS):
        mutate_leastsq(draw, what, spec, call, behaviour, prob, jac="fprime")
    tame(spec, call)
    return spec, call, behaviour, prob["t"]


def check_fsolve_result(out: Outcome, call: dict, callables: list, x0: Any) -> None:
    func, fprime = callables
    n = np.size(x0) if not isinstance(x0, (str, type(None))) else 1
    limit = effective_maxfev(call.get("maxfev", 0), n, fprime is not None)
    if limit is not None:
        # As lmdif/lmder (see check_leastsq_result); a banded difference
        # Jacobian takes fewer evaluations.
        limit = max(limit, 2)
        jacobian_calls = n if fprime is None else 0
        assert calls_of(func) <= limit + jacobian_calls + first_call(x0), (
            calls_of(func), limit, n)
        assert calls_of(fprime) <= limit, (calls_of(fprime), limit)
    if out.raised:
        return
    if call.get("full_output"):
        x, info, ier, mesg = out.value
        assert isinstance(mesg, str)
        if isinstance(func, UserCallable):
            assert_calls_counted(info["nfev"], ier, func.calls, x0)
        if isinstance(fprime, UserCallable):
            assert info["njev"] == fprime.calls
    else:
        x = out.value
        ier = None
        warned = solver_warned(out)
        if not warned:
            ier = 1
    if ier == 1:
        assert np.isfinite(x).all(), (x, ier)
    assert x.dtype == np.float64 and x.ndim == 1


def compare_fsolve(spec: Spec, ours: Outcome, ref: Outcome, call: dict,
                   norm: Any) -> str | None:
    check_against_scipy(spec, ours, ref)
    if ours.raised or ref.raised or not spec.clean:
        return None
    if call.get("full_output"):
        x, info, ier, mesg = ours.value
        rx, rinfo, rier, rmesg = ref.value
    else:
        x, rx = ours.value, ref.value
        ier = rier = 1
    verdict = agree_or_equivalent(x, rx, ier, rier, norm)
    if verdict == "same" and call.get("full_output"):
        if not isinstance(call.get("maxfev"), bool):
            assert mesg == rmesg
        # SciPy counts its two extra evaluations at x0 (see fsolve's Notes)
        assert info["nfev"] + 2 == rinfo["nfev"] or ier == 0
    return verdict


def one_fsolve_case(case: tuple, tally: Counter) -> None:
    spec, call, behaviour, t = case
    callables, x0, kwargs = build_leastsq(call, behaviour, t, jac="fprime")
    inputs = leastsq_inputs(kwargs, x0)
    snap = snapshot(inputs)
    ours = run(minpack.fsolve, callables[0], x0, **kwargs)
    ref_callables, ref_x0, ref_kwargs = build_leastsq(call, behaviour, t, jac="fprime")
    ref = run(so.fsolve, ref_callables[0], ref_x0, **ref_kwargs)
    check_common(spec, ours, callables, inputs, snap, ref)
    check_fsolve_result(ours, kwargs, callables, x0)
    verdict = compare_fsolve(spec, ours, ref, kwargs, residual_norm(call, behaviour, t))
    tally[outcome_label(ours)] += 1
    if verdict:
        tally[f"clean, {verdict} as SciPy"] += 1


def test_fuzz_fsolve(report: Any) -> None:
    run_fuzz(fsolve_cases(), one_fsolve_case, "fsolve", report)


# --------------------------------------------------------------------------
# curve_fit: the model y = f(x, *p) with data, weights and options.


class CurveModel(UserCallable):
    """``f(x, *p)`` (or ``jac(x, *p)``) for curve_fit, with a signature of
    `n` parameters so that p0=None can be used."""

    def __init__(self, n: int, core: Any, kind: str, start: int, name: str,
                 kinds: dict) -> None:
        super().__init__(core, kind, start, name, kinds)
        params = [inspect.Parameter("x", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        params += [inspect.Parameter(f"p{j}", inspect.Parameter.POSITIONAL_OR_KEYWORD)
                   for j in range(n)]
        self.__signature__ = inspect.Signature(params)

    def __call__(self, x: Any, *p: Any) -> Any:  # type: ignore[override]
        return super().__call__(np.array(p), x)


def curve_value(p: np.ndarray, x: Any) -> Any:
    return model_residual(p, np.asarray(x, dtype=float), 0.0)


def curve_jacobian(p: np.ndarray, x: Any) -> Any:
    return model_jacobian(p, np.asarray(x, dtype=float))


CURVE_MUTATIONS = ("p0", "xdata", "ydata", "sigma", "absolute_sigma", "check_finite",
                   "nan_policy", "method", "bounds", "f", "jac", "kwargs", "arity")
CURVE_MUTATION_LISTS = st.lists(st.sampled_from(CURVE_MUTATIONS), max_size=3)


@st.composite
def curve_fit_cases(draw: Any) -> tuple:
    prob = draw_problem(draw)
    n = prob["n"]
    spec = Spec("curve_fit")
    call: dict = {"xdata": prob["t"], "ydata": prob["y"], "p0": prob["x0"],
                  "full_output": draw(BOOLEANS)}
    behaviour = {"f": ("ok", 1), "jac": None, "arity": None, "n": n}
    if draw(BOOLEANS):
        behaviour["jac"] = ("ok", 1)
    call["maxfev"] = pick(draw, [0, 50, 200])
    for what in draw(CURVE_MUTATION_LISTS):
        mutate_curve_fit(draw, what, spec, call, behaviour, prob)
    tame(spec, call)
    return spec, call, behaviour


def mutate_curve_fit(draw: Any, what: str, spec: Spec, call: dict, behaviour: dict,
                     prob: dict) -> None:
    n, m = prob["n"], prob["m"]
    if what == "p0":
        kind = pick(draw, ["none", "length", "dtype", "empty", "2d", "scalar"])
        if kind == "none":
            call["p0"] = None
            spec.mutate("p0", "none", "p0", clean=True)
        elif kind == "length":
            call["p0"] = np.ones(pick(draw, [n + 1, max(n - 1, 1)]))
            spec.mutate("p0", "length", "p0", "number of func parameters", clean=True)
        elif kind == "empty":
            call["p0"] = []
            spec.mutate("p0", "empty", "p0", clean=True)
        elif kind == "2d":
            call["p0"] = prob["x0"].reshape(1, -1)
            spec.mutate("p0", "2d", "p0", clean=True)
        elif kind == "scalar":
            call["p0"] = pick(draw, [0.5, "a", 1j])
            spec.mutate("p0", "scalar", "p0", "number of func parameters", clean=True)
        else:
            kind, call["p0"] = odd_array(draw, prob["x0"])
            spec.mutate("p0", "dtype", "p0", clean=kind in SAME_NUMBERS)
    elif what in ("xdata", "ydata"):
        base = prob["t"] if what == "xdata" else prob["y"]
        kind = pick(draw, ["shape", "values", "empty", "scalar", "object", "2d"])
        if kind == "shape":
            call[what] = wrong_shape(draw, m)
        elif kind == "empty":
            call[what] = np.zeros(0)
        elif kind == "scalar":
            call[what] = 0.5
        elif kind == "object":
            call[what] = pick(draw, [None, {"x": 1}, "abc", object()])
        elif kind == "2d":
            call[what] = np.vstack([base, base])
        else:
            kind, call[what] = odd_array(draw, base)
        # a wrong xdata or ydata shows up in the model's output, or as
        # numpy's error inside it, or in the finite check
        spec.mutate(what, kind, what, "`ydata`", "model function", "array must not",
                    "Dfun",
                    "number of func parameters", "could not convert",
                    clean=kind in SAME_NUMBERS or kind in ("shape", "empty", "scalar",
                                                           "object", "2d"))
    elif what == "sigma":
        kind = pick(draw, ["scalar", "1d", "2d", "length", "values", "notpd", "3d",
                           "str", "empty"])
        if kind == "scalar":
            call["sigma"] = pick(draw, [2.0, 0.0, -1.0, np.nan])
        elif kind == "1d":
            call["sigma"] = np.linspace(0.5, 2, m)
        elif kind == "2d":
            call["sigma"] = np.diag(np.linspace(0.5, 2, m)) + 0.01
        elif kind == "length":
            call["sigma"] = np.ones(m + 1)
        elif kind == "notpd":
            call["sigma"] = -np.eye(m)
        elif kind == "3d":
            call["sigma"] = np.ones((m, m, 1))
        elif kind == "str":
            call["sigma"] = "sigma"
        elif kind == "empty":
            call["sigma"] = []
        else:
            kind, call["sigma"] = odd_array(draw, np.linspace(0.5, 2, m))
        spec.mutate("sigma", kind, "sigma", "`sigma`", "could not convert",
                    clean=kind in ("1d", "2d", "length", "notpd", "3d", "str", "empty")
                    or kind in SAME_NUMBERS)
    elif what == "absolute_sigma":
        call["absolute_sigma"] = pick(draw, [True, False, 1, None])
        spec.mutate("absolute_sigma", "value", clean=True)
    elif what == "check_finite":
        call["check_finite"] = pick(draw, [True, False, None])
        spec.mutate("check_finite", "value", clean=True)
    elif what == "nan_policy":
        call["nan_policy"] = pick(draw, [None, "raise", "omit", "propagate", "bad"])
        valid = call["nan_policy"] in (None, "raise", "omit")
        spec.mutate("nan_policy", "value" if valid else "invalid", "nan_policy",
                    clean=True)
    elif what == "method":
        call["method"] = pick(draw, [None, "lm", "trf", "dogbox", "bad"])
        spec.mutate("method", str(call["method"]), "method", clean=True)
    elif what == "bounds":
        call["bounds"] = pick(draw, [(-np.inf, np.inf), (0.0, np.inf), (-1.0, 1.0),
                                     "bad", (np.full(n, -np.inf), np.full(n, np.inf))])
        bounded = isinstance(call["bounds"], tuple) and np.isfinite(
            np.asarray(call["bounds"][0], dtype=float)).any()
        spec.mutate("bounds", "finite" if bounded else "value", "bounds", clean=True)
    elif what == "f":
        kind = pick(draw, RESIDUAL_NAMES)
        start = pick(draw, [1, 1, 2, 5])
        behaviour["f"] = (kind, start)
        spec.mutate("f", kind, "model function", "func", "f(xdata", "number of func",
                    "jac", "Dfun", "M=",
                    clean=stateless(kind, start) and finite(kind))
    elif what == "jac":
        kind = pick(draw, JACOBIAN_NAMES)
        start = pick(draw, [1, 1, 2])
        behaviour["jac"] = (kind, start)
        spec.mutate("jac", kind, "jac", "Dfun",
                    clean=stateless(kind, start) and finite(kind))
    elif what == "kwargs":
        key, value = pick(draw, [("maxfev", None), ("ftol", None), ("xtol", None),
                                 ("args", (1,)), ("bogus", 1), ("col_deriv", True),
                                 ("epsfcn", None), ("factor", None)])
        if value is None:
            value = draw(BAD_MAXFEVS if key == "maxfev" else BAD_REALS)
        call[key] = value
        spec.mutate(key, "value", key, "args", clean=_finite_scalar(value)
                    or key in ("maxfev", "args", "bogus", "col_deriv"))
    elif what == "arity":
        behaviour["arity"] = pick(draw, [("f", -1), ("jac", -1)])
        spec.mutate("arity", "x", "positional", "argument", "Unable to determine",
                    clean=True)


def build_curve_fit(call: dict, behaviour: dict) -> tuple:
    n = behaviour["n"]
    kind, start = behaviour["f"]
    f = CurveModel(n, curve_value, kind, start, "model", RESIDUAL_KINDS)
    jac = None
    if behaviour["jac"] is not None:
        kind, start = behaviour["jac"]
        core = curve_jacobian
        if call.get("col_deriv"):
            def core(p: Any, x: Any) -> Any:
                return np.ascontiguousarray(curve_jacobian(p, x).T)
        jac = CurveModel(n, core, kind, start, "model_jacobian", JACOBIAN_KINDS)
    callables = [f, jac]
    if behaviour["arity"] is not None:
        which, extra = behaviour["arity"]
        if which == "f":
            callables[0] = WrongArity(f, extra)
        elif jac is not None:
            callables[1] = WrongArity(jac, extra)
    kwargs = dict(call)
    kwargs["jac"] = callables[1]
    return callables, kwargs


def check_curve_fit_result(out: Outcome, call: dict, callables: list) -> None:
    if out.raised:
        return
    popt, pcov = out.value[:2]
    n = popt.shape[0]
    assert popt.dtype == np.float64 and popt.ndim == 1
    assert np.isfinite(popt).all(), popt
    assert pcov.shape == (n, n)
    if call.get("full_output"):
        info, mesg, ier = out.value[2:]
        assert ier in SUCCESS
        f = callables[0]
        if isinstance(f, UserCallable):
            assert info["nfev"] == f.calls, (info["nfev"], f.calls)


def compare_curve_fit(spec: Spec, ours: Outcome, ref: Outcome, call: dict,
                      norm: Any) -> str | None:
    if (call.get("method") in ("trf", "dogbox") or spec.has("bounds", "finite")) \
            and ours.raised and not ref.raised:
        return None  # not implemented here, by design (a ValueError says so)
    if (ours.raised and not ref.raised and spec.has("sigma")
            and returned_pcov_inf_or_nan(ref)):
        return None  # SciPy "fits" with zero or NaN weights; minpack says it failed
    if (spec.clean and not ref.raised and isinstance(ours.exc, RuntimeError)
            and rank_deficient(norm, ref.value[0])):
        return "different where J loses rank (KNOWN_ISSUES)"
    two_d = np.ndim(call.get("sigma")) == 2
    if two_d and spec.clean and ours.raised != ref.raised and isinstance(
            ours.exc if ours.raised else ref.exc, RuntimeError):
        # 2-D sigma: SciPy solves a triangular system at every evaluation,
        # minpack multiplies by inv(L) (its Notes): equal to rounding, so a
        # fit that ends right at maxfev may end just before it in the other
        return "different rounding with a 2-D sigma (documented)"
    check_against_scipy(spec, ours, ref)
    if ours.raised or ref.raised or not spec.clean:
        return None
    popt, pcov = ours.value[:2]
    rpopt, rpcov = ref.value[:2]
    ier = rier = 1
    if call.get("full_output"):
        ier, rier = ours.value[4], ref.value[4]
    verdict = agree_or_equivalent(popt, rpopt, ier, rier, norm)
    exact = norm_of(norm, rpopt) <= 1e-8 and not call.get("absolute_sigma")
    if verdict == "same" and not exact:
        # (with exact data pcov is the rounding noise of the residuals,
        # ~1e-18: not compared.) Relative to the largest entry: an
        # ill-conditioned pcov holds entries 1e-20 times its largest that
        # are noise; with a 2-D sigma the rounding of inv(L) against SciPy's
        # triangular solve grows with the condition of pcov.
        scale = np.abs(rpcov).max(initial=0.0)
        rtol = 1e-6
        if two_d and np.isfinite(rpcov).all():
            cond = np.linalg.cond(rpcov)
            rtol = max(1e-4, 1e-10 * cond) if np.isfinite(cond) else 1e-4
        np.testing.assert_allclose(pcov, rpcov, rtol=rtol,
                                   atol=1e-9 * scale + 1e-20)
    return verdict


def returned_pcov_inf_or_nan(out: Outcome) -> bool:
    popt, pcov = out.value[:2]
    return not np.isfinite(pcov).all() or not np.isfinite(popt).all()


def curve_norm(call: dict, behaviour: dict) -> Any:
    """The unweighted residual of a curve_fit case (its model as mutated)."""
    def residual(p: np.ndarray) -> Any:
        f = build_curve_fit(call, behaviour)[0][0]
        x = np.asarray(call["xdata"], dtype=float)
        y = np.asarray(call["ydata"], dtype=float)
        return np.asarray(f(x, *p), dtype=float) - y
    return residual


def one_curve_fit_case(case: tuple, tally: Counter) -> None:
    spec, call, behaviour = case
    callables, kwargs = build_curve_fit(call, behaviour)
    inputs = [kwargs.get(k) for k in ("xdata", "ydata", "p0", "sigma")]
    snap = snapshot(inputs)
    ours = run(minpack.curve_fit, callables[0], **kwargs)
    ref_callables, ref_kwargs = build_curve_fit(call, behaviour)
    ref = run(so.curve_fit, ref_callables[0], **ref_kwargs)
    check_common(spec, ours, callables, inputs, snap, ref)
    check_curve_fit_result(ours, kwargs, callables)
    verdict = compare_curve_fit(spec, ours, ref, kwargs, curve_norm(call, behaviour))
    tally[outcome_label(ours)] += 1
    if verdict:
        tally[f"clean, {verdict} as SciPy"] += 1


def test_fuzz_curve_fit(report: Any) -> None:
    run_fuzz(curve_fit_cases(), one_curve_fit_case, "curve_fit", report)


# --------------------------------------------------------------------------
# check_jacobian (no SciPy counterpart: its own contract only).

CHECK_MUTATIONS = ("x0", "args", "func", "Dfun", "col_deriv", "arity", "callable")
CHECK_MUTATION_LISTS = st.lists(st.sampled_from(CHECK_MUTATIONS), max_size=3)


@st.composite
def check_jacobian_cases(draw: Any) -> tuple:
    prob = draw_problem(draw)
    spec = Spec("check_jacobian")
    call: dict = {"x0": prob["x0"], "args": (prob["y"],),
                  "col_deriv": draw(BOOLEANS)}
    behaviour = {"func": ("ok", 1), "Dfun": ("ok", 1), "arity": None,
                 "callable": None}
    for what in draw(CHECK_MUTATION_LISTS):
        mutate_leastsq(draw, what, spec, call, behaviour, prob)
    return spec, call, behaviour, prob["t"]


def one_check_jacobian_case(case: tuple, tally: Counter) -> None:
    spec, call, behaviour, t = case
    callables, x0, kwargs = build_leastsq(call, behaviour, t)
    func, Dfun = callables
    kwargs.pop("Dfun")
    inputs = [x0, kwargs.get("args")]
    snap = snapshot(inputs)
    ours = run(minpack.check_jacobian, func, Dfun, x0, **kwargs)
    check_common(spec, ours, callables, inputs, snap)
    assert calls_of(func) <= 2 and calls_of(Dfun) <= 1
    if not ours.raised:
        err = ours.value
        assert calls_of(func) == 2 and calls_of(Dfun) == 1
        assert isinstance(err, np.ndarray) and err.dtype == np.float64 and err.ndim == 1
        assert np.all((err >= 0) & (err <= 1)), err
        if not spec.mutations:
            assert err.shape == t.shape  # one measure per residual
    tally[outcome_label(ours)] += 1


def test_fuzz_check_jacobian(report: Any) -> None:
    run_fuzz(check_jacobian_cases(), one_check_jacobian_case, "check_jacobian", report)


# --------------------------------------------------------------------------
# leastsq_batch with Python callables: row k must be leastsq's fit of problem k.

BATCH_MUTATIONS = ("x0", "args", "m", "diag", "ftol", "maxfev", "workers",
                   "callback", "func", "Dfun")
BATCH_MUTATION_LISTS = st.lists(st.sampled_from(BATCH_MUTATIONS), max_size=3)


@st.composite
def batch_cases(draw: Any) -> tuple:
    prob = draw_problem(draw)
    n, m = prob["n"], prob["m"]
    K = pick(draw, [2, 0, 1, 3])
    spec = Spec("leastsq_batch")
    x0 = np.array([prob["x0"] + 0.1 * k for k in range(K)]).reshape(K, n)
    data = np.array([prob["y"] * (1 + 0.05 * k) for k in range(K)]).reshape(K, m)
    call: dict = {"x0": x0, "args": data, "full_output": draw(BOOLEANS),
                  "maxfev": pick(draw, [0, 50])}
    behaviour = {"func": ("ok", 1), "Dfun": ("ok", 1) if draw(BOOLEANS) else None,
                 "callback": None}
    prob = {**prob, "X0": x0, "data": data}
    for what in draw(BATCH_MUTATION_LISTS):
        mutate_batch(draw, what, spec, call, behaviour, prob, K)
    tame(spec, call)
    return spec, call, behaviour, prob["t"]


def mutate_batch(draw: Any, what: str, spec: Spec, call: dict, behaviour: dict,
                 prob: dict, K: int) -> None:
    n, m, X0, data = prob["n"], prob["m"], prob["X0"], prob["data"]
    if what == "x0":
        kind = pick(draw, ["1d", "3d", "no-variables", "dtype", "nan-row", "list"])
        if kind == "1d":
            call["x0"] = prob["x0"]
        elif kind == "3d":
            call["x0"] = X0[None]
        elif kind == "no-variables":
            call["x0"] = np.zeros((K, 0))
        elif kind == "list":
            call["x0"] = X0.tolist()
        elif kind == "nan-row":
            call["x0"] = X0.copy()
            if K:
                call["x0"][-1, 0] = np.nan
        else:
            kind, call["x0"] = odd_array(draw, X0)
        spec.mutate("x0", kind, "x0", "N=", "n = 0", "M=",
                    clean=kind in SAME_NUMBERS or kind in ("1d", "3d", "no-variables"))
    elif what == "args":
        kind = pick(draw, ["none", "list", "rows", "1d", "nan-row", "complex", "3d"])
        if kind == "none":
            call["args"] = None
        elif kind == "list":
            call["args"] = data.tolist()
        elif kind == "rows":
            call["args"] = np.ones((K + 1, m))
        elif kind == "1d":
            call["args"] = np.ones(K)
        elif kind == "nan-row":
            call["args"] = data.copy()
            if K:
                call["args"][0, 0] = np.nan
        elif kind == "complex":
            call["args"] = data + 0j
        else:
            call["args"] = data[:, None, :]
        spec.mutate("args", kind, "args", "func", "M=",
                    clean=kind not in ("nan-row",))
    elif what == "m":
        call["m"] = pick(draw, [m, m + 1, 0, -1, 2.0, "m", None])
        spec.mutate("m", "value", "m", "M=", clean=True)
    elif what == "diag":
        call["diag"] = pick(draw, [np.ones(n + 1), np.ones((1, n)),
                                   np.linspace(1, 2, n), np.zeros(n), "d"])
        spec.mutate("diag", "value", "diag", clean=True)
    elif what == "ftol":
        call["ftol"] = draw(BAD_REALS)
        spec.mutate("ftol", "value", clean=_finite_scalar(call["ftol"]))
    elif what == "maxfev":
        call["maxfev"] = draw(BAD_MAXFEVS)
        spec.mutate("maxfev", "value", clean=True)
    elif what == "workers":
        call["workers"] = pick(draw, [None, 1, 2, 0, -1, 2.0, "2"])
        spec.mutate("workers", "value", "workers", clean=True)
    elif what == "callback":
        behaviour["callback"] = pick(draw, ["quiet", "raise", "stop", "not-callable"])
        spec.mutate("callback", behaviour["callback"], "callback", clean=True)
    elif what == "func":
        kind = pick(draw, RESIDUAL_NAMES)  # stateless: calls are shared by rows
        behaviour["func"] = (kind, 1)
        spec.mutate("func", kind, "func", "M=", "Dfun", "m=", clean=finite(kind))
    elif what == "Dfun":
        kind = pick(draw, JACOBIAN_NAMES)
        behaviour["Dfun"] = (kind, 1)
        spec.mutate("Dfun", kind, "Dfun", clean=finite(kind))


class Callback:
    """An iteration callback that records, raises, or stops a fit."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.seen: list = []
        self.raised: BaseException | None = None

    def __call__(self, it: Any) -> None:
        self.seen.append((it.k, it.iteration))
        if self.kind == "raise" and len(self.seen) == 2:
            self.raised = Boom("callback raised")
            raise self.raised
        if self.kind == "stop" and it.iteration == 2:
            raise StopIteration


def build_batch(call: dict, behaviour: dict, t: np.ndarray) -> tuple:
    single = {"func": behaviour["func"], "Dfun": behaviour["Dfun"], "arity": None,
              "callable": None}
    callables, _, _ = build_leastsq({"x0": None, "col_deriv": False}, single, t)
    kwargs = dict(call)
    x0 = kwargs.pop("x0")
    callback = behaviour["callback"]
    if callback == "not-callable":
        kwargs["callback"] = 3
    elif callback is not None:
        kwargs["callback"] = Callback(callback)
    return callables, x0, kwargs


def one_batch_case(case: tuple, tally: Counter) -> None:
    spec, call, behaviour, t = case
    callables, x0, kwargs = build_batch(call, behaviour, t)
    inputs = [x0, kwargs.get("args"), kwargs.get("diag")]
    snap = snapshot(inputs)
    ours = run(minpack.leastsq_batch, callables[0], x0, Dfun=callables[1], **kwargs)
    callback = kwargs.get("callback")
    if isinstance(callback, Callback) and callback.raised is not None:
        assert ours.exc is callback.raised  # re-raised unchanged
        tally["re-raised the callback's exception"] += 1
        return
    check_common(spec, ours, callables, inputs, snap)
    if ours.raised:
        tally[outcome_label(ours)] += 1
        return
    res = ours.value
    K = res.x.shape[0]
    # each row is leastsq's fit of that problem alone (callback-free rows)
    stopped = isinstance(callback, Callback) and callback.kind == "stop"
    for k in range(K):
        f, D = build_batch(call, behaviour, t)[0]
        data = kwargs.get("args")
        kargs = () if data is None else (np.asarray(data)[k],)
        options = {key: kwargs[key] for key in ("ftol", "maxfev", "diag", "m")
                   if key in kwargs}
        single = run(minpack.leastsq, f, np.asarray(x0, dtype=float)[k], args=kargs,
                     Dfun=D, full_output=True, **options)
        assert not single.raised, single.exc
        x, cov_x, info, mesg, ier = single.value
        if stopped and res.ier[k] == 9:
            continue
        assert res.ier[k] == ier, (k, res.ier[k], ier)
        np.testing.assert_array_equal(res.x[k], x)
        assert res.nfev[k] == info["nfev"]
        if ier in SUCCESS:
            assert np.isfinite(res.x[k]).all()
        fvec = info["fvec"]
        if spec.clean and np.isfinite(fvec).all():
            # (KNOWN_ISSUES["batch-fnorm-overflow"])
            scale = np.abs(fvec).max(initial=0.0)
            norm = scale * np.sqrt(np.sum((fvec / scale) ** 2)) if scale else 0.0
            np.testing.assert_allclose(res.fnorm[k], norm, rtol=1e-13)
        if kwargs.get("full_output"):
            np.testing.assert_array_equal(res.fvec[k], info["fvec"])
            if cov_x is None:
                assert np.isnan(res.cov_x[k]).all()
            else:
                np.testing.assert_array_equal(res.cov_x[k], cov_x)
    tally[outcome_label(ours)] += 1


def test_fuzz_leastsq_batch(report: Any) -> None:
    run_fuzz(batch_cases(), one_batch_case, "leastsq_batch (Python callables)", report)


# --------------------------------------------------------------------------
# Compiled residuals (numba cfuncs): leastsq, fsolve and leastsq_batch.
#
# The cfuncs compute the same model from a per-problem data row
#   [mode, start, calls, y_0 .. y_{m-1}]
# and, from call `start` on, misbehave as `mode` says: 1 NaN residuals,
# 2 inf residuals, 3 return status 1, 4 return status -7. They count their
# calls in the row (the caller's array: the user's function writes it, so
# the untouched-input check skips that column). Only mutations minpack can
# check are generated: a C function reading past its data (a wrong m, a
# short row) cannot be detected by anyone.

COMPILED_MODES = {"ok": 0, "nan": 1, "inf": 2, "status": 3, "negative-status": 4}
COMPILED_MODE_NAMES = tuple(COMPILED_MODES)
_COMPILED: dict = {}


def compiled_model() -> tuple:
    """The numba cfuncs (func, Dfun), compiled once."""
    if not _COMPILED:
        numba = pytest.importorskip("numba")
        import math

        from numba import carray, types

        dptr = types.CPointer(types.double)
        fsig = types.intc(types.intc, types.intc, dptr, dptr, dptr)
        jsig = types.intc(types.intc, types.intc, dptr, dptr, types.intc, dptr)

        @numba.cfunc(fsig, nopython=True)
        def residual(m, n, x_, f_, d_):  # pragma: no cover - compiled
            x = carray(x_, (n,))
            f = carray(f_, (m,))
            d = carray(d_, (3 + m,))
            d[2] += 1.0
            s = 0.0
            for j in range(n):
                s += x[j] / (j + 1.0)
            for i in range(m):
                t = 0.2 + 0.8 * i / (m - 1) if m > 1 else 0.2
                v = math.exp(-t * s) - d[3 + i]
                tp = t
                for j in range(n):
                    v += x[j] * tp
                    tp *= t
                f[i] = v
            if d[2] >= d[1]:
                mode = int(d[0])
                if mode == 1:
                    for i in range(m):
                        f[i] = math.nan
                elif mode == 2:
                    for i in range(m):
                        f[i] = math.inf
                elif mode == 3:
                    return 1
                elif mode == 4:
                    return -7
            return 0

        @numba.cfunc(jsig, nopython=True)
        def jacobian(m, n, x_, fjac_, ldfjac, d_):  # pragma: no cover - compiled
            x = carray(x_, (n,))
            fjac = carray(fjac_, (ldfjac * n,))
            s = 0.0
            for j in range(n):
                s += x[j] / (j + 1.0)
            for i in range(m):
                t = 0.2 + 0.8 * i / (m - 1) if m > 1 else 0.2
                e = math.exp(-t * s)
                tp = t
                for j in range(n):
                    fjac[i + j * ldfjac] = -t * e / (j + 1.0) + tp
                    tp *= t
            return 0

        _COMPILED["func"], _COMPILED["Dfun"] = residual, jacobian
    return _COMPILED["func"], _COMPILED["Dfun"]


def compiled_rows(y: np.ndarray, K: int, mode: str, start: int) -> np.ndarray:
    rows = np.empty((K, 3 + y.size))
    rows[:, 0] = COMPILED_MODES[mode]
    rows[:, 1] = start
    rows[:, 2] = 0.0
    for k in range(K):
        rows[k, 3:] = y * (1 + 0.05 * k)
    return rows


COMPILED_MUTATIONS = ("x0", "args", "m", "diag", "ftol", "xtol", "factor", "maxfev",
                      "mode", "col_deriv", "python-Dfun", "workers")
COMPILED_MUTATION_LISTS = st.lists(st.sampled_from(COMPILED_MUTATIONS), max_size=3)


@st.composite
def compiled_cases(draw: Any, path: str) -> tuple:
    prob = draw_problem(draw, square=path == "fsolve")
    n, m = prob["n"], prob["m"]
    K = pick(draw, [3, 1, 0]) if path == "batch" else 1
    spec = Spec(f"compiled {path}")
    setup = {"path": path, "n": n, "m": m, "K": K, "y": prob["y"], "mode": "ok",
             "start": 1, "jac": draw(BOOLEANS), "t": prob["t"]}
    x0 = (np.array([prob["x0"] + 0.1 * k for k in range(K)]).reshape(K, n)
          if path == "batch" else prob["x0"])
    call: dict = {"x0": x0, "args": "rows", "maxfev": pick(draw, [0, 50])}
    setup["x0"] = x0
    if path != "fsolve":
        call["m"] = m
    if path != "batch":
        call["full_output"] = draw(BOOLEANS)
    else:
        call["workers"] = pick(draw, [2, 1, None])
        call["full_output"] = draw(BOOLEANS)
    for what in draw(COMPILED_MUTATION_LISTS):
        mutate_compiled(draw, what, spec, call, setup, prob)
    tame(spec, call)
    return spec, call, setup


def mutate_compiled(draw: Any, what: str, spec: Spec, call: dict, setup: dict,
                    prob: dict) -> None:
    n, m, path = setup["n"], setup["m"], setup["path"]
    if what == "x0":
        kind = pick(draw, ["dtype", "empty", "shape"])
        if kind == "empty":
            call["x0"] = np.zeros((setup["K"], 0)) if path == "batch" else np.zeros(0)
            spec.mutate("x0", kind, "x0", "n = 0", "N=", clean=True)
        elif kind == "shape":
            # a longer x0 than the data row expects is safe (the row holds m
            # values, x0 only feeds the model); fewer variables than m too
            call["x0"] = (np.ones((setup["K"], n, 1)) if path == "batch"
                          else np.ones((1, n)))
            spec.mutate("x0", kind, "x0", clean=True)
        else:
            kind, call["x0"] = odd_array(draw, setup["x0"])
            spec.mutate("x0", kind, "x0", "N=", clean=kind in SAME_NUMBERS)
    elif what == "args":
        call["args"] = pick(draw, ["list", "two", "noncontiguous", "tuple-list",
                                   "scalar"])
        spec.mutate("args", call["args"], "args", "user_data", clean=True)
    elif what == "m" and path != "fsolve":
        call["m"] = pick(draw, [None, float(m), "m", -1, 0, n - 1] if n > 1 else
                         [None, float(m), "m", -1, 0])
        spec.mutate("m", "value", "m", "M=", clean=True)
    elif what == "diag":
        call["diag"] = pick(draw, [np.ones(n + 1), np.zeros(n), np.full(n, np.nan),
                                   "d", np.ones((n, 1)), np.linspace(1, 2, n)])
        spec.mutate("diag", "value", "diag", clean=True)
    elif what in ("ftol", "xtol", "factor") and (what != "ftol" or path != "fsolve"):
        call[what] = draw(BAD_REALS)
        spec.mutate(what, "value", what, clean=_finite_scalar(call[what]))
    elif what == "maxfev":
        call["maxfev"] = draw(BAD_MAXFEVS)
        spec.mutate("maxfev", "value", "maxfev", clean=True)
    elif what == "mode":
        setup["mode"] = pick(draw, COMPILED_MODE_NAMES)
        setup["start"] = pick(draw, [1, 2, 5, 30])
        spec.mutate("mode", setup["mode"], "status", clean=setup["mode"] == "ok")
    elif what == "col_deriv" and path != "batch":
        call["col_deriv"] = True
        spec.mutate("col_deriv", "x", "col_deriv", clean=True)
    elif what == "python-Dfun":
        setup["jac"] = "python"
        spec.mutate("Dfun", "python", "Dfun", "fprime", "compiled", clean=True)
    elif what == "workers" and path == "batch":
        call["workers"] = pick(draw, [0, -2, 2.5, 64])
        spec.mutate("workers", "value", "workers", clean=True)


def build_compiled(call: dict, setup: dict) -> tuple:
    func, jac = compiled_model()
    path, K = setup["path"], setup["K"]
    rows = compiled_rows(setup["y"], K, setup["mode"], setup["start"])
    kwargs = dict(call)
    x0 = kwargs.pop("x0")
    jname = "fprime" if path == "fsolve" else "Dfun"
    if setup["jac"] == "python":
        kwargs[jname] = lambda p, *a: model_jacobian(p, setup["t"])
    elif setup["jac"]:
        kwargs[jname] = jac
    which = kwargs.pop("args")
    data: Any = rows if path == "batch" else (rows[0],)
    if which == "list":
        data = rows.tolist() if path == "batch" else (rows[0].tolist(),)
    elif which == "two":
        data = (rows, rows) if path == "batch" else (rows[0], rows[0])
    elif which == "noncontiguous":
        wide = np.repeat(rows, 2, axis=-1)[..., ::2]
        data = wide if path == "batch" else (wide[0],)
    elif which == "tuple-list":
        data = (list(rows[0]),) if path != "batch" else tuple(rows)
    elif which == "scalar":
        data = 1.0
    kwargs["args"] = data
    return func, x0, kwargs, rows


COMPILED_FUNCTIONS = {"leastsq": minpack.leastsq, "fsolve": minpack.fsolve,
                      "batch": minpack.leastsq_batch}


def one_compiled_case(case: tuple, tally: Counter) -> None:
    spec, call, setup = case
    path = setup["path"]
    func, x0, kwargs, rows = build_compiled(call, setup)
    inputs = [x0, kwargs.get("diag")]
    snap = snapshot(inputs)
    row_snap = rows[:, [0, 1, *range(3, rows.shape[1])]].copy()
    ours = run(COMPILED_FUNCTIONS[path], func, x0, **kwargs)
    check_common(spec, ours, [], inputs, snap)
    np.testing.assert_array_equal(rows[:, [0, 1, *range(3, rows.shape[1])]], row_snap)
    tally[outcome_label(ours)] += 1
    if ours.raised:
        if isinstance(ours.exc, RuntimeError):  # a non-zero status, named
            assert setup["mode"] in ("status", "negative-status")
        return
    n = setup["n"]
    limit = effective_maxfev(kwargs.get("maxfev", 0), n, bool(setup["jac"]))
    calls = rows[:, 2]
    if path == "batch":
        res = ours.value
        ier, nfev, xs = res.ier, res.nfev, res.x
    elif path == "leastsq" and kwargs.get("full_output"):
        xs, _, info, _, ier = ours.value
        ier, nfev, xs = np.array([ier]), np.array([info["nfev"]]), xs[None]
    elif path == "fsolve" and kwargs.get("full_output"):
        xs, info, ier, _ = ours.value
        ier, nfev, xs = np.array([ier]), np.array([info["nfev"]]), xs[None]
    else:
        return
    copied = path == "batch" and call["args"] == "noncontiguous"  # (made contiguous)
    for k in range(len(ier)):
        # each call counted once; a status that stops a difference Jacobian
        # counts the whole Jacobian, as MINPACK-1 does
        assert copied or nfev[k] == calls[k] or (ier[k] < 0 and nfev[k] > calls[k]), (
            nfev[k], calls[k])
        if limit is not None:
            assert calls[k] <= max(limit, 2) + (0 if setup["jac"] else n)
        if ier[k] in ((1,) if path == "fsolve" else SUCCESS):
            assert np.isfinite(xs[k]).all(), (xs[k], ier[k])
        if (setup["mode"] in ("status", "negative-status") and not copied
                and calls[k] >= setup["start"]):
            assert ier[k] < 0, ier[k]  # the status stops the fit and shows as ier
    if path == "batch" and len(ier):
        compare_batch_with_single(call, setup, ours.value)
    if spec.clean and path == "leastsq" and setup["jac"] != "python":
        compare_compiled_with_python(call, setup, ours.value)
        tally["clean, same as the Python path"] += 1


def compare_batch_with_single(call: dict, setup: dict, res: Any) -> None:
    """Row k of a compiled batch is the compiled leastsq fit of problem k."""
    func, jac = compiled_model()
    rows = compiled_rows(setup["y"], setup["K"], setup["mode"], setup["start"])
    options = {key: call[key] for key in ("ftol", "xtol", "factor", "maxfev", "diag")
               if key in call}
    for k in range(setup["K"]):
        x0 = np.asarray(call["x0"], dtype=float).reshape(setup["K"], -1)[k]
        single = run(minpack.leastsq, func, x0, args=(rows[k],), m=call["m"],
                     Dfun=jac if setup["jac"] else None, full_output=True, **options)
        if single.raised:
            # leastsq refuses a non-finite start; the batch runs that row
            # (its ier is then checked not to claim success)
            assert "x0 must be finite" in str(single.exc), single.exc
            continue
        x, _, info, _, ier = single.value
        assert (res.ier[k], res.nfev[k]) == (ier, info["nfev"])
        np.testing.assert_array_equal(res.x[k], x)


def compare_compiled_with_python(call: dict, setup: dict, value: Any) -> None:
    """The compiled fit is exactly the Python fit of the same function: the
    Python path calls the very same cfunc (through ctypes), so only the
    marshalling differs, and x, ier and nfev must agree to the last bit."""
    func, jac = compiled_model()
    m = setup["m"]
    rows = compiled_rows(setup["y"], 1, setup["mode"], setup["start"])
    dp = ctypes.POINTER(ctypes.c_double)

    def ptr(a: np.ndarray) -> Any:
        return a.ctypes.data_as(dp)

    def residual(p: np.ndarray) -> np.ndarray:
        p = np.ascontiguousarray(p, dtype=np.float64)
        f = np.empty(m)
        assert func.ctypes(m, p.size, ptr(p), ptr(f), ptr(rows)) == 0
        return f

    def jacobian(p: np.ndarray) -> np.ndarray:
        p = np.ascontiguousarray(p, dtype=np.float64)
        J = np.empty((p.size, m))  # column-major m x n
        assert jac.ctypes(m, p.size, ptr(p), ptr(J), m, ptr(rows)) == 0
        return J.T

    options = {key: call[key] for key in ("ftol", "xtol", "factor", "maxfev", "diag")
               if key in call}
    x0 = np.asarray(call["x0"], dtype=float).reshape(-1)
    ref = run(minpack.leastsq, residual, x0, Dfun=jacobian if setup["jac"] else None,
              full_output=True, **options)
    assert not ref.raised, ref.exc
    rx, _, rinfo, _, rier = ref.value
    if isinstance(value, tuple) and len(value) == 5:
        x, _, info, _, ier = value
        assert (ier, info["nfev"]) == (rier, rinfo["nfev"])
    else:
        x, ier = value
        assert ier == rier
    np.testing.assert_array_equal(x, rx)


@pytest.mark.parametrize("path", ["leastsq", "fsolve", "batch"])
def test_fuzz_compiled(path: str, report: Any) -> None:
    compiled_model()
    name = {"batch": "leastsq_batch"}.get(path, path)
    run_fuzz(compiled_cases(path), one_compiled_case,
             f"{name} (compiled numba residuals)", report)


# --------------------------------------------------------------------------
# After a callable raises, the next fit is exactly a fresh one.

FRESH = settings(FUZZ, max_examples=min(FUZZ.max_examples, 300))


def _exp_residual(p: np.ndarray, t: np.ndarray, y: np.ndarray) -> np.ndarray:
    return p[0] * np.exp(-p[1] * t) - y


def _exp_jacobian(p: np.ndarray, t: np.ndarray, y: np.ndarray) -> np.ndarray:
    e = np.exp(-p[1] * t)
    return np.column_stack([e, -p[0] * t * e])


def _frozen(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (tuple, list)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, minpack.BatchResult):
        return _frozen([value.x, value.ier, value.nfev, value.njev, value.fnorm])
    return value


@FRESH
@given(where=st.sampled_from(["func", "Dfun", "callback", "curve_fit", "fsolve",
                              "batch-callback"]),
       at=st.integers(1, 30), base=st.integers(0, 3))
def test_fresh_after_a_raise(where: str, at: int, base: int) -> None:
    t = np.linspace(0, 2, 8)
    y = (1.5 + base) * np.exp(-0.7 * t)
    calls = [0]

    def maybe_raise() -> None:
        calls[0] += 1
        if calls[0] == at:
            raise Boom(f"raised at call {at}")

    def func(p: np.ndarray) -> np.ndarray:
        if where in ("func", "fsolve"):
            maybe_raise()
        return _exp_residual(p, t, y)

    def jac(p: np.ndarray) -> np.ndarray:
        if where == "Dfun":
            maybe_raise()
        return _exp_jacobian(p, t, y)

    def callback(it: Any) -> None:
        if where in ("callback", "batch-callback"):
            maybe_raise()

    def model(x: np.ndarray, a: float, b: float) -> np.ndarray:
        maybe_raise()
        return a * np.exp(-b * x)

    def fit() -> Any:
        if where == "curve_fit":
            return minpack.curve_fit(model, t, y, p0=[1.0, 1.0], full_output=True)
        if where == "fsolve":
            return minpack.fsolve(lambda p: func(p)[:2], [1.0, 1.0], full_output=True)
        if where == "batch-callback":
            return minpack.leastsq_batch(lambda p, yy: _exp_residual(p, t, yy),
                                         np.ones((2, 2)), args=np.array([y, 2 * y]),
                                         callback=callback, full_output=True)
        return minpack.leastsq(func, [1.0, 1.0], Dfun=jac if where == "Dfun" else None,
                               callback=callback, full_output=True)

    calls[0] = -10**9  # never raises
    fresh = _frozen(fit())
    calls[0] = 0
    try:
        fit()
    except Boom:
        pass
    calls[0] = -10**9
    assert _frozen(fit()) == fresh


# --------------------------------------------------------------------------
# A few messages, exactly: the argument, what was given, what was expected.

def _f(p: np.ndarray) -> np.ndarray:
    return np.array([p[0] - 1.0, p[1] - 2.0, p[0] * p[1]])


MESSAGES = [
    (lambda: minpack.leastsq(_f, [1, 1], maxfev=10.5), TypeError,
     "maxfev must be an integer; got float 10.5"),
    (lambda: minpack.leastsq(_f, [1, 1], ftol="1e-8"), TypeError,
     "ftol must be a real number; got str '1e-8'"),
    (lambda: minpack.leastsq(_f, [1, 1], factor=[100.0]), TypeError,
     "factor must be a real number; got list [100.0]"),
    (lambda: minpack.leastsq(_f, []), TypeError,
     "Improper input: x0 is empty (shape (0,)); it needs one entry per variable"),
    (lambda: minpack.leastsq(_f, [np.nan, 1.0]), ValueError,
     "x0 must be finite; got [nan  1.]"),
    (lambda: minpack.leastsq(_f, [1j, 1.0]), TypeError,
     "x0 must be real numbers (a scalar or an array of floats); got an array of "
     "dtype complex128"),
    (lambda: minpack.leastsq(_f, [1, 1], diag=[1, 2, 3]), ValueError,
     "diag must have one entry per variable (length 2); got shape (3,)"),
    (lambda: minpack.leastsq(_f, [1, 1], diag=[[1, 2]]), ValueError,
     "diag must have one entry per variable (length 2); got shape (1, 2)"),
    (lambda: minpack.leastsq(lambda p: None, [1, 1]), TypeError,
     "func must return a 1-D array of real numbers; it returned NoneType None"),
    (lambda: minpack.leastsq(_f, [1, 1], maxfev=2**31), OverflowError,
     "maxfev=2147483648 does not fit in a C int (at most 2**31 - 1)"),
    (lambda: minpack.fsolve(lambda p: p, [1.0, 2.0], band=(0.5, 0.5)), TypeError,
     "band must be two integers (ml, mu); got (0.5, 0.5)"),
    (lambda: minpack.curve_fit(lambda x, a: a * x, [1.0, 2.0], [1.0, 2.0],
                               sigma=[1j, 1j]), TypeError,
     "sigma must be real numbers; got an array of dtype complex128"),
    (lambda: minpack.curve_fit(lambda x, a: a * x, [1.0, 2.0], [1.0, 2.0], p0=[np.inf]),
     ValueError, "p0 must be finite; got [inf]"),
    (lambda: minpack.leastsq_batch(lambda p: p, np.ones((2, 1)), workers=2.0),
     TypeError, "workers must be an integer or None; got float 2.0"),
    (lambda: minpack.leastsq_batch(lambda p: p, np.ones((2, 1)), m=1.5), TypeError,
     "m must be an integer (the number of residuals per problem); got float 1.5"),
    (lambda: minpack.leastsq_batch(lambda p: p, np.ones((2, 1)) + 1j), TypeError,
     "x0 must be real numbers; got an array of dtype complex128"),
    (lambda: minpack.check_jacobian(_f, lambda p: [[1.0, 2.0], [3.0]], [1.0, 1.0]),
     TypeError, "Dfun must return a 2-D array of real numbers; it returned list "),
]


@pytest.mark.parametrize("call, exc, message", MESSAGES,
                         ids=[m[2][:40] for m in MESSAGES])
def test_message(call: Any, exc: type, message: str) -> None:
    with pytest.raises(exc) as info:
        call()
    assert str(info.value).startswith(message), str(info.value)
