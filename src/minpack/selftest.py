"""Quick check of an installed minpack: ``python -m minpack.selftest``.

A few small fits with known answers, through each public solver, plus the
files that Fortran and C programs build against. Prints one line per check
and a closing ``N passed, N failed`` line; exits with status 1 when any check
fails. Needs numpy only, and runs in well under a second.

The reference results are those of MINPACK-1's own test driver (Moré, Garbow
& Hillstrom, problem 8, Bard, from the standard start) and exact answers.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

__all__ = ["main"]

# Bard's data (MGH problem 8) and MINPACK-1's result from x0 = (1, 1, 1).
_BARD_Y = np.array([0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58,
                    0.73, 0.96, 1.34, 2.10, 4.39])
_BARD_X = np.array([0.0824105765758334, 1.133036653471504, 2.343694638941154])
_BARD_FNORM = 0.09063596
_U = np.arange(1.0, 16.0)
_V = 16.0 - _U
_W = np.minimum(_U, _V)


def _bard(x: np.ndarray) -> np.ndarray:
    return _BARD_Y - (x[0] + _U / (x[1] * _V + x[2] * _W))


def _bard_jac(x: np.ndarray) -> np.ndarray:
    den2 = (x[1] * _V + x[2] * _W) ** 2
    return np.column_stack([-np.ones(15), _U * _V / den2, _U * _W / den2])


def _check_bard(x: np.ndarray, ier: int) -> None:
    fnorm = float(np.linalg.norm(_bard(x)))
    assert 1 <= ier <= 4, f"ier = {ier}"
    assert abs(fnorm - _BARD_FNORM) < 1e-7, f"||f|| = {fnorm!r}, expected {_BARD_FNORM}"
    np.testing.assert_allclose(x, _BARD_X, rtol=1e-5)


def check_leastsq_lmder() -> None:
    """leastsq with an analytic Jacobian (lmder) on Bard."""
    from minpack import leastsq

    x, cov_x, info, mesg, ier = leastsq(_bard, np.ones(3), Dfun=_bard_jac,
                                        full_output=True)
    _check_bard(x, ier)
    assert info["njev"] > 0 and cov_x.shape == (3, 3)


def check_leastsq_lmdif() -> None:
    """leastsq with a difference Jacobian (lmdif) on Bard."""
    from minpack import leastsq

    x, ier = leastsq(_bard, np.ones(3))
    _check_bard(x, ier)


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
    """check_jacobian (chkder) accepts Bard's Jacobian and rejects a wrong one."""
    from minpack import check_jacobian

    x = np.array([0.5, 1.5, 2.5])
    right = check_jacobian(_bard, _bard_jac, x)
    wrong = check_jacobian(_bard, lambda x: -_bard_jac(x), x)
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
        np.testing.assert_array_equal(res.x[k], leastsq(f, np.zeros(2), args=(data[k],))[0])


def check_library_files() -> None:
    """The header, .mod files, libraries and pkg-config file are installed."""
    import minpack

    inc, lib = Path(minpack.get_include()), Path(minpack.get_library_dir())
    for path in (inc / "minpack.h", inc / "minpack.mod", lib / "libminpack.a",
                 lib / "libminpack.so", lib / "pkgconfig" / "minpack.pc"):
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
