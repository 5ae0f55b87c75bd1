"""The fuzz tests' harness: bad input, generated, for every public function.

Each test draws a small, well-posed fitting problem, spoils it with zero to
three *mutations* (a wrong shape, dtype or value of an argument, or a callable
that misbehaves: returns the wrong thing, raises, changes its output length,
takes the wrong number of arguments), calls minpack and, where SciPy has the
same function, ``scipy.optimize`` with identical inputs, and checks the
contract below. The tests are ``tests/test_fuzz_<function>.py``, one module
per public function (plus ``test_fuzz_compiled.py`` for compiled residuals and
``test_fuzz_errors.py`` for what follows a raise, and exact messages); this
module holds what they share: the well-posed problem and its misbehaving
callables, the strategies, ``run`` and the checks of the contract:

* minpack either returns, or raises

  - the exception the user's callable raised, unchanged (SciPy then raises the
    same type),
  - a TypeError or ValueError of its own whose message names the argument
    (what was given and what was expected are in the message too; the
    ``MESSAGES`` of ``test_fuzz_errors.py`` pin a few exactly),
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
every run), ``quick`` (derandomized, 300 cases: ``ci/test``'s reruns of the
SciPy comparisons under other OpenBLAS core types) and ``long`` (random,
200,000 cases per function), chosen with the environment variable
``HYPOTHESIS_PROFILE``, e.g.::

    HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz_*.py

The number of cases run is printed in the test summary.
"""

from __future__ import annotations

import inspect
import os
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minpack
from minpack._nonfinite import NonFiniteStartError

settings.register_profile(
    "ci", max_examples=5000, deadline=None, database=None, derandomize=True,
    suppress_health_check=list(HealthCheck), print_blob=True)
settings.register_profile(
    "long", max_examples=200_000, deadline=None, database=None,
    suppress_health_check=list(HealthCheck), print_blob=True)
settings.register_profile(
    "quick", max_examples=300, deadline=None, database=None, derandomize=True,
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
        self.nonfinite = False
        """Whether it returned a NaN or inf (a clean model may overflow)."""
        self.__name__ = name

    def __call__(self, p: Any, *args: Any) -> Any:
        self.calls += 1
        if self.calls > RUNAWAY_CALLS:
            raise Runaway(f"{self.__name__} called {self.calls} times")
        if len(self.kept) < 6 and isinstance(p, np.ndarray):
            self.kept.append((p, p.copy()))
        with np.errstate(all="ignore"):
            value = self.core(p, *args)
            if self.calls >= self.start:
                if self.kind == "raise":
                    self.raised = Boom(f"{self.__name__} raised at call {self.calls}")
                    raise self.raised
                value = self.kinds[self.kind](np.asarray(value))
        if (isinstance(value, np.ndarray) and value.dtype.kind == "f"
                and not np.isfinite(value).all()):
            self.nonfinite = True
        return value

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


def is_fuzz_file(filename: str | None) -> bool:
    """Whether `filename` is this harness or a fuzz test module: the files
    where the user's callables of the fuzz tests are defined."""
    if filename is None:
        return False
    return filename == __file__ or os.path.basename(filename).startswith("test_fuzz")


def from_user_code(exc: BaseException) -> bool:
    """Whether `exc` was raised inside one of the fuzz tests' callables (or by
    Python calling one with the wrong arguments)."""
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame.f_code is run.__code__:
        tb = tb.tb_next  # the harness's own frame, where the error was caught
    last = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if is_fuzz_file(filename) or "/minpack/" in filename:
            last = filename
        tb = tb.tb_next
    return is_fuzz_file(last)


def from_user_callable(w: warnings.WarningMessage) -> bool:
    """Whether a warning came from the fuzz tests' callables (numpy's warnings
    in the model), not from minpack: minpack's own warnings name the caller
    (stacklevel 2), which is the call in `run`."""
    if w.filename == __file__ and w.lineno == RUN_CALL_LINE:
        return False
    return is_fuzz_file(w.filename)


ALLOWED_WARNINGS = (
    "umber of calls to function has reached",
    "is too small",
    "The iteration is not making good progress",
    "Covariance of the parameters could not be estimated",
    "The Jacobian at x is not finite",  # ier 11 (not in SciPy)
    "Parameters held on a bound at the end of the fit",  # bounded fits (not in SciPy)
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
        elif isinstance(exc, NonFiniteStartError):
            # documented: residuals not finite at x0 (and they were not)
            assert not np.isfinite(exc.fvec).all(), (exc, exc.fvec)
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
    # residuals not finite at x0: a ValueError (SciPy goes on, and ends with
    # maxfev or a false ier 4)
    deliberate |= ours.raised and isinstance(ours.exc, NonFiniteStartError)
    # ier 11 (a Jacobian not finite: curve_fit's RuntimeError); SciPy goes on
    deliberate |= ours.raised and "The Jacobian at x is not finite" in str(ours.exc)
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
# leastsq's problem, its mutations and builders: fsolve, curve_fit,
# check_jacobian, leastsq_batch and the compiled paths draw and spoil theirs
# the same way; and the driver every fuzz test runs (`run_fuzz`).


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
        spec.mutate(what, "value", clean=finite_scalar(call[what]))
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


def finite_scalar(value: Any) -> bool:
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
    """Whether the solver issued its RuntimeWarning for ier 5-8, 11 (not the
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


def met_nonfinite(*callables: Any) -> bool:
    """Whether any of the callables returned a NaN or inf."""
    return any(getattr(c, "nonfinite", False) for c in callables)


def agree_or_equivalent(x: np.ndarray, rx: np.ndarray, ier: int, rier: int,
                        residual: Any, nonfinite: bool = False) -> str:
    """'same' when minpack's x and ier are SciPy's (to 1e-9), else
    'equivalent' when both end at the same residual norm, else (tolerated,
    see KNOWN_ISSUES["rank-deficient-steps"]) 'different where J loses rank',
    else, when a callable returned NaN or inf on the way (`nonfinite`),
    'better' if minpack ends at a smaller residual norm: minpack takes such
    a point for a failed step, SciPy's hybrd spreads it into its Broyden
    update (and stalls) and its lmdif shrinks the step bound less.

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
    if nonfinite and np.isfinite(x).all():
        f = norm_of(residual, x)
        rf = norm_of(residual, rx) if np.isfinite(rx).all() else np.inf
        if not f >= rf:  # (a NaN rf counts as worse)
            return "better, NaN or inf on the way,"
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
