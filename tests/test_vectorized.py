"""``vectorized=True`` in ``leastsq`` and ``curve_fit``: the plain fit, in fewer calls.

With ``vectorized=True``, ``func`` takes ``x`` of shape (n, k) and returns (m, k);
each forward-difference Jacobian is one call with k = n instead of n calls. The
promise is that nothing else changes, and that is what is tested here against
the plain path (``vectorized=False``) on the same problem:

* the same points evaluated in the same order (the columns of the blocks, read
  left to right, are the plain path's calls), the same iterates (the iteration
  callback sees the same ``x``, ``fvec`` and ``nfev``), and the same result bit
  for bit: ``x``, ``cov_x``, the whole infodict, ``mesg``, ``ier``;
* the shapes ``func`` sees: (n, 1) for a single point, (n, n) for a Jacobian,
  never 1-D; with ``Dfun`` (or ``jac``) there is no block call at all;
* ``args`` handed on as on the plain path;
* clear errors for an output of the wrong shape or dtype, at the start or in
  the middle of a fit, and for a compiled ``func``.

The registry's curve problems are vectorized column by column (each column
computed by the registry's own function), so any difference comes from the
engine and the glue, not from the user's arithmetic; a few models written with
NumPy broadcasting check the same for the form users write.
"""

from __future__ import annotations

import ctypes
import warnings

import numpy as np
import pytest
from support.problems import Problem, select

import minpack

CURVES = select("curve")


def columnwise(fn, seen: list | None = None):
    """A vectorized version of ``fn(x, *args)``, one column at a time.

    Records each block it is given in `seen` (a copy).
    """

    def block(X, *args):
        if seen is not None:
            seen.append(np.array(X))
        columns = [fn(np.array(X[:, j]), *args) for j in range(X.shape[1])]
        return np.column_stack(columns)

    block.__name__ = fn.__name__
    return block


def recording(fn, seen: list):
    """``fn`` recording a copy of each x it is given in `seen`."""

    def rec(x, *args):
        seen.append(np.array(x))
        return fn(x, *args)

    rec.__name__ = fn.__name__
    return rec


class Iterates:
    """An iteration callback keeping (iteration, x, fvec, nfev) of each call."""

    def __init__(self) -> None:
        self.seen: list = []

    def __call__(self, it: minpack.Iteration) -> None:
        self.seen.append((it.iteration, it.x.copy(), it.fvec.copy(), it.nfev))


def assert_identical(ours: tuple, ref: tuple) -> None:
    """Two leastsq/curve_fit full_output results are equal bit for bit."""
    assert len(ours) == len(ref)
    np.testing.assert_array_equal(ours[0], ref[0])
    assert ours[0].dtype == ref[0].dtype
    if ref[1] is None:
        assert ours[1] is None
    else:
        np.testing.assert_array_equal(ours[1], ref[1])
    assert list(ours[2]) == list(ref[2])
    for key, value in ref[2].items():
        np.testing.assert_array_equal(ours[2][key], value, err_msg=key)
        assert np.asarray(ours[2][key]).dtype == np.asarray(value).dtype, key
    assert ours[3:] == ref[3:]  # mesg, ier


def assert_same_iterates(ours: Iterates, ref: Iterates) -> None:
    assert len(ours.seen) == len(ref.seen) > 0
    for (i, x, f, nfev), (ri, rx, rf, rnfev) in zip(ours.seen, ref.seen, strict=True):
        assert (i, nfev) == (ri, rnfev)
        np.testing.assert_array_equal(x, rx, err_msg=f"x at iteration {i}")
        np.testing.assert_array_equal(f, rf, err_msg=f"fvec at iteration {i}")


# ---------------------------------------------------------------------------
# leastsq: identical to the plain path
# ---------------------------------------------------------------------------

OPTIONS = {
    "default": {},
    "diag-factor": {"diag": "scaled", "factor": 10.0},
    "maxfev-5": {"maxfev": 5},  # stops in the middle of a Jacobian's block
    "epsfcn": {"epsfcn": 1e-10},
}


def _options(p: Problem, name: str) -> dict:
    kw = dict(OPTIONS[name])
    if kw.get("diag") == "scaled":
        kw["diag"] = 1.0 / (1.0 + np.abs(np.array(p.x0, dtype=float)))
    return kw


def fit(fn, x0, **kw) -> tuple:
    """``leastsq(fn, x0, **kw)`` and the warnings it gave, as (category, text)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = minpack.leastsq(fn, x0, **kw)
    return out, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("p", CURVES, ids=lambda p: p.name)
def test_leastsq_is_the_plain_fit(p: Problem, option: str) -> None:
    """Same points in the same order, same iterates, same result bit for bit."""
    kw = dict(_options(p, option), args=p.args, full_output=True)
    blocks: list = []
    points: list = []
    got_it, ref_it = Iterates(), Iterates()
    got, got_w = fit(columnwise(p.func, blocks), p.start(), vectorized=True,
                     callback=got_it, **kw)
    ref, ref_w = fit(recording(p.func, points), p.start(), callback=ref_it, **kw)
    assert_identical(got, ref)
    assert got_w == ref_w
    assert_same_iterates(got_it, ref_it)
    # the columns of the blocks, left to right, are the plain path's points
    columns = [b[:, j] for b in blocks for j in range(b.shape[1])]
    assert len(columns) == len(points) == ref[2]["nfev"]
    for k, (c, x) in enumerate(zip(columns, points, strict=True)):
        np.testing.assert_array_equal(c, x, err_msg=f"evaluation {k + 1}")
    # a point is one column, a Jacobian n (fewer only where maxfev cuts it short)
    shapes = {b.shape for b in blocks}
    if option == "maxfev-5":
        assert all(b.shape[0] == p.n and 1 <= b.shape[1] <= p.n for b in blocks)
    else:
        assert shapes == ({(p.n, 1)} if p.n == 1 else {(p.n, 1), (p.n, p.n)})


# ---------------------------------------------------------------------------
# leastsq: models written with broadcasting, shapes, Dfun, args
# ---------------------------------------------------------------------------

T = np.linspace(0.0, 3.0, 30)
Y = 2.0 * np.exp(-1.3 * T) + 0.25 + 0.01 * np.sin(7.0 * T)
X0 = [1.0, 1.0, 0.0]


def decay(x, t=T, y=Y):
    """``a exp(-k t) + c - y`` for x of shape (3,) or (3, k) (t, y as columns)."""
    if x.ndim == 2:
        t, y = t[:, None], y[:, None]
    return x[0] * np.exp(-x[1] * t) + x[2] - y


def decay_jac(x, t=T, y=Y):
    x = np.ravel(x)
    e = np.exp(-x[1] * t)
    return np.column_stack([e, -x[0] * t * e, np.ones_like(t)])


YG = 1.5 * np.exp(-0.5 * ((T - 1.2) / 0.6) ** 2) + 0.01 * np.cos(9.0 * T)


def gauss(x, t=T, y=YG):
    """``a exp(-((t - mu) / s)**2 / 2) - y``, for x of shape (3,) or (3, k)."""
    if x.ndim == 2:
        t, y = t[:, None], y[:, None]
    return x[0] * np.exp(-0.5 * ((t - x[1]) / x[2]) ** 2) - y


BROADCAST = {"decay": (decay, X0), "gauss": (gauss, [1.0, 0.5, 1.0])}


@pytest.mark.parametrize("name", BROADCAST)
def test_broadcasting_model_is_the_plain_fit(name) -> None:
    """A model written for (n, k) gives the plain fit; func sees (n, 1) and (n, n)."""
    fn, x0 = BROADCAST[name]
    shapes: list = []

    def block(x):
        assert isinstance(x, np.ndarray) and x.dtype == np.float64
        shapes.append(x.shape)
        return fn(x)

    got_it, ref_it = Iterates(), Iterates()
    got = minpack.leastsq(block, x0, full_output=True, vectorized=True, callback=got_it)
    ref = minpack.leastsq(fn, x0, full_output=True, callback=ref_it)
    assert got[4] in (1, 2, 3, 4)
    assert_identical(got, ref)
    assert_same_iterates(got_it, ref_it)
    assert set(shapes) == {(3, 1), (3, 3)}
    assert sum(k for _, k in shapes) == ref[2]["nfev"]
    # fewer calls: one per Jacobian instead of three
    assert len(shapes) == ref[2]["nfev"] - 2 * shapes.count((3, 3))
    short = minpack.leastsq(block, x0, vectorized=True)
    np.testing.assert_array_equal(short[0], ref[0])
    assert short[1] == ref[4]


@pytest.mark.parametrize("col_deriv", [False, True])
def test_dfun_means_no_block_call(col_deriv) -> None:
    """With Dfun each call of func is one point, shape (n, 1): the plain fit."""
    shapes: list = []

    def block(x):
        shapes.append(x.shape)
        return decay(x)

    jac = (lambda x: decay_jac(x).T) if col_deriv else decay_jac
    got = minpack.leastsq(block, X0, Dfun=jac, col_deriv=col_deriv, full_output=True,
                          vectorized=True)
    ref = minpack.leastsq(decay, X0, Dfun=jac, col_deriv=col_deriv, full_output=True)
    assert_identical(got, ref)
    assert got[2]["njev"] > 0
    assert set(shapes) == {(3, 1)}
    assert len(shapes) == ref[2]["nfev"]


@pytest.mark.parametrize("args", ["tuple", "one", "dfun"])
def test_args_are_handed_on(args) -> None:
    """args reach func (and Dfun) as on the plain path: a tuple, or one object."""
    seen: list = []

    def block(x, t, y=None):
        seen.append(y is None)
        if y is None:  # one object: (t, y) packed in a list
            t, y = t
        return decay(x, t, y)

    def plain(x, t, y=None):
        if y is None:
            t, y = t
        return decay(x, t, y)

    kw: dict = {"args": (T, Y)} if args != "one" else {"args": [T, Y]}
    if args == "dfun":
        kw["Dfun"] = lambda x, t, y: decay_jac(x, t, y)
    got = minpack.leastsq(block, X0, full_output=True, vectorized=True, **kw)
    ref = minpack.leastsq(plain, X0, full_output=True, **kw)
    assert_identical(got, ref)
    assert set(seen) == {args == "one"}


def test_float32_residuals_are_the_plain_fit() -> None:
    """A float32 block sets epsfcn from float32, as a float32 residual does."""
    got = minpack.leastsq(lambda x: decay(x).astype(np.float32), X0, full_output=True,
                          vectorized=True)
    ref = minpack.leastsq(lambda x: decay(x).astype(np.float32), X0, full_output=True)
    assert_identical(got, ref)
    f64 = minpack.leastsq(decay, X0, full_output=True)
    assert got[2]["nfev"] != f64[2]["nfev"] or not np.array_equal(got[0], f64[0])


# ---------------------------------------------------------------------------
# curve_fit
# ---------------------------------------------------------------------------


def exp_model(x, a, k, c):
    return a * np.exp(-k * x) + c


def exp_jac(x, a, k, c):
    e = np.exp(-k * x)
    return np.column_stack([e, -a * x * e, np.ones_like(x)])


def two_predictors(X, a, b, c):
    return a * X[0] + b * np.exp(-c * X[1])


SIGMA1 = 0.01 + 0.02 * T
CURVE_CASES = {
    "unweighted": {},
    "sigma-1d": {"sigma": SIGMA1},
    "sigma-1d-absolute": {"sigma": SIGMA1, "absolute_sigma": True},
    "sigma-scalar": {"sigma": 0.05},
    "loose-tol": {"ftol": 1e-4, "xtol": 1e-4},
    "nan-omit": {"nan_policy": "omit"},
}


@pytest.mark.parametrize("case", CURVE_CASES)
def test_curve_fit_is_the_plain_fit(case) -> None:
    """popt, pcov, infodict, mesg, ier bit for bit; the model sees (m, 1) xdata."""
    kw = dict(CURVE_CASES[case], p0=X0, full_output=True)
    y = Y.copy()
    if case == "nan-omit":
        y[[3, 17]] = np.nan
    seen: list = []

    def model(x, a, k, c):
        seen.append((x.shape, np.shape(a), np.shape(k), np.shape(c)))
        return exp_model(x, a, k, c)

    got_it, ref_it = Iterates(), Iterates()
    with warnings.catch_warnings(record=True) as got_w:
        warnings.simplefilter("always")
        got = minpack.curve_fit(model, T, y, vectorized=True, callback=got_it, **kw)
    with warnings.catch_warnings(record=True) as ref_w:
        warnings.simplefilter("always")
        ref = minpack.curve_fit(exp_model, T, y, callback=ref_it, **kw)
    assert_identical(got, ref)
    assert_same_iterates(got_it, ref_it)
    assert [str(w.message) for w in got_w] == [str(w.message) for w in ref_w]
    m = np.count_nonzero(np.isfinite(y))
    assert {s[0] for s in seen} == {(m, 1)}  # xdata[..., None]
    assert {s[1:] for s in seen} <= {((1,),) * 3, ((3,),) * 3}


def test_curve_fit_with_two_predictors() -> None:
    """xdata of shape (2, m) gets a trailing axis: (2, m, 1)."""
    X = np.vstack([T, T**2])
    y = two_predictors(X, 0.5, 2.0, 0.7) + 0.01 * np.cos(5 * T)
    shapes: list = []

    def model(X, a, b, c):
        shapes.append(X.shape)
        return two_predictors(X, a, b, c)

    got = minpack.curve_fit(model, X, y, p0=[1.0, 1.0, 1.0], vectorized=True,
                            full_output=True)
    ref = minpack.curve_fit(two_predictors, X, y, p0=[1.0, 1.0, 1.0], full_output=True)
    assert_identical(got, ref)
    assert set(shapes) == {(2, T.size, 1)}


def test_curve_fit_with_jac_calls_the_model_one_point_at_a_time() -> None:
    """With jac the model gets parameters of length 1 only: the plain fit."""
    ks: list = []

    def model(x, a, k, c):
        ks.append(np.shape(a))
        return exp_model(x, a, k, c)

    got = minpack.curve_fit(model, T, Y, p0=X0, jac=exp_jac, sigma=SIGMA1,
                            vectorized=True, full_output=True)
    ref = minpack.curve_fit(exp_model, T, Y, p0=X0, jac=exp_jac, sigma=SIGMA1,
                            full_output=True)
    assert_identical(got, ref)
    assert set(ks) == {(1,)}


def test_curve_fit_2d_sigma_is_the_plain_fit_to_rounding() -> None:
    """A 2-D sigma: the same fit to rounding, not bit for bit.

    The residuals are whitened by ``inv(L)``: one matrix-vector product per
    point on the plain path, one matrix-matrix product per block here. BLAS
    rounds the two differently (they differ in the last bits, which forward
    differences magnify to ~1e-9 here), so the iterates may part at the last
    digits: the same ier, popt and pcov to 1e-6.
    """
    i = np.arange(T.size)
    sigma = np.outer(SIGMA1, SIGMA1) * 0.3 ** np.abs(i[:, None] - i)
    got = minpack.curve_fit(exp_model, T, Y, p0=X0, sigma=sigma, vectorized=True,
                            full_output=True)
    ref = minpack.curve_fit(exp_model, T, Y, p0=X0, sigma=sigma, full_output=True)
    assert got[4] == ref[4] and ref[4] in (1, 2, 3, 4)
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-6)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-6,
                               atol=1e-6 * np.abs(ref[1]).max())


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def _wrong(kind: str, when: int):
    """A vectorized decay that returns the wrong thing from call `when` on."""
    calls = [0]

    def func(x):
        calls[0] += 1
        r = decay(x)
        if calls[0] < when:
            return r
        return {
            "1-D": lambda: r.ravel(),
            "extra column": lambda: np.column_stack([r, r[:, :1]]),
            "fewer rows": lambda: r[:-1],
            "transposed": lambda: r.T,
            "3-D": lambda: r[..., None],
            "complex": lambda: r + 0j,
            "strings": lambda: r.astype(str),
            "None": lambda: None,
        }[kind]()

    return func


SHAPE_ERRORS = ["1-D", "extra column", "fewer rows", "transposed", "3-D"]
DTYPE_ERRORS = ["complex", "strings", "None"]


WHEN = {"x0": 1, "first-jacobian": 2, "later": 5}
# At x0 a 1-D result is the plain form (accepted, see below), and the number of
# rows is m, whatever it is: neither is wrong there.
WRONG = [pytest.param(kind, when, id=f"{kind}-{when}")
         for kind in SHAPE_ERRORS + DTYPE_ERRORS for when in WHEN
         if (kind, when) not in {("1-D", "x0"), ("fewer rows", "x0")}]


@pytest.mark.parametrize(("kind", "when"), WRONG)
def test_wrong_output_is_a_clear_error(kind, when) -> None:
    """A wrong shape: ValueError; a wrong type: TypeError; both name the culprit."""
    exc = ValueError if kind in SHAPE_ERRORS else TypeError
    with pytest.raises(exc) as info:
        minpack.leastsq(_wrong(kind, WHEN[when]), X0, vectorized=True)
    message = str(info.value)
    assert "vectorized" in message
    if exc is ValueError:  # the shape expected, one column per column of x
        assert "shape" in message and (", 1)" in message or ", 3)" in message)


def test_one_point_may_return_a_1d_array() -> None:
    """For k = 1 a 1-D result of length m is taken as the (m, 1) column."""
    got = minpack.leastsq(lambda x: decay(x)[:, 0] if x.shape[1] == 1 else decay(x),
                          X0, full_output=True, vectorized=True)
    assert_identical(got, minpack.leastsq(decay, X0, full_output=True))


def test_exception_in_a_block_call_propagates_unchanged() -> None:
    """An exception raised in a Jacobian's block reaches the caller as raised."""
    class Boom(Exception):
        pass

    def func(x):
        if x.shape[1] > 1:
            raise Boom("in the Jacobian's block")
        return decay(x)

    with pytest.raises(Boom, match="in the Jacobian's block"):
        minpack.leastsq(func, X0, vectorized=True)
    # and the next fit is a clean one
    assert_identical(minpack.leastsq(decay, X0, full_output=True, vectorized=True),
                     minpack.leastsq(decay, X0, full_output=True))


def test_compiled_func_cannot_be_vectorized() -> None:
    """A compiled func is called one point at a time: vectorized=True is refused."""
    proto = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int,
                             ctypes.POINTER(ctypes.c_double),
                             ctypes.POINTER(ctypes.c_double), ctypes.c_void_p)

    def residual(m, n, x, fvec, user_data):
        for i in range(m):
            fvec[i] = x[0] * np.exp(-x[1] * T[i]) + x[2] - Y[i]
        return 0

    cfunc = proto(residual)
    ok = minpack.leastsq(cfunc, X0, m=T.size)  # the callable is a usable func
    assert ok[1] in (1, 2, 3, 4)
    with pytest.raises(ValueError, match="vectorized"):
        minpack.leastsq(cfunc, X0, m=T.size, vectorized=True)


def test_curve_fit_model_that_does_not_broadcast() -> None:
    """A model that cannot take arrays of parameters: a ValueError saying so."""

    def scalar_only(x, a, k, c):
        return a * np.exp(-k * x[:, 0]) + c  # drops the trailing axis

    with pytest.raises(ValueError, match="broadcast"):
        minpack.curve_fit(scalar_only, T, Y, p0=X0, vectorized=True)


def test_curve_fit_needs_array_xdata() -> None:
    """xdata that is not an array is handed to the model unchanged: no broadcasting."""
    data = {"t": T}
    with pytest.raises(TypeError, match="vectorized"):
        minpack.curve_fit(lambda d, a, k, c: exp_model(d["t"], a, k, c), data, Y,
                          p0=X0, vectorized=True)
