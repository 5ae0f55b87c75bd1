"""Quick check of an installed minpack: ``python -m minpack.selftest``.

A few small fits with known answers, through each public solver, plus the
files that Fortran and C programs build against. Prints one line per check
and a closing ``N passed, N failed`` line; exits with status 1 when any check
fails. Needs numpy only, and runs in well under a second.

The least-squares reference is NIST's certified result for the Misra1a problem
(NIST StRD, the data that ship with the package for ``python -m minpack.demo``);
the other checks have exact answers.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

__all__ = ["main"]

# Certified digits a fit from NIST's first start must reach with the default
# tolerances (minpack and SciPy reach about 8).
_MIN_DIGITS = 6.0


def _misra1a():
    """Return NIST's Misra1a problem and the Jacobian of its residuals."""
    from minpack._nist import load_problems

    (problem,) = load_problems(["Misra1a"])
    x = problem.predictors["x"]

    def jacobian(b: np.ndarray) -> np.ndarray:
        # residuals y - b1 (1 - exp(-b2 x))
        e = np.exp(-b[1] * x)
        return np.column_stack([e - 1.0, -b[0] * x * e])

    return problem, jacobian


def _check_misra1a(problem, x: np.ndarray, ier: int) -> None:
    from minpack._nist import lre

    assert 1 <= ier <= 4, f"ier = {ier}"
    digits = lre(x, problem.certified)
    assert digits >= _MIN_DIGITS, (
        f"{digits:.1f} certified digits (x = {x}, certified {problem.certified}), "
        f"expected at least {_MIN_DIGITS:g}"
    )


def check_leastsq_lmder() -> None:
    """leastsq with an analytic Jacobian (lmder) on NIST's Misra1a."""
    from minpack import leastsq

    problem, jacobian = _misra1a()
    x, cov_x, info, mesg, ier = leastsq(problem.residuals, problem.starts[0],
                                        Dfun=jacobian, full_output=True)
    _check_misra1a(problem, x, ier)
    assert info["njev"] > 0 and cov_x.shape == (2, 2)


def check_leastsq_lmdif() -> None:
    """leastsq with a difference Jacobian (lmdif) on NIST's Misra1a."""
    from minpack import leastsq

    problem, _ = _misra1a()
    x, ier = leastsq(problem.residuals, problem.starts[0])
    _check_misra1a(problem, x, ier)


def check_curve_fit() -> None:
    """curve_fit recovers the parameters of exact exponential data."""
    from minpack import curve_fit

    t = np.linspace(0.0, 4.0, 30)
    y = 2.5 * np.exp(-1.3 * t) + 0.5
    popt, pcov = curve_fit(lambda t, a, k, c: a * np.exp(-k * t) + c, t, y,
                           p0=[1.0, 1.0, 0.0])
    np.testing.assert_allclose(popt, [2.5, 1.3, 0.5], rtol=1e-8)
    assert pcov.shape == (3, 3)


def check_fsolve() -> None:
    """fsolve on x^2 + y^2 = 4, x = y (hybrd) and with fprime (hybrj)."""
    from minpack import fsolve

    def f(z: np.ndarray) -> list[float]:
        return [z[0] ** 2 + z[1] ** 2 - 4.0, z[0] - z[1]]

    def fprime(z: np.ndarray) -> list[list[float]]:
        return [[2.0 * z[0], 2.0 * z[1]], [1.0, -1.0]]

    for kwargs in ({}, {"fprime": fprime}):
        z, info, ier, mesg = fsolve(f, [1.0, 0.5], full_output=True, **kwargs)
        assert ier == 1, mesg
        np.testing.assert_allclose(z, [np.sqrt(2.0)] * 2, rtol=1e-10)


def check_jacobian() -> None:
    """check_jacobian (chkder) accepts Misra1a's Jacobian and rejects a wrong one."""
    from minpack import check_jacobian

    problem, jacobian = _misra1a()
    x = problem.starts[1]
    right = check_jacobian(problem.residuals, jacobian, x)
    wrong = check_jacobian(problem.residuals, lambda b: -jacobian(b), x)
    # MINPACK-1's guide: err > 0.5 means probably correct.
    assert right.min() > 0.5, f"right Jacobian scored {right.min()}"
    assert wrong.max() < 0.5, f"wrong Jacobian scored {wrong.max()}"


def check_leastsq_batch() -> None:
    """leastsq_batch gives, row by row, what leastsq gives alone."""
    from minpack import leastsq, leastsq_batch

    t = np.linspace(0.0, 1.0, 8)
    data = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.25]])

    def f(p: np.ndarray, d: np.ndarray) -> np.ndarray:
        return p[0] + p[1] * t - (d[0] + d[1] * t)

    res = leastsq_batch(f, np.zeros((3, 2)), args=data)
    assert res.success.all(), res.ier
    for k in range(3):
        np.testing.assert_allclose(res.x[k], data[k], atol=1e-10)
        alone = leastsq(f, np.zeros(2), args=(data[k],))[0]
        np.testing.assert_array_equal(res.x[k], alone)


def check_library_files() -> None:
    """The header, .mod files, libraries and pkg-config file are installed."""
    import minpack

    inc, lib = Path(minpack.get_include()), Path(minpack.get_library_dir())
    shared = {"darwin": "libminpack.dylib", "win32": "libminpack.dll"}.get(
        sys.platform, "libminpack.so")
    for path in (inc / "minpack.h", inc / "minpack.mod", lib / "libminpack.a",
                 lib / shared, lib / "pkgconfig" / "minpack.pc"):
        assert path.is_file(), f"missing {path}"


CHECKS: list[Callable[[], None]] = [
    check_leastsq_lmder,
    check_leastsq_lmdif,
    check_curve_fit,
    check_fsolve,
    check_jacobian,
    check_leastsq_batch,
    check_library_files,
]


def main(argv: Sequence[str] | None = None) -> int:
    """Run every check; return 0 when all pass, 1 otherwise.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments; ``-v`` prints the traceback of a failure.

    Returns
    -------
    int
        The exit status.
    """
    import minpack

    verbose = "-v" in (sys.argv[1:] if argv is None else argv)
    print(f"minpack {minpack.__version__} from {Path(minpack.__file__).parent}")
    print(f"numpy {np.__version__}, Python {sys.version.split()[0]}")
    failed = 0
    for check in CHECKS:
        doc = (check.__doc__ or check.__name__).strip()
        try:
            check()
        except Exception as exc:  # report every check, whatever breaks
            failed += 1
            print(f"FAIL  {doc}\n      {type(exc).__name__}: {exc}")
            if verbose:
                traceback.print_exc()
        else:
            print(f"ok    {doc}")
    print(f"selftest: {len(CHECKS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
