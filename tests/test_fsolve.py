"""``minpack.fsolve`` against ``scipy.optimize.fsolve``, the drop-in oracle.

Every (system, start factor) of the MINPACK-1 equation set in
``support/equations.py`` is solved by both, with a forward-difference Jacobian
(``fd``) and with the analytic one (``jac``), with the same (default) options.
Both run MINPACK-1's ``hybrd``/``hybrj`` on the same function, so they take the
same iterates:

* the same ``ier`` and ``mesg``, and the same ``njev``;
* ``nfev`` equal to SciPy's minus 2: SciPy counts every call of ``func``,
  including its shape check and its sizing call at ``x0`` before MINPACK's own
  first evaluation, while ``minpack.fsolve`` hands its one evaluation at
  ``x0`` to MINPACK (see the Notes of ``minpack.fsolve``);
* ``x``, ``fvec``, ``qtf``, ``r`` and ``fjac`` equal to 1e-8 of their scale
  (in practice bit for bit: :func:`test_summary` counts that);
* the same keys, shapes and dtypes in ``infodict``.

Every run of the grid is bit-identical to SciPy, infodict included. (This
needs ``enorm``'s class limits to be MINPACK-1's; with other limits a few
norms round differently and the iterates of singular problems part.)
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import scipy.optimize

import minpack
from support.equations import CASES, EQUATIONS, Case, by_id

pytestmark = pytest.mark.scipy_oracle  # compared with SciPy: see conftest.py

MODES = ("fd", "jac")
"""``fd``: ``fprime=None`` (hybrd); ``jac``: the analytic Jacobian (hybrj)."""

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def fprime_for(case: Case, mode: str):
    """Return the ``fprime`` argument of a run: None or the analytic Jacobian."""
    return None if mode == "fd" else case.eq.jac


def solve_both(func, x0, **kwargs):
    """Run SciPy and minpack with ``full_output=True`` and identical options.

    Each gets its own copy of ``x0``. Returns ``(scipy_result, minpack_result)``,
    each ``(x, infodict, ier, mesg)``.
    """
    ref = scipy.optimize.fsolve(func, np.array(x0, copy=True), full_output=True,
                                **kwargs)
    out = minpack.fsolve(func, np.array(x0, copy=True), full_output=True, **kwargs)
    return ref, out


def assert_close(actual, desired, what, rtol=1e-8):
    """Assert ``actual`` equals ``desired`` to ``rtol`` of its largest entry.

    Entries near zero are judged on the array's scale, not their own.
    """
    desired = np.asarray(desired)
    scale = np.max(np.abs(desired), initial=0.0)
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * scale,
                               err_msg=what)


def assert_same_structure(ref_info: dict, info: dict):
    """Assert the same infodict keys, and the same type, shape and dtype of each."""
    assert sorted(info) == sorted(ref_info)
    for key, ref_value in ref_info.items():
        value = info[key]
        assert type(value) is type(ref_value), key
        if isinstance(ref_value, np.ndarray):
            assert value.shape == ref_value.shape, key
            assert value.dtype == ref_value.dtype, key


def assert_same_run(ref, out):
    """Compare two full_output results strictly (see the module docstring)."""
    xs, ds, ier_s, mesg_s = ref
    xm, dm, ier_m, mesg_m = out
    assert_same_structure(ds, dm)
    assert ier_m == ier_s
    assert mesg_m == mesg_s
    assert dm["nfev"] == ds["nfev"] - 2
    assert dm.get("njev") == ds.get("njev")
    assert type(xm) is type(xs) and xm.shape == xs.shape and xm.dtype == xs.dtype
    assert_close(xm, xs, "x")
    for key in ("fvec", "qtf", "r", "fjac"):
        assert_close(dm[key], ds[key], key)


class Recorder:
    """Wrap a callable: count its calls and keep every ``x`` it was handed."""

    def __init__(self, fn):
        self.fn = fn
        self.xs: list[np.ndarray] = []
        self.__name__ = getattr(fn, "__name__", "recorder")

    def __call__(self, x, *args):
        """Keep ``x`` and call the wrapped function."""
        self.xs.append(x)
        return self.fn(x, *args)

    @property
    def calls(self) -> int:
        """Number of calls so far."""
        return len(self.xs)


def _grid_params():
    params = []
    for case in CASES:
        for mode in MODES:
            params.append(pytest.param(case, mode, id=f"{case.id}-{mode}"))
    return params


# ---------------------------------------------------------------------------
# the registry itself
# ---------------------------------------------------------------------------


def _central_jacobian(func, x):
    """Central differences, one column per variable, step 1e-6 (1 + |x_j|)."""
    jac = np.empty((x.size, x.size))
    for j in range(x.size):
        h = 1e-6 * (1.0 + abs(x[j]))
        xp, xm = x.copy(), x.copy()
        xp[j] += h
        xm[j] -= h
        jac[:, j] = (func(xp) - func(xm)) / (2.0 * h)
    return jac


@pytest.mark.parametrize("eq", EQUATIONS, ids=[e.id for e in EQUATIONS])
def test_jacobian_matches_central_differences(eq):
    """Check each analytic Jacobian against central differences.

    At the standard start and at a nearby generic point.
    """
    rng = np.random.default_rng(20260)
    x0 = eq.start()
    for x in (x0, x0 + 0.1 * (1.0 + np.abs(x0)) * rng.standard_normal(eq.n)):
        jac = eq.jac(x)
        assert jac.shape == (eq.n, eq.n)
        assert_close(_central_jacobian(eq.func, x), jac, eq.id, rtol=1e-6)


def test_registry_sizes_and_starts():
    """The MINPACK-1 hybrd driver's sizes, and its start-factor rule."""
    assert [e.id for e in EQUATIONS] == [
        "rosenbrock-2", "powell-singular-4", "powell-badly-scaled-2", "wood-4",
        "helical-valley-3", "watson-6", "watson-9", "chebyquad-5", "chebyquad-6",
        "chebyquad-7", "chebyquad-8", "chebyquad-9", "brown-almost-linear-10",
        "discrete-boundary-10", "discrete-integral-10", "trigonometric-10",
        "variably-dimensioned-10", "broyden-tridiagonal-10", "broyden-banded-10",
    ]
    assert len(CASES) == 3 * len(EQUATIONS)
    for e in EQUATIONS:
        assert e.func(e.start()).shape == (e.n,)
    wood = by_id("wood-4")
    np.testing.assert_array_equal(wood.start(10.0), [-30.0, -10.0, -30.0, -10.0])
    watson = by_id("watson-9")
    np.testing.assert_array_equal(watson.start(1.0), np.zeros(9))
    np.testing.assert_array_equal(watson.start(100.0), np.full(9, 100.0))


# ---------------------------------------------------------------------------
# the comparison grid
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "mode"), _grid_params())
def test_matches_scipy(case, mode):
    """Agree with SciPy strictly; call func/fprime exactly nfev/njev times."""
    fprime = fprime_for(case, mode)
    ref = scipy.optimize.fsolve(case.eq.func, case.start(), fprime=fprime,
                                full_output=True)
    func = Recorder(case.eq.func)
    jac = None if fprime is None else Recorder(fprime)
    out = minpack.fsolve(func, case.start(), fprime=jac, full_output=True)
    assert func.calls == out[1]["nfev"]
    if jac is not None:
        assert jac.calls == out[1]["njev"]
    assert_same_run(ref, out)


def test_summary(request, capsys):
    """Count the runs of the grid that agree with SciPy bit for bit.

    The counts go to pytest's terminal summary when the suite's ``report``
    fixture exists, else they are printed.
    """
    counts = {"x bit-identical": 0, "same ier": 0, "nfev = SciPy nfev - 2": 0,
              "same njev": 0, "infodict bit-identical": 0}
    differing = []
    for case in CASES:
        for mode in MODES:
            (xs, ds, ier_s, _), (xm, dm, ier_m, _) = solve_both(
                case.eq.func, case.start(), fprime=fprime_for(case, mode))
            same = {
                "x bit-identical": np.array_equal(xm, xs),
                "same ier": ier_m == ier_s,
                "nfev = SciPy nfev - 2": dm["nfev"] == ds["nfev"] - 2,
                "same njev": dm.get("njev") == ds.get("njev"),
                "infodict bit-identical": all(
                    np.array_equal(dm[k], ds[k]) for k in ("fvec", "qtf", "r", "fjac")),
            }
            for key, ok in same.items():
                counts[key] += ok
            if not all(list(same.values())[:4]):
                rel = np.max(np.abs(xm - xs) / np.maximum(np.abs(xs), 1e-300))
                differing.append((f"{case.id}-{mode}",
                                  f"ier {ier_s}/{ier_m}, nfev {ds['nfev']}/"
                                  f"{dm['nfev']} (SciPy/minpack), max rel x "
                                  f"difference {rel:.1e}"))
    lines = [f"{len(CASES) * len(MODES)} runs ({len(CASES)} cases x "
             f"{len(MODES)} Jacobian modes)"]
    lines += [f"  {key:<24}: {count}" for key, count in counts.items()]
    lines += [f"  differs: {name}: {what}" for name, what in differing]
    title = "minpack.fsolve vs scipy.optimize.fsolve"
    try:
        report = request.getfixturevalue("report")
    except pytest.FixtureLookupError:
        with capsys.disabled():
            print("\n" + title + "\n" + "\n".join(lines))
    else:
        for line in lines:
            report(title, line)
    assert not differing


# ---------------------------------------------------------------------------
# options
# ---------------------------------------------------------------------------

BANDED = [("broyden-tridiagonal-10", (1, 1)), ("broyden-banded-10", (5, 1)),
          ("discrete-boundary-10", (1, 1))]


@pytest.mark.parametrize("factor", [1.0, 10.0, 100.0], ids=lambda f: f"x{f:g}")
@pytest.mark.parametrize(("ident", "band"), BANDED, ids=[b[0] for b in BANDED])
def test_band_matches_scipy(ident, band, factor):
    """A banded difference Jacobian (ml + mu + 1 evaluations per Jacobian)."""
    eq = by_id(ident)
    assert eq.band == band
    ref, out = solve_both(eq.func, eq.start(factor), band=band)
    assert_same_run(ref, out)
    # one Jacobian costs ml + mu + 1 evaluations: stop after the first step
    ref, out = solve_both(eq.func, eq.start(factor), band=band, maxfev=1)
    assert_same_run(ref, out)
    assert out[2] == 2 and out[1]["nfev"] == 1 + sum(band) + 1 + 1


@pytest.mark.parametrize("band", [(-1, -1), (0, 20), (9, 9)], ids=str)
def test_band_wide_or_negative_is_dense(band):
    """A negative or too-wide band means a dense Jacobian, as in SciPy."""
    eq = by_id("broyden-tridiagonal-10")
    ref, out = solve_both(eq.func, eq.start(), band=band)
    assert_same_run(ref, out)


def test_band_is_ignored_with_fprime():
    """``band`` only concerns the difference Jacobian."""
    eq = by_id("broyden-banded-10")
    ref, out = solve_both(eq.func, eq.start(), fprime=eq.jac, band=(5, 1))
    assert_same_run(ref, out)


DIAG_FACTOR_CASES = ["rosenbrock-2", "helical-valley-3", "wood-4", "trigonometric-10"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("option", ["diag-inverse", "diag-10", "factor-0.1",
                                    "factor-1", "factor-10", "both"])
@pytest.mark.parametrize("ident", DIAG_FACTOR_CASES)
def test_diag_and_factor_match_scipy(ident, option, mode):
    """User scaling (MINPACK mode 2) and the initial step bound factor."""
    eq = by_id(ident)
    x0 = eq.start()
    kwargs = {
        "diag-inverse": {"diag": 1.0 / (1.0 + np.abs(x0))},
        "diag-10": {"diag": np.full(eq.n, 10.0)},
        "factor-0.1": {"factor": 0.1},
        "factor-1": {"factor": 1},
        "factor-10": {"factor": 10.0},
        "both": {"diag": list(1.0 + np.arange(eq.n)), "factor": 1.0},
    }[option]
    ref, out = solve_both(eq.func, x0, fprime=None if mode == "fd" else eq.jac,
                          **kwargs)
    assert_same_run(ref, out)


@pytest.mark.parametrize("kwargs", [{"xtol": 1e-4}, {"xtol": 0.0}, {"maxfev": 7},
                                    {"epsfcn": 1e-10}, {"epsfcn": 1e-30}],
                         ids=lambda k: "-".join(f"{a}={b}" for a, b in k.items()))
@pytest.mark.parametrize("ident", ["helical-valley-3", "watson-6", "chebyquad-7"])
def test_tolerances_match_scipy(ident, kwargs):
    """Looser and zero xtol, a small maxfev, and epsfcn above and below eps."""
    eq = by_id(ident)
    for mode in MODES:
        if mode == "jac" and "epsfcn" in kwargs:
            continue
        ref, out = solve_both(eq.func, eq.start(), fprime=eq.jac if mode == "jac"
                              else None, **kwargs)
        assert_same_run(ref, out)


@pytest.mark.parametrize("ident", ["rosenbrock-2", "watson-6", "broyden-banded-10"])
def test_col_deriv_with_transposed_fprime(ident):
    """Take ``col_deriv=True`` with an fprime returning the transpose.

    The same run as SciPy's, and bit for bit the run with the row Jacobian.
    """
    eq = by_id(ident)
    x0 = eq.start(10.0)

    def jac_t(x):
        return np.ascontiguousarray(eq.jac(x).T)

    ref, out = solve_both(eq.func, x0, fprime=jac_t, col_deriv=True)
    assert_same_run(ref, out)
    rows = minpack.fsolve(eq.func, x0, fprime=eq.jac, full_output=True)
    np.testing.assert_array_equal(out[0], rows[0])
    assert out[1]["nfev"] == rows[1]["nfev"]


# ---------------------------------------------------------------------------
# messages, warnings, errors
# ---------------------------------------------------------------------------

STATUS_RUNS = {
    1: ("rosenbrock-2", 1.0, "jac", {}),
    2: ("rosenbrock-2", 1.0, "fd", {"maxfev": 5}),
    3: ("helical-valley-3", 1.0, "fd", {"xtol": 0.0}),
    4: ("wood-4", 100.0, "jac", {}),
    5: ("powell-badly-scaled-2", 100.0, "fd", {}),
}
"""ier -> a run that ends with it."""


@pytest.mark.parametrize("ier", sorted(STATUS_RUNS))
def test_status_messages_and_warnings(ier):
    """Warn like SciPy without full_output.

    The same x, and a RuntimeWarning with SciPy's message for ier 2-5
    (pointing at the caller), none for ier 1.
    """
    ident, factor, mode, kwargs = STATUS_RUNS[ier]
    eq = by_id(ident)
    fprime = None if mode == "fd" else eq.jac
    ref, out = solve_both(eq.func, eq.start(factor), fprime=fprime, **kwargs)
    assert ref[2] == out[2] == ier
    assert out[3] == ref[3]

    def plain(solver):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            x = solver(eq.func, eq.start(factor), fprime=fprime, **kwargs)
        return x, caught

    xs, ws = plain(scipy.optimize.fsolve)
    xm, wm = plain(minpack.fsolve)
    np.testing.assert_array_equal(xm, out[0])
    assert_close(xm, xs, "x")
    assert [(w.category, str(w.message)) for w in wm] == \
        [(w.category, str(w.message)) for w in ws]
    if ier == 1:
        assert wm == []
    else:
        assert len(wm) == 1 and wm[0].filename == __file__
        with pytest.warns(RuntimeWarning, match="^" + re.escape(ref[3]) + "$"):
            minpack.fsolve(eq.func, eq.start(factor), fprime=fprime, **kwargs)


IMPROPER = {
    "xtol-negative": {"xtol": -1e-8},
    "factor-zero": {"factor": 0.0},
    "factor-negative": {"factor": -1.0},
    "diag-zero": {"diag": [1.0, 0.0]},
    "diag-negative": {"diag": [-1.0, 1.0]},
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kwargs", IMPROPER.values(), ids=IMPROPER.keys())
def test_improper_input(kwargs, mode):
    """Report improper input (status 0) like SciPy.

    TypeError with SciPy's message without full_output; with it, ier 0, x0
    back unchanged and SciPy's nfev minus 2 (zero).
    """
    eq = by_id("rosenbrock-2")
    fprime = None if mode == "fd" else eq.jac
    with pytest.raises(TypeError) as ref_err:
        scipy.optimize.fsolve(eq.func, eq.start(), fprime=fprime, **kwargs)
    with pytest.raises(TypeError) as err:
        minpack.fsolve(eq.func, eq.start(), fprime=fprime, **kwargs)
    assert str(err.value) == str(ref_err.value) == \
        "Improper input parameters were entered."
    (xs, ds, ier_s, mesg_s), (xm, dm, ier_m, mesg_m) = solve_both(
        eq.func, eq.start(), fprime=fprime, **kwargs)
    assert ier_m == ier_s == 0 and mesg_m == mesg_s
    assert_same_structure(ds, dm)
    assert dm["nfev"] == ds["nfev"] - 2 == 0
    assert dm.get("njev") == ds.get("njev")
    np.testing.assert_array_equal(xm, xs)
    np.testing.assert_array_equal(xm, eq.start())
    np.testing.assert_array_equal(dm["fvec"], ds["fvec"])


def test_improper_input_reports_minpacks_nfev():
    """On improper input nfev is MINPACK's 0, though func ran once at x0.

    fsolve evaluates func at x0 (to check its shape) before MINPACK checks
    its input; MINPACK then rejects the call without counting. Documented in
    the Notes of ``minpack.fsolve``.
    """
    eq = by_id("rosenbrock-2")
    func = Recorder(eq.func)
    _, info, ier, _ = minpack.fsolve(func, eq.start(), xtol=-1.0, full_output=True)
    assert ier == 0
    assert func.calls == 1
    assert info["nfev"] == 0


@pytest.mark.parametrize("mode", MODES)
def test_negative_maxfev_means_default(mode):
    """Take a negative maxfev as the default, as SciPy does."""
    eq = by_id("rosenbrock-2")
    ref, out = solve_both(eq.func, eq.start(),
                          fprime=None if mode == "fd" else eq.jac, maxfev=-1)
    assert ref[2] == 1
    assert_same_run(ref, out)


def test_fprime_wrong_shape_raises_scipys_type_error():
    """Raise SciPy's TypeError, message included, for a misshapen fprime."""
    eq = by_id("rosenbrock-2")
    for bad in (lambda x: np.ones((2, 3)), lambda x: np.ones(4),
                lambda x: np.ones((3, 3))):
        with pytest.raises(TypeError) as ref_err:
            scipy.optimize.fsolve(eq.func, eq.start(), fprime=bad)
        with pytest.raises(TypeError) as err:
            minpack.fsolve(eq.func, eq.start(), fprime=bad)
        assert str(err.value) == str(ref_err.value)
        assert "mismatch between the input and output shape of the 'fprime'" \
            in str(err.value)


def test_func_wrong_shape_raises_scipys_type_error():
    """Raise SciPy's TypeError for a func of the wrong length.

    The message is SciPy's, except that SciPy names its internal counting
    wrapper ``_wrapped_func`` where minpack names the user's function.
    """
    def three(x):
        return np.ones(3)

    with pytest.raises(TypeError) as ref_err:
        scipy.optimize.fsolve(three, [1.0, 2.0])
    with pytest.raises(TypeError) as err:
        minpack.fsolve(three, [1.0, 2.0])
    assert str(err.value) == str(ref_err.value).replace("'_wrapped_func'", "'three'")


class Boom(Exception):
    """Raised by the test callbacks."""


@pytest.mark.parametrize(
    ("where", "mode"),
    [(w, m) for w in ("func-1", "func-2", "func-9") for m in MODES]
    + [("fprime-1", "jac"), ("fprime-2", "jac")],
    ids=lambda v: v)
def test_callback_exception_is_reraised_unchanged(where, mode, capfd):
    """Re-raise the exception object of func or fprime, as is.

    The solver stops at once and nothing is printed. func-1 is the
    evaluation at x0 (made in Python), the others come from inside the
    Fortran solver.
    """
    who, at = where.split("-")
    eq = by_id("wood-4")
    boom = Boom("stop here")
    calls = {"func": 0, "fprime": 0}

    def counted(name, fn):
        def wrapper(x):
            calls[name] += 1
            if name == who and calls[name] == int(at):
                raise boom
            return fn(x)
        return wrapper

    fprime = None if mode == "fd" else counted("fprime", eq.jac)
    with pytest.raises(Boom) as err:
        minpack.fsolve(counted("func", eq.func), eq.start(), fprime=fprime,
                       full_output=True)
    assert err.value is boom
    assert calls[who] == int(at)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


# ---------------------------------------------------------------------------
# what the callbacks see, inputs left alone, args
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ident", ["rosenbrock-2", "chebyquad-5"])
def test_callbacks_get_fresh_arrays(ident, mode):
    """Hand func and fprime a new array each time, theirs to keep.

    Distinct objects, no shared memory, and the kept values still differ.
    """
    eq = by_id(ident)
    func = Recorder(eq.func)
    jac = None if mode == "fd" else Recorder(eq.jac)
    x, info, _, _ = minpack.fsolve(func, eq.start(), fprime=jac, full_output=True)
    kept = func.xs + ([] if jac is None else jac.xs)
    assert func.calls == info["nfev"] > 5
    assert len({id(a) for a in kept}) == len(kept)
    for i, a in enumerate(kept):
        assert a.shape == (eq.n,) and a.dtype == np.float64
        assert not any(np.shares_memory(a, b) for b in kept[i + 1:])
        assert not np.shares_memory(a, x)
    values = {a.tobytes() for a in func.xs}
    assert len(values) > len(func.xs) // 2
    # the kept arrays still hold what was evaluated: the last accepted point
    # is among them
    assert x.tobytes() in values


@pytest.mark.parametrize("mode", MODES)
def test_x0_not_modified(mode):
    """Leave x0 untouched; accept a read-only x0."""
    eq = by_id("helical-valley-3")
    x0 = eq.start(10.0)
    saved = x0.copy()
    x = minpack.fsolve(eq.func, x0, fprime=None if mode == "fd" else eq.jac)
    np.testing.assert_array_equal(x0, saved)
    assert not np.shares_memory(x, x0)
    frozen = saved.copy()
    frozen.flags.writeable = False
    np.testing.assert_array_equal(
        minpack.fsolve(eq.func, frozen, fprime=None if mode == "fd" else eq.jac), x)


def _shifted(x, c, scale=1.0):
    """Rosenbrock's system minus ``c``, times ``scale``: extra arguments."""
    return scale * (by_id("rosenbrock-2").func(x) - c)


def _shifted_jac(x, c, scale=1.0):
    return scale * by_id("rosenbrock-2").jac(x)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("args", [(0.5,), 0.5, (np.array([0.5, -1.0]), 2.0),
                                  np.array([0.5, -1.0])],
                         ids=["tuple", "scalar", "tuple-of-two", "array"])
def test_args_tuple_and_non_tuple(args, mode):
    """Take ``args`` as a tuple, or as one non-tuple argument (as SciPy does)."""
    x0 = by_id("rosenbrock-2").start()
    ref, out = solve_both(_shifted, x0, args=args,
                          fprime=None if mode == "fd" else _shifted_jac)
    assert_same_run(ref, out)
    a = args if isinstance(args, tuple) else (args,)
    assert np.linalg.norm(_shifted(out[0], *a)) < 1e-12
