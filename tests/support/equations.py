"""The registry of nonlinear-equation test problems used by the fsolve tests.

These are the fourteen systems of MINPACK-1's nonlinear-equations test set
(Moré, Garbow & Hillstrom, "Testing unconstrained optimization software",
ACM TOMS 7 (1981) 17-41, and the MINPACK-1 user guide, ANL-80-74, chapter 4),
at the sizes the MINPACK-1 ``hybrd``/``hybrj`` test driver uses. Every
function and Jacobian below was written for this suite from the mathematical
definitions quoted in its docstring.

``EQUATIONS`` holds one frozen :class:`Equation` per (system, n); ``CASES``
crosses it with the driver's start factors 1, 10 and 100 (:class:`Case`).
Every ``func`` maps ``x`` of length n to n values and every ``jac`` returns
the ``(n, n)`` Jacobian with one row per equation (``col_deriv=False``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

FACTORS = (1.0, 10.0, 100.0)
"""The multiples of the standard start that the MINPACK-1 driver tries."""


@dataclass(frozen=True, eq=False)
class Equation:
    """One square system ``func(x) = 0``."""

    name: str
    """Short name of the system (unique together with ``n``)."""
    n: int
    """Number of equations and unknowns."""
    func: Callable[[np.ndarray], np.ndarray]
    """The equations, ``func(x) -> (n,)``."""
    jac: Callable[[np.ndarray], np.ndarray]
    """Analytic Jacobian, ``jac(x) -> (n, n)``, row ``i`` = gradient of
    equation ``i``."""
    x0: tuple[float, ...]
    """The standard starting point."""
    band: tuple[int, int] | None = None
    """``(ml, mu)`` when the Jacobian is banded (sub-, super-diagonals)."""

    @property
    def id(self) -> str:
        """Name and size, e.g. ``chebyquad-7``."""
        return f"{self.name}-{self.n}"

    def start(self, factor: float = 1.0) -> np.ndarray:
        """Return the start for ``factor`` as a fresh float64 array.

        As in the MINPACK-1 driver, the start is ``factor * x0``, except that
        a zero standard start (Watson) becomes ``factor`` in every component
        when ``factor != 1`` (a multiple of zero would be the same start).
        """
        x = np.array(self.x0, dtype=float)
        if factor != 1.0:
            x = np.full(self.n, factor) if not x.any() else factor * x
        return x


@dataclass(frozen=True, eq=False)
class Case:
    """One (system, start factor) pair."""

    eq: Equation
    factor: float

    @property
    def id(self) -> str:
        """Pytest id, e.g. ``wood-4-x10``."""
        return f"{self.eq.id}-x{self.factor:g}"

    def start(self) -> np.ndarray:
        """Return a fresh copy of this case's starting point."""
        return self.eq.start(self.factor)


def _quiet(fn: Callable) -> Callable:
    """Run ``fn`` with numpy's floating-point warnings off.

    Far from a root some systems overflow (``exp``, high powers); the solver
    must receive the inf or nan itself, not a RuntimeWarning that the test
    suite's ``filterwarnings = error`` would turn into an exception.
    """

    @functools.wraps(fn)
    def wrapper(x: np.ndarray, *args: object) -> np.ndarray:
        with np.errstate(all="ignore"):
            return fn(x, *args)

    return wrapper


# ---------------------------------------------------------------------------
# 1. Rosenbrock: f1 = 10 (x2 - x1^2), f2 = 1 - x1.  Root (1, 1).
# ---------------------------------------------------------------------------


def rosenbrock(x):
    """Rosenbrock's system."""
    return np.array([10.0 * (x[1] - x[0] ** 2), 1.0 - x[0]])


def rosenbrock_jac(x):
    """Jacobian of :func:`rosenbrock`."""
    return np.array([[-20.0 * x[0], 10.0], [-1.0, 0.0]])


# ---------------------------------------------------------------------------
# 2. Powell singular: f1 = x1 + 10 x2, f2 = sqrt(5) (x3 - x4),
#    f3 = (x2 - 2 x3)^2, f4 = sqrt(10) (x1 - x4)^2.  Root 0, singular there.
# ---------------------------------------------------------------------------

_SQRT5 = np.sqrt(5.0)
_SQRT10 = np.sqrt(10.0)


def powell_singular(x):
    """Powell's singular system."""
    return np.array([
        x[0] + 10.0 * x[1],
        _SQRT5 * (x[2] - x[3]),
        (x[1] - 2.0 * x[2]) ** 2,
        _SQRT10 * (x[0] - x[3]) ** 2,
    ])


def powell_singular_jac(x):
    """Jacobian of :func:`powell_singular`."""
    a = 2.0 * (x[1] - 2.0 * x[2])
    b = 2.0 * _SQRT10 * (x[0] - x[3])
    return np.array([
        [1.0, 10.0, 0.0, 0.0],
        [0.0, 0.0, _SQRT5, -_SQRT5],
        [0.0, a, -2.0 * a, 0.0],
        [b, 0.0, 0.0, -b],
    ])


# ---------------------------------------------------------------------------
# 3. Powell badly scaled: f1 = 1e4 x1 x2 - 1, f2 = exp(-x1) + exp(-x2) - 1.0001.
# ---------------------------------------------------------------------------


def powell_badly_scaled(x):
    """Powell's badly scaled system."""
    return np.array([1e4 * x[0] * x[1] - 1.0,
                     np.exp(-x[0]) + np.exp(-x[1]) - 1.0001])


def powell_badly_scaled_jac(x):
    """Jacobian of :func:`powell_badly_scaled`."""
    return np.array([[1e4 * x[1], 1e4 * x[0]],
                     [-np.exp(-x[0]), -np.exp(-x[1])]])


# ---------------------------------------------------------------------------
# 4. Wood, as the MINPACK-1 equation set states it (the stationarity
#    conditions of Wood's function, with the x1 and x3 equations halved):
#    f1 = -200 x1 (x2 - x1^2) - (1 - x1)
#    f2 =  200 (x2 - x1^2) + 20.2 (x2 - 1) + 19.8 (x4 - 1)
#    f3 = -180 x3 (x4 - x3^2) - (1 - x3)
#    f4 =  180 (x4 - x3^2) + 20.2 (x4 - 1) + 19.8 (x2 - 1).   Root (1, 1, 1, 1).
# ---------------------------------------------------------------------------


def wood(x):
    """Wood's system."""
    u = x[1] - x[0] ** 2
    v = x[3] - x[2] ** 2
    return np.array([
        -200.0 * x[0] * u - (1.0 - x[0]),
        200.0 * u + 20.2 * (x[1] - 1.0) + 19.8 * (x[3] - 1.0),
        -180.0 * x[2] * v - (1.0 - x[2]),
        180.0 * v + 20.2 * (x[3] - 1.0) + 19.8 * (x[1] - 1.0),
    ])


def wood_jac(x):
    """Jacobian of :func:`wood`."""
    u = x[1] - x[0] ** 2
    v = x[3] - x[2] ** 2
    return np.array([
        [-200.0 * u + 400.0 * x[0] ** 2 + 1.0, -200.0 * x[0], 0.0, 0.0],
        [-400.0 * x[0], 200.0 + 20.2, 0.0, 19.8],
        [0.0, 0.0, -180.0 * v + 360.0 * x[2] ** 2 + 1.0, -180.0 * x[2]],
        [0.0, 19.8, -360.0 * x[2], 180.0 + 20.2],
    ])


# ---------------------------------------------------------------------------
# 5. Helical valley: f1 = 10 (x3 - 10 theta), f2 = 10 (sqrt(x1^2 + x2^2) - 1),
#    f3 = x3, with 2 pi theta = atan(x2 / x1) (+ pi when x1 < 0); on x1 = 0,
#    theta = 1/4 sign(x2) as in MINPACK-1.  Root (1, 0, 0).
# ---------------------------------------------------------------------------


def _theta(x):
    if x[0] > 0:
        return np.arctan(x[1] / x[0]) / (2.0 * np.pi)
    if x[0] < 0:
        return np.arctan(x[1] / x[0]) / (2.0 * np.pi) + 0.5
    return 0.25 if x[1] >= 0 else -0.25


def helical_valley(x):
    """Return the helical valley system's equations at ``x``."""
    return np.array([10.0 * (x[2] - 10.0 * _theta(x)),
                     10.0 * (np.hypot(x[0], x[1]) - 1.0),
                     x[2]])


def helical_valley_jac(x):
    """Jacobian of :func:`helical_valley` (off the axis x1 = x2 = 0)."""
    r2 = x[0] ** 2 + x[1] ** 2
    r = np.sqrt(r2)
    c = 100.0 / (2.0 * np.pi * r2)  # d(100 theta) = (x1 dx2 - x2 dx1) / (2 pi r^2)
    return np.array([[c * x[1], -c * x[0], 10.0],
                     [10.0 * x[0] / r, 10.0 * x[1] / r, 0.0],
                     [0.0, 0.0, 1.0]])


# ---------------------------------------------------------------------------
# 6. Watson: half the gradient of the Watson sum of squares
#    F = sum_{i=1}^{31} r_i^2, where for t_i = i / 29 (i = 1..29)
#    r_i = sum_{j=2}^n (j-1) x_j t_i^(j-2) - (sum_{j=1}^n x_j t_i^(j-1))^2 - 1,
#    r_30 = x1, r_31 = x2 - x1^2 - 1.  f_k = sum_i r_i d r_i / d x_k.
# ---------------------------------------------------------------------------

_WATSON_T = np.arange(1, 30) / 29.0


def _watson_parts(x):
    """Residuals r_1..r_29, their gradients (29, n) and the power table."""
    n = x.size
    p = _WATSON_T[:, None] ** np.arange(n)              # t_i^(j-1), (29, n)
    k = np.arange(n)                                  # j - 1
    dp = np.zeros_like(p)                             # d t^(j-1) / d t
    dp[:, 1:] = k[1:] * p[:, :-1]
    s1 = dp @ x
    s2 = p @ x
    r = s1 - s2**2 - 1.0
    g = dp - 2.0 * s2[:, None] * p
    return r, g, p


def watson(x):
    """Watson's system (the stationarity conditions of Watson's function)."""
    r, g, _ = _watson_parts(x)
    f = g.T @ r
    u = x[1] - x[0] ** 2 - 1.0
    f[0] += x[0] - 2.0 * x[0] * u
    f[1] += u
    return f


def watson_jac(x):
    """Jacobian of :func:`watson`: sum_i (g_i g_i^T + r_i H_i)."""
    r, g, p = _watson_parts(x)
    # H_i = -2 p_i p_i^T for the 29 data residuals
    jac = g.T @ g - 2.0 * (p * r[:, None]).T @ p
    u = x[1] - x[0] ** 2 - 1.0
    jac[0, 0] += 1.0 + 4.0 * x[0] ** 2 - 2.0 * u  # r_30 and r_31
    jac[0, 1] += -2.0 * x[0]
    jac[1, 0] += -2.0 * x[0]
    jac[1, 1] += 1.0
    return jac


# ---------------------------------------------------------------------------
# 7. Chebyquad: f_i = (1/n) sum_j T_i(x_j) - int_0^1 T_i, where T_i is the
#    Chebyshev polynomial shifted to [0, 1]; int_0^1 T_i = -1/(i^2 - 1) for
#    even i and 0 for odd i.
# ---------------------------------------------------------------------------


def _shifted_chebyshev(x, m):
    """T_1..T_m at each x (shape (m, n)) and their derivatives in x."""
    y = 2.0 * x - 1.0
    t = np.empty((m + 1, x.size))
    dt = np.empty((m + 1, x.size))
    t[0], dt[0] = 1.0, 0.0
    t[1], dt[1] = y, 2.0
    for k in range(1, m):
        t[k + 1] = 2.0 * y * t[k] - t[k - 1]
        dt[k + 1] = 4.0 * t[k] + 2.0 * y * dt[k] - dt[k - 1]
    return t[1:], dt[1:]


def _chebyquad_integrals(n):
    i = np.arange(1, n + 1)
    return np.where(i % 2 == 0, -1.0 / (i * i - 1.0), 0.0)


def chebyquad(x):
    """Return the Chebyquad system's equations at ``x``."""
    t, _ = _shifted_chebyshev(x, x.size)
    return t.sum(axis=1) / x.size - _chebyquad_integrals(x.size)


def chebyquad_jac(x):
    """Jacobian of :func:`chebyquad`."""
    _, dt = _shifted_chebyshev(x, x.size)
    return dt / x.size


# ---------------------------------------------------------------------------
# 8. Brown almost-linear: f_i = x_i + sum_j x_j - (n + 1) for i < n,
#    f_n = prod_j x_j - 1.
# ---------------------------------------------------------------------------


def brown_almost_linear(x):
    """Brown's almost-linear system."""
    n = x.size
    f = x + x.sum() - (n + 1.0)
    f[-1] = np.prod(x) - 1.0
    return f


def brown_almost_linear_jac(x):
    """Jacobian of :func:`brown_almost_linear`."""
    n = x.size
    jac = np.ones((n, n)) + np.eye(n)
    # d prod / d x_j = product of the others (no division: x_j may be 0)
    jac[-1] = [np.prod(np.delete(x, j)) for j in range(n)]
    return jac


# ---------------------------------------------------------------------------
# 9. Discrete boundary value: h = 1/(n+1), t_i = i h, x_0 = x_{n+1} = 0,
#    f_i = 2 x_i - x_{i-1} - x_{i+1} + h^2 (x_i + t_i + 1)^3 / 2.
# ---------------------------------------------------------------------------


def _grid(n):
    h = 1.0 / (n + 1)
    return h, np.arange(1, n + 1) * h


def _grid_start(n):
    _, t = _grid(n)
    return tuple(t * (t - 1.0))


def discrete_boundary(x):
    """Return the discrete boundary value system's equations at ``x``."""
    h, t = _grid(x.size)
    xp = np.concatenate(([0.0], x, [0.0]))
    return 2.0 * x - xp[:-2] - xp[2:] + h * h * (x + t + 1.0) ** 3 / 2.0


def discrete_boundary_jac(x):
    """Jacobian of :func:`discrete_boundary` (tridiagonal)."""
    n = x.size
    h, t = _grid(n)
    jac = np.diag(2.0 + 1.5 * h * h * (x + t + 1.0) ** 2)
    jac -= np.eye(n, k=1) + np.eye(n, k=-1)
    return jac


# ---------------------------------------------------------------------------
# 10. Discrete integral equation: with h, t_i as above and c_j = (x_j + t_j + 1)^3,
#     f_i = x_i + h/2 [(1 - t_i) sum_{j<=i} t_j c_j + t_i sum_{j>i} (1 - t_j) c_j].
# ---------------------------------------------------------------------------


def _integral_kernel(n):
    """K[i, j] = (1 - t_i) t_j for j <= i, t_i (1 - t_j) for j > i."""
    _, t = _grid(n)
    lower = np.outer(1.0 - t, t)
    upper = np.outer(t, 1.0 - t)
    return np.where(np.tri(n, dtype=bool), lower, upper)


def discrete_integral(x):
    """Return the discrete integral equation system's equations at ``x``."""
    n = x.size
    h, t = _grid(n)
    return x + 0.5 * h * (_integral_kernel(n) @ (x + t + 1.0) ** 3)


def discrete_integral_jac(x):
    """Jacobian of :func:`discrete_integral`."""
    n = x.size
    h, t = _grid(n)
    return np.eye(n) + 1.5 * h * _integral_kernel(n) * (x + t + 1.0) ** 2


# ---------------------------------------------------------------------------
# 11. Trigonometric: f_i = n - sum_j cos x_j + i (1 - cos x_i) - sin x_i.
# ---------------------------------------------------------------------------


def trigonometric(x):
    """Return the trigonometric system's equations at ``x``."""
    n = x.size
    i = np.arange(1, n + 1)
    return n - np.cos(x).sum() + i * (1.0 - np.cos(x)) - np.sin(x)


def trigonometric_jac(x):
    """Jacobian of :func:`trigonometric`."""
    n = x.size
    i = np.arange(1, n + 1)
    jac = np.tile(np.sin(x), (n, 1))
    jac[np.diag_indices(n)] += i * np.sin(x) - np.cos(x)
    return jac


# ---------------------------------------------------------------------------
# 12. Variably dimensioned: half the gradient of
#     sum_i (x_i - 1)^2 + s^2 + s^4 with s = sum_j j (x_j - 1), i.e.
#     f_i = x_i - 1 + i s (1 + 2 s^2).  Root (1, ..., 1).
# ---------------------------------------------------------------------------


def variably_dimensioned(x):
    """Return the variably dimensioned system's equations at ``x``."""
    j = np.arange(1, x.size + 1)
    s = j @ (x - 1.0)
    return x - 1.0 + j * (s * (1.0 + 2.0 * s * s))


def variably_dimensioned_jac(x):
    """Jacobian of :func:`variably_dimensioned`."""
    j = np.arange(1.0, x.size + 1)
    s = j @ (x - 1.0)
    return np.eye(x.size) + np.outer(j, j) * (1.0 + 6.0 * s * s)


def _variably_dimensioned_start(n):
    return tuple(1.0 - np.arange(1, n + 1) / n)


# ---------------------------------------------------------------------------
# 13. Broyden tridiagonal: f_i = (3 - 2 x_i) x_i - x_{i-1} - 2 x_{i+1} + 1,
#     x_0 = x_{n+1} = 0.
# ---------------------------------------------------------------------------


def broyden_tridiagonal(x):
    """Broyden's tridiagonal system."""
    xp = np.concatenate(([0.0], x, [0.0]))
    return (3.0 - 2.0 * x) * x - xp[:-2] - 2.0 * xp[2:] + 1.0


def broyden_tridiagonal_jac(x):
    """Jacobian of :func:`broyden_tridiagonal`."""
    n = x.size
    return np.diag(3.0 - 4.0 * x) - np.eye(n, k=-1) - 2.0 * np.eye(n, k=1)


# ---------------------------------------------------------------------------
# 14. Broyden banded: f_i = x_i (2 + 5 x_i^2) + 1 - sum_{j in J_i} x_j (1 + x_j),
#     J_i = {j != i : max(1, i - 5) <= j <= min(n, i + 1)}.
# ---------------------------------------------------------------------------

_BROYDEN_ML, _BROYDEN_MU = 5, 1


def _broyden_band(n):
    """0/1 matrix of J_i: the band without its diagonal."""
    i, j = np.indices((n, n))
    return ((j >= i - _BROYDEN_ML) & (j <= i + _BROYDEN_MU) & (i != j)).astype(float)


def broyden_banded(x):
    """Broyden's banded system."""
    return x * (2.0 + 5.0 * x * x) + 1.0 - _broyden_band(x.size) @ (x * (1.0 + x))


def broyden_banded_jac(x):
    """Jacobian of :func:`broyden_banded`."""
    jac = -_broyden_band(x.size) * (1.0 + 2.0 * x)
    jac[np.diag_indices(x.size)] = 2.0 + 15.0 * x * x
    return jac


# ---------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------


def _eq(name, n, func, jac, x0, band=None):
    return Equation(name, n, _quiet(func), _quiet(jac),
                    tuple(float(v) for v in x0), band)


EQUATIONS: list[Equation] = [
    _eq("rosenbrock", 2, rosenbrock, rosenbrock_jac, (-1.2, 1.0)),
    _eq("powell-singular", 4, powell_singular, powell_singular_jac,
        (3.0, -1.0, 0.0, 1.0)),
    _eq("powell-badly-scaled", 2, powell_badly_scaled, powell_badly_scaled_jac,
        (0.0, 1.0)),
    _eq("wood", 4, wood, wood_jac, (-3.0, -1.0, -3.0, -1.0)),
    _eq("helical-valley", 3, helical_valley, helical_valley_jac, (-1.0, 0.0, 0.0)),
    _eq("watson", 6, watson, watson_jac, (0.0,) * 6),
    _eq("watson", 9, watson, watson_jac, (0.0,) * 9),
    *[_eq("chebyquad", n, chebyquad, chebyquad_jac,
          np.arange(1, n + 1) / (n + 1.0)) for n in (5, 6, 7, 8, 9)],
    _eq("brown-almost-linear", 10, brown_almost_linear, brown_almost_linear_jac,
        (0.5,) * 10),
    _eq("discrete-boundary", 10, discrete_boundary, discrete_boundary_jac,
        _grid_start(10), band=(1, 1)),
    _eq("discrete-integral", 10, discrete_integral, discrete_integral_jac,
        _grid_start(10)),
    _eq("trigonometric", 10, trigonometric, trigonometric_jac, (0.1,) * 10),
    _eq("variably-dimensioned", 10, variably_dimensioned,
        variably_dimensioned_jac, _variably_dimensioned_start(10)),
    _eq("broyden-tridiagonal", 10, broyden_tridiagonal, broyden_tridiagonal_jac,
        (-1.0,) * 10, band=(1, 1)),
    _eq("broyden-banded", 10, broyden_banded, broyden_banded_jac, (-1.0,) * 10,
        band=(_BROYDEN_ML, _BROYDEN_MU)),
]
"""One entry per (system, n) of the MINPACK-1 hybrd/hybrj driver."""

CASES: list[Case] = [Case(e, f) for e in EQUATIONS for f in FACTORS]
"""Every system from each of its three starts."""


def by_id(ident: str) -> Equation:
    """Return the system whose :attr:`Equation.id` is ``ident``."""
    for e in EQUATIONS:
        if e.id == ident:
            return e
    raise KeyError(ident)
