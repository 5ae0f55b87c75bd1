"""``minpack.leastsq``: what users hit, and SciPy's results on the registry.

The file has two parts.

**What users hit, beyond the numbers** (the first part). Exceptions raised in
callbacks, reentrant and threaded use, inputs left untouched, shapes and dtypes
of inputs and outputs, warnings and errors (NaN and inf residuals:
``test_nonfinite.py``). Where SciPy
defines the behaviour, SciPy is called in the same test and the two are
compared. Two deliberate differences from SciPy are tested as such: ``func`` is
called exactly ``nfev`` times (SciPy adds two calls at x0), and every ``x``
handed to ``func``/``Dfun`` is a fresh array.

**Against SciPy on the registry** (the second part, ``test_matches_scipy``).
Every curve-fitting and MGH problem of the registry runs under every option of
``OPTIONS`` (Dfun on/off, col_deriv with a transposed Dfun, diag, factor,
epsfcn, small maxfev, loose and zero tolerances, gtol, tuple and non-tuple
args, full_output on/off): minpack and SciPy are called in the same test with
the same arguments (fresh copies for each) and their outputs are compared.

Structure is always compared exactly: return length and types, x dtype and
shape, infodict keys in order with their types, shapes and dtypes (fjac
(n, m), ipvt int32), cov_x shape and dtype.

Strict comparison (a well-conditioned problem, or a Dfun option on a problem
whose only trouble is finite differences; never for ``dfun_zero_tol``): same
``ier``, ``nfev``, ``njev``, ``mesg`` and ``ipvt``; same warnings, raised at
the caller's line; ``x``, ``cov_x``, ``fvec``, ``qtf`` and the ``R`` factor in
``fjac`` equal to RTOL = 1e-8 relative, with an absolute floor of RTOL times
the scale of the quantity (of x0 for x, of the starting residual norm for
fvec and qtf). What a forward-difference Jacobian decides (cov_x and R; x
and fvec of runs stopped early) is compared to RTOL_FD = 1e-6: see there.

Loose comparison (the rest): outcome class (ier 1-4 success, 5-8 stopped)
and final residual norm no worse than SciPy's, where "SciPy's" is widened,
only when needed, to SciPy's own spread under one-ulp perturbations of the
input (see ``within``).

How each problem was classified: we reran SciPy itself on every strict option
with the starting point moved by a few ulps and with the residuals scaled by
1 + k 2**-52, and applied ``compare_strict`` to SciPy against itself. The
cases that failed are listed, with the reason, in
``support.problems.MGH_ILL_CONDITIONED``; every curve problem passed. A faithful but
independent MINPACK build must therefore reproduce SciPy on the strict cases.

``vectorized=True`` has its own file, ``test_vectorized.py``.
"""

from __future__ import annotations

import re
import sys
import threading
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pytest
import scipy.optimize
from support.problems import DATA_MISSING_REASON, Problem, select

import minpack

pytestmark = pytest.mark.scipy_oracle  # compared with SciPy: see conftest.py

CURVES = select("curve")
T = np.linspace(0.0, 3.0, 12)
Y = 2.0 * np.exp(-1.3 * T) + 0.25


def decay(x, t=T, y=Y):
    """Residual of ``a exp(-k t) + c`` for the module's small data set."""
    return x[0] * np.exp(-x[1] * t) + x[2] - y


def decay_jac(x, t=T, y=Y):
    """Jacobian of :func:`decay`, shape (m, n)."""
    e = np.exp(-x[1] * t)
    return np.column_stack([e, -x[0] * t * e, np.ones_like(t)])


X0 = (1.0, 0.5, 0.0)


def both(*args, **kwargs):
    """Run minpack and SciPy with the same arguments (fresh copies of x0)."""
    func, x0, *rest = args
    ours = minpack.leastsq(func, np.copy(x0), *rest, **kwargs)
    ref = scipy.optimize.leastsq(func, np.copy(x0), *rest, **kwargs)
    return ours, ref


def assert_same_fit(ours: tuple, ref: tuple, rtol: float = 1e-12) -> None:
    """Assert the same ier (nfev, mesg with full_output) and x to ``rtol``."""
    assert len(ours) == len(ref)
    assert ours[-1] == ref[-1], f"ier {ours[-1]} != SciPy's {ref[-1]}"
    np.testing.assert_allclose(ours[0], ref[0], rtol=rtol, atol=0)
    assert ours[0].shape == ref[0].shape
    assert ours[0].dtype == ref[0].dtype
    if len(ref) == 5:
        assert ours[2]["nfev"] == ref[2]["nfev"]
        assert ours[3] == ref[3]


# ---------------------------------------------------------------------------
# Exceptions inside callbacks
# ---------------------------------------------------------------------------


class UserError(Exception):
    """An exception only user code raises."""


class UserInterrupt(KeyboardInterrupt):
    """A BaseException (not an Exception), like Ctrl-C in a long fit."""


def _frames(exc: BaseException) -> list:
    tb = exc.__traceback__
    out = []
    while tb is not None:
        out.append(tb.tb_frame.f_code)
        tb = tb.tb_next
    return out


@pytest.mark.parametrize(
    "kind", [UserError, UserInterrupt], ids=["Exception", "BaseException"]
)
@pytest.mark.parametrize("on_call", [1, 2, 7], ids=["x0", "jacobian", "later"])
@pytest.mark.parametrize("full_output", [False, True])
def test_func_exception_is_reraised_unchanged(
    capfd, kind, on_call, full_output
) -> None:
    """The very exception object comes back, with the user's frame on top."""
    err = kind(f"raised on call {on_call}")
    calls = []

    def residual(x):
        calls.append(1)
        if len(calls) == on_call:
            raise err
        return decay(x)

    with pytest.raises(kind) as info:
        minpack.leastsq(residual, X0, full_output=full_output)
    assert info.value is err
    assert len(calls) == on_call, "func must not be called after it raised"
    frames = _frames(err)
    assert frames[-1] is residual.__code__, "innermost frame is the user's function"
    assert err.__context__ is None and err.__cause__ is None, "no chained noise"
    out, errout = capfd.readouterr()
    assert (out, errout) == ("", "")


@pytest.mark.parametrize("on_call", [1, 3])
def test_dfun_exception_is_reraised_unchanged(capfd, on_call) -> None:
    """An exception from Dfun comes back unchanged, nothing printed."""
    err = UserError("from Dfun")
    calls = []

    def jac(x):
        calls.append(1)
        if len(calls) == on_call:
            raise err
        return decay_jac(x)

    with pytest.raises(UserError) as info:
        minpack.leastsq(decay, X0, Dfun=jac, full_output=True)
    assert info.value is err
    assert len(calls) == on_call
    assert _frames(err)[-1] is jac.__code__
    assert err.__context__ is None and err.__cause__ is None
    assert capfd.readouterr() == ("", "")


def test_next_fit_after_an_exception_is_clean(capfd) -> None:
    """An aborted fit leaves nothing behind: the next fit equals SciPy's."""

    def bad(x):
        raise UserError("boom")

    with pytest.raises(UserError):
        minpack.leastsq(bad, X0)
    ours, ref = both(decay, X0, full_output=True)
    assert_same_fit(ours, ref, rtol=0)
    assert capfd.readouterr() == ("", "")


def test_numpy_floating_error_in_func_propagates() -> None:
    """A warning turned error inside func (filterwarnings=error) propagates."""

    def residual(x):
        with np.errstate(divide="raise"):
            return decay(x) + np.float64(1.0) / (x[2] - x[2])

    with pytest.raises(FloatingPointError):
        minpack.leastsq(residual, X0)


# ---------------------------------------------------------------------------
# Reentrancy
# ---------------------------------------------------------------------------


def _varpro(leastsq, checks: list):
    """Outer fit over the rate k; each residual call fits (a, c) by leastsq.

    ``checks`` collects the inner solutions and their exact least-squares
    values, so the test can verify every nested fit.
    """
    design_t = T

    def inner_residual(ac, k):
        return ac[0] * np.exp(-k * design_t) + ac[1] - Y

    def outer_residual(kv):
        k = kv[0]
        ac, ier = leastsq(inner_residual, [1.0, 0.0], args=(k,))
        a = np.column_stack([np.exp(-k * design_t), np.ones_like(design_t)])
        exact = np.linalg.lstsq(a, Y, rcond=None)[0]
        checks.append((ac, exact, ier))
        return inner_residual(ac, k)

    return leastsq(outer_residual, [0.5], full_output=True)


def test_reentrant_call_inside_func() -> None:
    """A fit inside func (variable projection) gives SciPy's nested result."""
    our_checks, ref_checks = [], []
    ours = _varpro(minpack.leastsq, our_checks)
    ref = _varpro(scipy.optimize.leastsq, ref_checks)
    assert_same_fit(ours, ref, rtol=1e-10)
    assert ours[0][0] == pytest.approx(1.3, rel=1e-6)
    assert len(our_checks) == ours[2]["nfev"]
    for ac, exact, ier in our_checks:
        assert ier in (1, 2, 3, 4)
        np.testing.assert_allclose(ac, exact, rtol=1e-6, atol=1e-8)


def test_reentrant_three_levels_and_in_dfun() -> None:
    """Leastsq inside Dfun inside leastsq inside func: all levels correct."""

    def sqrt_by_fit(v):
        # sqrt(v) as the root of z**2 - v, itself nested once more for v's scale
        scale, _ = minpack.leastsq(lambda s: np.array([s[0] - 1.0]), [3.0])
        z, ier = minpack.leastsq(lambda z: np.array([z[0] ** 2 - v * scale[0]]), [1.0])
        assert ier in (1, 2, 3, 4)
        return z[0]

    def residual(x):
        return np.array([sqrt_by_fit(x[0] ** 2 + 1.0) - 2.0, x[1] - 0.5])

    def jac(x):
        r = sqrt_by_fit(x[0] ** 2 + 1.0)
        return np.array([[x[0] / r, 0.0], [0.0, 1.0]])

    x, cov_x, info, mesg, ier = minpack.leastsq(
        residual, [1.0, 0.0], Dfun=jac, full_output=True
    )
    assert ier in (1, 2, 3, 4), mesg
    np.testing.assert_allclose(x, [np.sqrt(3.0), 0.5], rtol=1e-7)


def test_exception_caught_inside_func_from_inner_fit() -> None:
    """An inner fit that raises, caught by the outer func, changes nothing.

    The outer fit ends exactly as if the inner call had not happened.
    """

    def failing_inner(x):
        raise UserError("inner")

    def noisy(x):
        try:
            minpack.leastsq(failing_inner, [1.0])
        except UserError:
            pass
        return decay(x)

    ours = minpack.leastsq(noisy, X0, full_output=True)
    clean = minpack.leastsq(decay, X0, full_output=True)
    np.testing.assert_array_equal(ours[0], clean[0])
    assert ours[2]["nfev"] == clean[2]["nfev"]
    assert ours[-1] == clean[-1]


# ---------------------------------------------------------------------------
# Threads
# ---------------------------------------------------------------------------


def _fit_key(p: Problem, use_jac: bool) -> tuple:
    x, cov_x, info, mesg, ier = minpack.leastsq(
        p.func,
        p.start(),
        args=p.args,
        Dfun=p.jac if use_jac else None,
        full_output=True,
    )
    cov = None if cov_x is None else cov_x.tobytes()
    return (x.tobytes(), cov, info["fvec"].tobytes(), info["nfev"], ier, mesg)


def test_threads_give_serial_results_bit_for_bit() -> None:
    """8 threads x 100 fits, mixed problems, equal to the serial results."""
    jobs = [(CURVES[i % len(CURVES)], bool((i // len(CURVES)) % 2)) for i in range(100)]
    serial = [_fit_key(p, j) for p, j in jobs]
    n_threads = 8
    barrier = threading.Barrier(n_threads)
    results: dict[int, list] = {}
    errors: list[BaseException] = []

    def worker(tid: int) -> None:
        try:
            barrier.wait()
            # Each thread walks the jobs from a different offset, so different
            # problems are in flight at the same moment.
            order = [(tid * 13 + i) % len(jobs) for i in range(len(jobs))]
            results[tid] = [(k, _fit_key(*jobs[k])) for k in order]
        except BaseException as exc:  # reported below
            errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors
    assert len(results) == n_threads
    for tid, got in results.items():
        for k, key in got:
            assert key == serial[k], f"thread {tid}, job {k} ({jobs[k][0].name})"


def test_exception_in_one_thread_stays_in_that_thread() -> None:
    """Fits that raise in some threads do not disturb fits in the others."""
    n_threads = 8
    barrier = threading.Barrier(n_threads)
    outcome: dict[int, object] = {}
    errs = {t: UserError(f"thread {t}") for t in range(0, n_threads, 2)}
    reference = _fit_key(CURVES[0], False)

    def worker(tid: int) -> None:
        p = CURVES[0]
        calls = []

        def residual(x, *args):
            calls.append(1)
            if tid in errs and len(calls) == 5:
                raise errs[tid]
            return p.func(x, *args)

        barrier.wait()
        for _ in range(20):
            calls.clear()
            try:
                x, cov_x, info, mesg, ier = minpack.leastsq(
                    residual, p.start(), args=p.args, full_output=True
                )
                outcome.setdefault(tid, []).append(
                    (
                        x.tobytes(),
                        None if cov_x is None else cov_x.tobytes(),
                        info["fvec"].tobytes(),
                        info["nfev"],
                        ier,
                        mesg,
                    )
                )
            except UserError as exc:
                outcome.setdefault(tid, []).append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for tid in range(n_threads):
        got = outcome[tid]
        assert len(got) == 20
        if tid in errs:
            assert all(g is errs[tid] for g in got)
        else:
            assert all(g == reference for g in got)


# ---------------------------------------------------------------------------
# Inputs left untouched; dtypes and shapes of x0
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x0",
    [
        np.array(X0),
        np.array(X0, dtype=np.float32),
        np.array([1, 1, 0]),
        np.array([[1.0], [0.5], [0.0]]),
    ],
    ids=["float64", "float32", "int", "column"],
)
@pytest.mark.parametrize("use_jac", [False, True], ids=["diff", "dfun"])
def test_x0_is_left_untouched(x0, use_jac) -> None:
    """x0 keeps its values, dtype and shape, and shares no memory with x."""
    before = x0.copy()
    seen = []

    def residual(x):
        seen.append(x)
        return decay(x)

    jac = decay_jac if use_jac else None
    x, cov_x, info, mesg, ier = minpack.leastsq(
        residual, x0, Dfun=jac, full_output=True
    )
    assert x0.dtype == before.dtype and x0.shape == before.shape
    np.testing.assert_array_equal(x0, before)
    assert x is not x0 and not np.shares_memory(x, x0)
    assert all(not np.shares_memory(s, x0) for s in seen)
    assert x.shape == (3,) and x.dtype == np.float64


def test_read_only_inputs_are_accepted() -> None:
    """Read-only x0 and diag are fine: the solver works on its own copies."""
    x0 = np.array(X0)
    x0.flags.writeable = False
    diag = np.array([1.0, 2.0, 1.0])
    diag.flags.writeable = False
    ours, ref = both(decay, x0, Dfun=decay_jac, diag=diag, full_output=True)
    assert_same_fit(ours, ref, rtol=0)
    np.testing.assert_array_equal(diag, [1.0, 2.0, 1.0])


@pytest.mark.parametrize(
    "x0",
    [3.0, 3, np.float64(3.0), np.float32(3.0), [3.0], np.array(3.0)],
    ids=["float", "int", "np.float64", "np.float32", "list", "0-d array"],
)
def test_scalar_x0(x0) -> None:
    """A scalar x0 gives SciPy's fit: x of shape (1,), cov_x (1, 1)."""

    def residual(x):
        return np.array([x[0] ** 2 - 2.0, x[0] - 1.4])

    ours, ref = both(residual, x0, full_output=True)
    assert_same_fit(ours, ref, rtol=0)
    assert ours[0].shape == (1,)
    assert ours[1].shape == (1, 1)


@pytest.mark.parametrize(
    "x0",
    [[1, 1, 0], (1, 1, 0), np.array([1, 1, 0], dtype=np.int32)],
    ids=["list", "tuple", "int32"],
)
def test_integer_x0(x0) -> None:
    """Integer x0 is converted to float64, as in SciPy."""
    ours, ref = both(decay, x0, full_output=True)
    assert_same_fit(ours, ref, rtol=0)
    assert ours[0].dtype == np.float64


@pytest.mark.parametrize("p", CURVES[:4], ids=lambda p: p.name)
def test_float32_x0_matches_scipy(p: Problem) -> None:
    """float32 x0 with float64 data: same fit as SciPy."""
    x0 = p.start().astype(np.float32)
    ours = minpack.leastsq(p.func, x0, args=p.args, full_output=True)
    ref = scipy.optimize.leastsq(p.func, x0, args=p.args, full_output=True)
    assert_same_fit(ours, ref, rtol=1e-12)


def test_float32_x0_with_dtype_preserving_residual_matches_scipy() -> None:
    """A float32 x0 and a residual computed from x alone: SciPy's fit.

    Such a residual stays float32. SciPy probes func at x0 as given, sees a
    float32 residual and takes epsfcn = finfo(float32).eps; a drop-in must
    pick the same difference step.
    """

    def residual(x):
        return np.stack([x[0] ** 2 - 2, x[1] - 1, x[0] * x[1] - 1.5])

    x0 = np.array([3.0, 1.0], dtype=np.float32)
    ours, ref = both(residual, x0, full_output=True)
    assert_same_fit(ours, ref, rtol=1e-12)


def test_float32_residual_sets_default_epsfcn() -> None:
    """epsfcn=None means finfo(residual dtype).eps, as in SciPy."""

    def residual(x):
        return decay(x).astype(np.float32)

    ours, ref = both(residual, X0, full_output=True)
    assert_same_fit(ours, ref, rtol=1e-12)
    # and it differs from the float64 default, so the test can tell
    plain = minpack.leastsq(decay, X0, full_output=True)
    assert plain[2]["nfev"] != ours[2]["nfev"] or not np.array_equal(plain[0], ours[0])


# ---------------------------------------------------------------------------
# args, full_output, return types
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [2.0, np.array([2.0]), [2.0], (2.0,), {"scale": 2.0}],
    ids=["float", "array", "list", "tuple", "dict"],
)
def test_args_tuple_and_non_tuple(args) -> None:
    """A non-tuple ``args`` is one extra argument, as in SciPy."""

    def residual(x, a):
        a = a["scale"] if isinstance(a, dict) else np.asarray(a).ravel()[0]
        return decay(x) * a

    ours, ref = both(residual, X0, args=args, full_output=True)
    assert_same_fit(ours, ref, rtol=0)


@pytest.mark.parametrize(
    "full_output", [0, 1, False, True], ids=["0", "1", "False", "True"]
)
def test_full_output_truthiness(full_output) -> None:
    """full_output is used for its truth value (0/1 or bool)."""
    ours, ref = both(decay, X0, full_output=full_output)
    assert len(ours) == len(ref) == (5 if full_output else 2)
    assert type(ours[-1]) is type(ref[-1])
    assert_same_fit(ours, ref, rtol=0)


def test_infodict_layout_matches_scipy() -> None:
    """Keys (in order), types, shapes and dtypes; fjac (n, m); ipvt 0-based."""
    for jac in (None, decay_jac):
        ours, ref = both(decay, X0, Dfun=jac, full_output=True)
        assert list(ours[2]) == list(ref[2])
        for key, value in ref[2].items():
            assert type(ours[2][key]) is type(value), key
            if isinstance(value, np.ndarray):
                assert ours[2][key].shape == value.shape, key
                assert ours[2][key].dtype == value.dtype, key
        assert ours[2]["fjac"].shape == (3, T.size)
        assert ours[2]["ipvt"].dtype == np.int32
        assert sorted(ours[2]["ipvt"]) == [0, 1, 2]
        np.testing.assert_array_equal(ours[2]["ipvt"], ref[2]["ipvt"])


def test_col_deriv_with_transposed_dfun() -> None:
    """col_deriv=True with an (n, m) Dfun equals the row layout exactly."""

    def jac_t(x):
        return np.ascontiguousarray(decay_jac(x).T)

    ours, ref = both(decay, X0, Dfun=jac_t, col_deriv=True, full_output=True)
    assert_same_fit(ours, ref, rtol=0)
    row = minpack.leastsq(decay, X0, Dfun=decay_jac, full_output=True)
    np.testing.assert_array_equal(ours[0], row[0])


# ---------------------------------------------------------------------------
# Wrong shapes and wrong residuals
# ---------------------------------------------------------------------------


def _raises_both(exc_type, *args, **kwargs) -> tuple[str, str]:
    func, x0, *rest = args
    with pytest.raises(exc_type) as ours:
        minpack.leastsq(func, x0, *rest, **kwargs)
    with pytest.raises(exc_type) as ref:
        scipy.optimize.leastsq(func, x0, *rest, **kwargs)
    return str(ours.value), str(ref.value)


def test_n_greater_than_m() -> None:
    """More parameters than residuals: SciPy's TypeError, same message."""

    def residual(x):
        return np.array([x[0] + x[1] + x[2] - 1.0, x[0] - x[1]])

    ours, ref = _raises_both(TypeError, residual, X0)
    assert ours == ref


@pytest.mark.parametrize("col_deriv", [False, True])
def test_dfun_of_wrong_shape(col_deriv) -> None:
    """Dfun in the other layout: SciPy's TypeError, same message."""

    def jac(x):
        j = decay_jac(x)
        return j if col_deriv else j.T  # the layout of the other setting

    ours, ref = _raises_both(TypeError, decay, X0, Dfun=jac, col_deriv=col_deriv)
    assert ours == ref


def test_dfun_of_wrong_size() -> None:
    """Dfun with a column missing: SciPy's TypeError, same message."""

    def jac(x):
        return decay_jac(x)[:, :2]

    ours, ref = _raises_both(TypeError, decay, X0, Dfun=jac)
    assert ours == ref


WRONG_RESIDUALS = {
    "str": (lambda x: "abc", r"str"),
    "None": (lambda x: None, r"None"),
    "complex": (lambda x: decay(x) * (1 + 1j), r"complex"),
    "2-D": (lambda x: np.ones((4, 3)) * x[0], r"\(4, 3\)"),
    "object": (lambda x: np.array([object()] * 12), r"object"),
}


@pytest.mark.parametrize("case", WRONG_RESIDUALS, ids=str)
def test_residual_of_wrong_type(case, capfd) -> None:
    """A residual that is not a 1-D float array: a clear error, no noise."""
    func, returned = WRONG_RESIDUALS[case]
    with pytest.raises((TypeError, ValueError)) as info:
        minpack.leastsq(func, X0)
    msg = str(info.value)
    assert re.search(returned, msg), f"message does not say what was returned: {msg}"
    assert re.search(r"1-D|one-dimensional", msg) and re.search(r"float|real", msg), (
        f"message does not say what was expected: {msg}"
    )
    assert capfd.readouterr() == ("", "")


def test_residual_changing_length_mid_fit(capfd) -> None:
    """A residual that changes length mid-fit is an error, not a crash."""
    calls = []

    def residual(x):
        calls.append(1)
        r = decay(x)
        return r if len(calls) < 4 else r[:-1]

    with pytest.raises((TypeError, ValueError)) as info:
        minpack.leastsq(residual, X0)
    msg = str(info.value)
    assert re.search(r"\b11\b", msg) and re.search(r"\b12\b", msg), (
        f"message should give the length returned (11) and expected (12): {msg}"
    )
    assert capfd.readouterr() == ("", "")


def test_dfun_changing_shape_mid_fit(capfd) -> None:
    """A Jacobian that changes shape mid-fit is an error, not a crash."""
    calls = []

    def jac(x):
        calls.append(1)
        j = decay_jac(x)
        return j if len(calls) < 2 else j[:, :2]

    with pytest.raises((TypeError, ValueError)):
        minpack.leastsq(decay, X0, Dfun=jac)
    assert capfd.readouterr() == ("", "")


# ---------------------------------------------------------------------------
# Call counts and fresh x
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("use_jac", [False, True], ids=["diff", "dfun"])
@pytest.mark.parametrize("maxfev", [0, 7])
@pytest.mark.parametrize("p", CURVES, ids=lambda p: p.name)
def test_func_called_exactly_nfev_times(p: Problem, use_jac, maxfev) -> None:
    """Call func nfev times in all (Dfun njev times); nfev is SciPy's."""
    f_calls, j_calls = [], []

    def residual(x, *args):
        f_calls.append(1)
        return p.func(x, *args)

    def jac(x, *args):
        j_calls.append(1)
        return p.jac(x, *args)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # maxfev=7 may stop
        x, cov_x, info, mesg, ier = minpack.leastsq(
            residual,
            p.start(),
            args=p.args,
            Dfun=jac if use_jac else None,
            full_output=True,
            maxfev=maxfev,
        )
    assert len(f_calls) == info["nfev"]
    if use_jac:
        assert len(j_calls) == info["njev"]
    else:
        assert "njev" not in info and not j_calls
    ref = scipy.optimize.leastsq(
        p.func,
        p.start(),
        args=p.args,
        Dfun=p.jac if use_jac else None,
        full_output=True,
        maxfev=maxfev,
    )
    assert info["nfev"] == ref[2]["nfev"]


@pytest.mark.parametrize("use_jac", [False, True], ids=["diff", "dfun"])
def test_x_given_to_callbacks_is_fresh(use_jac) -> None:
    """Every x handed to func/Dfun is a new array the user may keep."""
    kept, kept_j = [], []

    def residual(x):
        r = decay(x)
        kept.append((x, r.copy()))
        return r

    def jac(x):
        kept_j.append((x, x.copy()))
        return decay_jac(x)

    x0 = np.array(X0)
    x, cov_x, info, mesg, ier = minpack.leastsq(
        residual, x0, Dfun=jac if use_jac else None, full_output=True
    )
    xs = [k[0] for k in kept] + [k[0] for k in kept_j]
    assert len({id(v) for v in xs}) == len(xs), "an x array was handed out twice"
    for i, a in enumerate(xs):
        for b in xs[i + 1 :]:
            assert not np.shares_memory(a, b)
    # The kept arrays still hold the points they were called at ...
    for xi, ri in kept:
        np.testing.assert_array_equal(decay(xi), ri)
    for xi, copy in kept_j:
        np.testing.assert_array_equal(xi, copy)
    # ... which are the iterates: x0 first, the solution among them, not all equal.
    np.testing.assert_array_equal(kept[0][0], x0)
    assert any(np.array_equal(xi, x) for xi, _ in kept)
    assert not all(np.array_equal(xi, x) for xi, _ in kept)
    assert len({xi.tobytes() for xi, _ in kept}) > len(kept) // 2


def test_func_may_scribble_on_its_x() -> None:
    """X is the user's own copy: writing to it cannot steer the solver."""

    def scribbling(x):
        r = decay(x)
        x[:] = 1e6
        return r

    ours = minpack.leastsq(scribbling, X0, Dfun=None, full_output=True)
    clean = minpack.leastsq(decay, X0, full_output=True)
    np.testing.assert_array_equal(ours[0], clean[0])
    assert ours[2]["nfev"] == clean[2]["nfev"]


def test_residual_buffer_reused_by_func() -> None:
    """A residual array reused by func (filled in place) is not aliased.

    Neither the solver nor infodict['fvec'] may keep a view of it.
    """
    buf = np.empty(T.size)

    def in_place(x):
        buf[:] = decay(x)
        return buf

    ours = minpack.leastsq(in_place, X0, full_output=True)
    ref = scipy.optimize.leastsq(decay, X0, full_output=True)
    assert_same_fit(ours, ref, rtol=0)
    fvec = ours[2]["fvec"].copy()
    buf[:] = -1.0
    np.testing.assert_array_equal(ours[2]["fvec"], fvec)


# ---------------------------------------------------------------------------
# Warnings and errors of ier
# ---------------------------------------------------------------------------


def test_maxfev_warns_without_full_output() -> None:
    """Warn as SciPy for ier 5 without full_output, at the caller's line."""
    with pytest.warns(RuntimeWarning) as ours_w:
        ours = minpack.leastsq(decay, X0, maxfev=5)
    with pytest.warns(RuntimeWarning) as ref_w:
        ref = scipy.optimize.leastsq(decay, X0, maxfev=5)
    assert ours[1] == ref[1] == 5
    assert [str(w.message) for w in ours_w] == [str(w.message) for w in ref_w]
    assert len(ours_w) == 1
    # stacklevel: the warning points at the caller's line, as SciPy's does
    assert ours_w[0].filename == __file__
    np.testing.assert_array_equal(ours[0], ref[0])


def test_maxfev_does_not_warn_with_full_output() -> None:
    """Do not warn for ier 5 with full_output; SciPy's message in mesg."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = minpack.leastsq(decay, X0, maxfev=5, full_output=True)
    assert ours[-1] == 5
    assert caught == []
    ref = scipy.optimize.leastsq(decay, X0, maxfev=5, full_output=True)
    assert ours[3] == ref[3]


# A straight line fitted from its own least-squares solution (written in hex
# so no LAPACK is involved): with ftol = xtol = 0 the only way out is the
# gtol = 0 test at machine precision, ier 8.
LINE_T = np.arange(6.0)
LINE_Y = np.array([0.289, 3.651, 5.103, 6.096, 7.382, 11.111])
LINE_X0 = np.array(
    [float.fromhex("0x1.bd64282e07fcep-1"), float.fromhex("0x1.e4e86b32bb5d4p+0")]
)


def line(x):
    """Residual of a straight line through (LINE_T, LINE_Y)."""
    return x[0] + x[1] * LINE_T - LINE_Y


def line_jac(x):
    """Jacobian of :func:`line`."""
    return np.column_stack([np.ones_like(LINE_T), LINE_T])


STOPS = {
    # ier: (func, x0, kwargs), each found by running SciPy
    5: (decay, X0, dict(maxfev=5)),
    6: ("curve_hill", None, dict(ftol=0.0, xtol=0.0)),
    7: ("curve_gauss_baseline", None, dict(ftol=0.0, xtol=0.0)),
    8: (line, LINE_X0, dict(Dfun=line_jac, ftol=0.0, xtol=0.0)),
}


def _stop_case(ier: int):
    func, x0, kw = STOPS[ier]
    if isinstance(func, str):
        p = next(p for p in CURVES if p.name == func)
        return p.func, p.start(), dict(kw, args=p.args, Dfun=p.jac)
    return func, x0, kw


@pytest.mark.parametrize("ier", sorted(STOPS))
def test_failure_ier_warns_like_scipy(ier) -> None:
    """Warn for ier 5-8 with SciPy's RuntimeWarning text; same mesg."""
    func, x0, kw = _stop_case(ier)
    with pytest.warns(RuntimeWarning) as ours_w:
        ours = minpack.leastsq(func, np.copy(x0), **kw)
    with pytest.warns(RuntimeWarning) as ref_w:
        ref = scipy.optimize.leastsq(func, np.copy(x0), **kw)
    assert ref[1] == ier, "the scenario no longer produces this ier in SciPy"
    assert ours[1] == ier
    assert [(w.category, str(w.message)) for w in ours_w] == [
        (w.category, str(w.message)) for w in ref_w
    ]
    assert ours_w[0].filename == __file__
    full = both(func, x0, full_output=True, **kw)
    assert full[0][3] == full[1][3]
    assert full[0][-1] == ier


@pytest.mark.parametrize(
    "kw",
    [
        dict(ftol=-1.0),
        dict(xtol=-1.0),
        dict(gtol=-1.0),
        dict(factor=0.0),
        dict(diag=[1.0, 0.0, 1.0]),
        dict(diag=[1.0, -2.0, 1.0]),
    ],
    ids=["ftol", "xtol", "gtol", "factor", "diag_zero", "diag_negative"],
)
@pytest.mark.parametrize("use_jac", [False, True], ids=["diff", "dfun"])
def test_improper_input_ier_0(kw, use_jac) -> None:
    """Raise SciPy's TypeError for ier 0, or return it with full_output."""
    kw = dict(kw, Dfun=decay_jac if use_jac else None)
    ours, ref = _raises_both(TypeError, decay, X0, **kw)
    assert ours == ref == "Improper input parameters."
    ours_f, ref_f = both(decay, X0, full_output=True, **kw)
    assert ours_f[-1] == ref_f[-1] == 0
    assert ours_f[3] == ref_f[3]
    assert ours_f[1] is None and ref_f[1] is None
    assert list(ours_f[2]) == list(ref_f[2])
    np.testing.assert_array_equal(ours_f[0], X0)


@pytest.mark.parametrize("maxfev", [-1, -100])
def test_negative_maxfev_means_default(maxfev) -> None:
    """A negative maxfev means the default budget, as in SciPy."""
    ours, ref = both(decay, X0, maxfev=maxfev, full_output=True)
    assert_same_fit(ours, ref, rtol=0)


def test_defaults_match_scipy_signature() -> None:
    """SciPy's parameters, order and defaults; extras only keyword-only."""
    import inspect

    ours = inspect.signature(minpack.leastsq).parameters
    ref = inspect.signature(scipy.optimize.leastsq).parameters
    assert list(ours)[: len(ref)] == list(ref)
    for name, par in ref.items():
        assert ours[name].default == par.default, name
        assert ours[name].kind == par.kind, name
    for name in list(ours)[len(ref) :]:
        assert ours[name].kind == inspect.Parameter.KEYWORD_ONLY, name


# ---------------------------------------------------------------------------
# Against SciPy on the registry: every problem under every option
# ---------------------------------------------------------------------------

GRID_PROBLEMS = select("curve") + select("mgh")


@dataclass(frozen=True)
class Option:
    """One set of ``leastsq`` keyword arguments of the comparison grid."""

    id: str
    dfun: str | None = None
    """None: finite differences; "row": Dfun with the (m, n) Jacobian;
    "col": ``col_deriv=True`` with a transposed (n, m) Dfun."""
    kwargs: tuple[tuple[str, object], ...] = ()
    diag: bool = False
    """Pass ``diag = 1 / (1 + |x0|)`` (MINPACK mode 2)."""
    nontuple_args: bool = False
    """Pass the problem's extra arguments packed in one list (not a tuple)."""
    full_output: bool = True
    strict: bool = True
    """False for options whose stopping point is decided by round-off."""

    @property
    def early_stop(self) -> bool:
        """Whether the run is meant to stop before convergence.

        That is: a small maxfev, tolerances looser than the defaults, or a
        positive gtol.
        """
        kw = dict(self.kwargs)
        return (
            kw.get("maxfev", 0) > 0
            or kw.get("ftol", 0.0) > 1.49012e-08
            or kw.get("xtol", 0.0) > 1.49012e-08
            or kw.get("gtol", 0.0) > 0.0
        )


OPTIONS = [
    Option("default"),
    Option("dfun", dfun="row"),
    Option("dfun_col_deriv", dfun="col"),
    Option("diag", diag=True),
    Option("dfun_diag", dfun="row", diag=True),
    Option("factor_0.1", kwargs=(("factor", 0.1),)),
    Option("dfun_factor_1000", dfun="row", kwargs=(("factor", 1000.0),)),
    Option("epsfcn_1e-10", kwargs=(("epsfcn", 1e-10),)),
    Option("maxfev_5", kwargs=(("maxfev", 5),)),
    Option("dfun_maxfev_3", dfun="row", kwargs=(("maxfev", 3),)),
    Option("loose_tol", kwargs=(("ftol", 1e-4), ("xtol", 1e-4))),
    Option("gtol_1e-3", kwargs=(("gtol", 1e-3),)),
    Option("dfun_gtol_1e-2", dfun="row", kwargs=(("gtol", 1e-2),)),
    Option(
        "dfun_zero_tol", dfun="row", kwargs=(("ftol", 0.0), ("xtol", 0.0)), strict=False
    ),
    Option("args_nontuple", nontuple_args=True),
    Option("dfun_col_args_nontuple", dfun="col", nontuple_args=True),
    Option("no_full_output", full_output=False),
    Option("no_full_output_maxfev_5", full_output=False, kwargs=(("maxfev", 5),)),
    Option("dfun_no_full_output", dfun="row", full_output=False),
]


def _packed(fn):
    """Adapt ``fn(x, *args)`` to ``fn(x, packed)`` with ``packed`` a list."""

    def packed_fn(x, packed):
        return fn(x, *packed)

    packed_fn.__name__ = fn.__name__
    return packed_fn


def _transposed(jac):
    """Return a Dfun giving the (n, m) Jacobian, for ``col_deriv=True``."""

    def jac_t(x, *args):
        return jac(x, *args).T

    jac_t.__name__ = jac.__name__
    return jac_t


def make_call(p: Problem, opt: Option) -> tuple:
    """Return fresh ``(func, x0, kwargs)`` for ``leastsq(func, x0, **kwargs)``."""
    func, jac = p.func, p.jac
    args: object = p.args
    if opt.nontuple_args:
        func = _packed(func)
        jac = _packed(jac) if jac is not None else None
        args = list(p.args)
    x0 = p.start()
    kw: dict = dict(opt.kwargs)
    kw["args"] = args
    kw["full_output"] = opt.full_output
    if opt.dfun == "row":
        kw["Dfun"] = jac
    elif opt.dfun == "col":
        kw["Dfun"] = _transposed(jac)
        kw["col_deriv"] = True
    if opt.diag:
        kw["diag"] = 1.0 / (1.0 + np.abs(x0))
    return func, x0, kw


def run(leastsq, p: Problem, opt: Option) -> tuple:
    """Run one solver; return ``(output tuple, [(category, message, file)])``."""
    func, x0, kw = make_call(p, opt)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = leastsq(func, x0, **kw)
    return out, [(w.category, str(w.message), w.filename) for w in caught]


def unpack(out: tuple, full_output: bool) -> dict:
    """Name the parts of a ``leastsq`` return tuple."""
    if full_output:
        x, cov_x, info, mesg, ier = out
        return dict(x=x, cov_x=cov_x, info=info, mesg=mesg, ier=ier)
    x, ier = out
    return dict(x=x, ier=ier)


def fnorm(p: Problem, x: np.ndarray) -> float:
    """Euclidean norm of the residual of ``p`` at ``x``."""
    return float(np.linalg.norm(p.func(np.array(x, dtype=float), *p.args)))


def assert_close(actual, desired, name: str, rtol: float, floor: float) -> None:
    """Compare to ``rtol`` relative, with an absolute floor ``floor``."""
    np.testing.assert_allclose(
        actual, desired, rtol=rtol, atol=floor, err_msg=f"{name} differs from SciPy"
    )


def scale(a) -> float:
    """Largest magnitude in ``a``."""
    a = np.asarray(a)
    return float(np.max(np.abs(a))) if a.size else 0.0


def assert_same_structure(ours: tuple, ref: tuple, opt: Option) -> None:
    """Types, lengths, keys, shapes and dtypes of the outputs must be identical."""
    assert type(ours) is type(ref)
    assert len(ours) == len(ref)
    o, r = unpack(ours, opt.full_output), unpack(ref, opt.full_output)
    assert type(o["x"]) is type(r["x"]) is np.ndarray
    assert o["x"].dtype == r["x"].dtype
    assert o["x"].shape == r["x"].shape
    assert type(o["ier"]) is type(r["ier"])
    if not opt.full_output:
        return
    assert type(o["mesg"]) is str
    if o["cov_x"] is not None and r["cov_x"] is not None:
        assert type(o["cov_x"]) is np.ndarray
        assert o["cov_x"].shape == r["cov_x"].shape
        assert o["cov_x"].dtype == r["cov_x"].dtype
    assert list(o["info"]) == list(r["info"]), "infodict keys (and their order)"
    for key, ref_value in r["info"].items():
        value = o["info"][key]
        assert type(value) is type(ref_value), f"type of infodict[{key!r}]"
        if isinstance(ref_value, np.ndarray):
            assert value.shape == ref_value.shape, f"shape of infodict[{key!r}]"
            assert value.dtype == ref_value.dtype, f"dtype of infodict[{key!r}]"


def r_factor(info: dict) -> np.ndarray:
    """Return the upper-triangular R of MINPACK's QR from ``fjac`` (n, m)."""
    n = info["fjac"].shape[0]
    return np.triu(info["fjac"].T[:n, :])


RTOL = 1e-8
"""Relative tolerance of the strict comparison."""
RTOL_FD = 1e-6
"""Relative tolerance for what a forward-difference Jacobian decides: cov_x and
R always, and x and fvec when the run stopped early (ier 5-8, or an option meant to
stop early: small maxfev, loose ftol/xtol, positive gtol).
Forward differences are accurate to about sqrt(eps) = 1.5e-8 and the
condition number amplifies that; a one-ulp change of the input moves SciPy's
own values by up to ~2e-7 on the curve problems. With an analytic Dfun, and
for x at convergence, RTOL applies."""


def compare_strict(p: Problem, opt: Option, ours: tuple, ref: tuple) -> None:
    """Assert equal ier/nfev/njev/mesg/ipvt; close x, cov_x, fvec, R, qtf."""
    o, r = unpack(ours, opt.full_output), unpack(ref, opt.full_output)
    assert o["ier"] == r["ier"], f"ier {o['ier']} != SciPy's {r['ier']}"
    fd = opt.dfun is None
    early = opt.early_stop or r["ier"] not in (1, 2, 3, 4)
    rtol_x = RTOL_FD if fd and early else RTOL
    assert_close(o["x"], r["x"], "x", rtol_x, rtol_x * max(scale(r["x"]), scale(p.x0)))
    if not opt.full_output:
        return
    oi, ri = o["info"], r["info"]
    assert oi["nfev"] == ri["nfev"], f"nfev {oi['nfev']} != SciPy's {ri['nfev']}"
    if "njev" in ri:
        assert oi["njev"] == ri["njev"], f"njev {oi['njev']} != SciPy's {ri['njev']}"
    assert o["mesg"] == r["mesg"]
    assert (o["cov_x"] is None) == (r["cov_x"] is None), (
        f"cov_x is {'None' if o['cov_x'] is None else 'an array'} but SciPy's is "
        f"{'None' if r['cov_x'] is None else 'an array'}"
    )
    rtol_j = RTOL_FD if fd else RTOL
    if r["cov_x"] is not None:
        floor = rtol_j * scale(r["cov_x"])
        assert_close(o["cov_x"], r["cov_x"], "cov_x", rtol_j, floor)
    # Residual-sized quantities get a floor relative to the starting residual,
    # so that round-off in a zero residual is not compared digit by digit.
    f0 = float(np.linalg.norm(p.func(p.start(), *p.args)))
    assert_close(oi["fvec"], ri["fvec"], "fvec", rtol_x, rtol_x * f0)
    assert_close(oi["qtf"], ri["qtf"], "qtf", rtol_j, rtol_j * f0)
    np.testing.assert_array_equal(oi["ipvt"], ri["ipvt"], err_msg="ipvt")
    rr = r_factor(ri)
    assert_close(r_factor(oi), rr, "R factor of fjac", rtol_j, rtol_j * scale(rr))


def perturbed(p: Problem) -> list[Problem]:
    """Return ``p`` perturbed at the round-off level, three ways.

    x0 moved by one ulp, and residuals (and Jacobian) scaled by 1 + 2**-52
    and by 1 - 2**-53. SciPy's spread under these is the round-off envelope
    an independent MINPACK build is held to.
    """
    x0 = np.array(p.x0)
    up = tuple(np.where(x0 != 0.0, np.nextafter(x0, np.inf), 0.0))
    out = [replace(p, x0=up)]
    for factor in (1.0 + 2.0**-52, 1.0 - 2.0**-53):
        out.append(
            replace(
                p,
                func=_scaled(p.func, factor),
                jac=_scaled(p.jac, factor) if p.jac else None,
            )
        )
    return out


def _scaled(fn, factor: float):
    def scaled_fn(x, *args):
        return fn(x, *args) * factor

    scaled_fn.__name__ = fn.__name__
    return scaled_fn


def outcome(ier: int) -> str:
    """``"success"`` for ier 1-4, ``"stopped"`` otherwise."""
    return "success" if ier in (1, 2, 3, 4) else "stopped"


def within(p: Problem, opt: Option, o: dict, refs: list[dict]) -> str:
    """Return "" if ``o`` is as good as SciPy's ``refs``, else the reason.

    * A residual norm below 1e-8 of the starting norm passes whatever ier says
      (zero-residual problems: the stopping test is decided by round-off).
    * Same outcome class (ier 1-4 success, 5-8 stopped) as one of the refs.
      A run that hit maxfev (ier 5) stops wherever it was, so only its class
      counts (so too for problems whose norm is not reproducible);
      otherwise the final residual norm may be no worse than the worst of
      those refs, plus 1e-6 relative.
    * A success where every ref stopped passes if it is no worse than the
      worst ref, plus 1%; so does any run of an option meant to stop early
      (loose tolerances, gtol): it stops short of a minimum, at a point that
      round-off moves.
    """
    f0 = fnorm(p, p.start())
    fo = fnorm(p, o["x"])
    if fo <= 1e-8 * f0:
        return ""
    same = [e for e in refs if outcome(e["ier"]) == outcome(o["ier"])]
    if not same and outcome(o["ier"]) == "stopped":
        return (
            f"stopped with ier {o['ier']} but SciPy succeeds with ier "
            f"{[e['ier'] for e in refs]}"
        )
    if same and (o["ier"] == 5 or not p.norm_reproducible):
        return ""
    margin = 1e-2 if opt.early_stop or not same else 1e-6
    worst = max(fnorm(p, e["x"]) for e in (same or refs))
    if fo > worst * (1 + margin):
        return (
            f"final residual norm {fo!r} (ier {o['ier']}), SciPy's at most "
            f"{worst!r} (ier {[e['ier'] for e in refs]})"
        )
    return ""


def compare_loose(p: Problem, opt: Option, ours: tuple, ref: tuple) -> None:
    """Outcome and residual norm within SciPy's round-off envelope."""
    o, r = unpack(ours, opt.full_output), unpack(ref, opt.full_output)
    if opt.full_output:
        maxfev = dict(opt.kwargs).get("maxfev", 0)
        if maxfev:
            assert o["info"]["nfev"] <= maxfev + p.n
    refs = [r]
    why = within(p, opt, o, refs)
    if why:
        # Not as good as SciPy's own run: compare with SciPy's spread under
        # one-ulp changes of the input before calling it a failure.
        for q in perturbed(p):
            refs.append(unpack(run(scipy.optimize.leastsq, q, opt)[0], opt.full_output))
        why = within(p, opt, o, refs)
    assert not why, why + f" (perturbed SciPy runs included; {p.why})"
    if opt.full_output:
        # The message of a given ier is fixed by the options.
        for e in refs:
            if e["ier"] == o["ier"]:
                assert o["mesg"] == e["mesg"]
                break


def is_strict(p: Problem, opt: Option) -> bool:
    """Whether (p, opt) gets the strict comparison."""
    if not opt.strict:
        return False
    return p.well_conditioned or (opt.dfun is not None and p.dfun_well_conditioned)


def _grid() -> list:
    params = []
    for p in GRID_PROBLEMS:
        for opt in OPTIONS:
            if opt.dfun is not None and p.jac is None:
                continue
            params.append(pytest.param(p, opt, id=f"{p.name}-{opt.id}"))
    return params


@pytest.fixture(scope="module")
def tally(report):
    """Count strict/loose cases and agreement; report them at the end."""
    counts = {"strict": 0, "loose": 0, "same_ier_nfev": 0, "total": 0, "differ": []}
    yield counts
    title = "minpack.leastsq vs scipy.optimize.leastsq"
    report(
        title,
        f"{counts['total']} registry x option cases: {counts['strict']} compared "
        f"strictly, {counts['loose']} loosely; identical ier and nfev in "
        f"{counts['same_ier_nfev']} of {counts['total']}",
    )
    for line in counts["differ"]:
        report(title, "  differs: " + line)


@pytest.mark.parametrize(("p", "opt"), _grid())
def test_matches_scipy(p: Problem, opt: Option, tally) -> None:
    """One registry problem under one option, minpack against SciPy."""
    ours, our_warnings = run(minpack.leastsq, p, opt)
    ref, ref_warnings = run(scipy.optimize.leastsq, p, opt)

    tally["total"] += 1
    o, r = unpack(ours, opt.full_output), unpack(ref, opt.full_output)
    if o["ier"] == r["ier"] and (
        not opt.full_output or o["info"]["nfev"] == r["info"]["nfev"]
    ):
        tally["same_ier_nfev"] += 1
    else:
        nfev = (o["info"]["nfev"], r["info"]["nfev"]) if opt.full_output else "-"
        tally["differ"].append(
            f"{p.name}-{opt.id}: ier {o['ier']}/{r['ier']}, nfev {nfev} (ours/SciPy)"
        )

    assert_same_structure(ours, ref, opt)
    if is_strict(p, opt):
        tally["strict"] += 1
        # Same warnings (RuntimeWarning for ier 5-8 without full_output), from
        # the caller's line (stacklevel 2), i.e. this file.
        assert [w[:2] for w in our_warnings] == [w[:2] for w in ref_warnings]
        assert [w[2] for w in our_warnings] == [__file__] * len(our_warnings)
        compare_strict(p, opt, ours, ref)
    else:
        tally["loose"] += 1
        expect_warning = not opt.full_output and o["ier"] >= 5
        assert [w[0] for w in our_warnings] == [RuntimeWarning] * expect_warning
        compare_loose(p, opt, ours, ref)


def test_registry_has_shared_data() -> None:
    """The MGH and NIST families are loaded (CI always has ../shared/data)."""
    if DATA_MISSING_REASON:
        pytest.skip(DATA_MISSING_REASON)
    assert len(select("mgh")) == 53
    assert len(select("nist")) == 54
    assert len(select("curve")) >= 10


@pytest.mark.parametrize(
    "p", [p for p in GRID_PROBLEMS if p.jac is not None], ids=lambda p: p.name
)
def test_registry_jacobian(p: Problem) -> None:
    """Each analytic Jacobian agrees with central differences near the start."""
    rng = np.random.default_rng(7)
    x = p.start()
    x = x + 0.01 * (1.0 + np.abs(x)) * rng.standard_normal(p.n)
    jac = p.jac(x, *p.args)
    assert jac.shape == (p.m, p.n)
    num = np.empty_like(jac)
    for k in range(p.n):
        h = 1e-6 * max(1.0, abs(x[k]))
        e = np.zeros(p.n)
        e[k] = h
        num[:, k] = (p.func(x + e, *p.args) - p.func(x - e, *p.args)) / (2 * h)
    scale = max(1.0, float(np.max(np.abs(jac))))
    np.testing.assert_allclose(jac, num, rtol=0, atol=1e-5 * scale)
