"""How a result is compared with SciPy's: which parts bit for bit, which not.

minpack and ``scipy.optimize`` run the same MINPACK arithmetic, so what that
arithmetic produces (``x``, ``fvec``, ``fjac``, ``ipvt``, ``qtf``, ``nfev``,
``njev``, ``ier``, the messages) may be compared bit for bit.

What SciPy computes afterwards through BLAS or LAPACK may not: its ``cov_x``
is ``invR @ invR.T`` (LAPACK ``trtri``, then a BLAS matrix product), and
``curve_fit``'s ``pcov`` is that ``cov_x`` scaled. OpenBLAS picks its kernel,
and with it the order and fusing (FMA) of the sums, by CPU, so SciPy's last
bits change from one processor to another (``OPENBLAS_CORETYPE=Haswell`` or
``=Prescott`` in front of the test command shows it on any x86-64 machine),
while minpack computes ``cov_x`` in Fortran, the same everywhere. Those are
compared within a few ulps with :func:`assert_cov_close`.

``ci/test`` runs the tests marked ``scipy_oracle`` (every module that calls
SciPy to compare results) a second time under two other OpenBLAS core types.
"""

from __future__ import annotations

import numpy as np

COV_RTOL = 1e-13
"""Relative tolerance for a covariance computed by SciPy through BLAS: a few
hundred ulps of headroom over the ~1e-16 that a different summation order
gives for these small (n <= 12) matrices, and far below any real difference."""


def assert_cov_close(ours, ref, rtol: float = COV_RTOL, what: str = "cov") -> None:
    """Assert a covariance equals SciPy's up to the rounding of a matrix product.

    ``C = A @ A.T`` is a sum of products whose rounding error is bounded by
    ``eps * sum_k |a_ik a_jk| <= eps * sqrt(C_ii C_jj)`` (Cauchy-Schwarz), so
    an entry is compared to ``rtol * sqrt(|C_ii C_jj|)``: relative for the
    diagonal, and for an off-diagonal entry relative to the size of its terms,
    which stays fair when they cancel. (SciPy's ``trtri`` rounds by kernel
    too; for a well-conditioned R that is of the same order.) Shapes and
    dtypes must be equal and non-finite entries must sit in the same places.
    """
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} != SciPy's {ref.shape}"
    assert ours.dtype == ref.dtype, f"{what}: dtype {ours.dtype} != SciPy's {ref.dtype}"
    if ref.ndim != 2 or ref.shape[0] != ref.shape[1]:
        raise ValueError(f"{what}: expected a square matrix, got shape {ref.shape}")
    finite = np.isfinite(ref)
    np.testing.assert_array_equal(np.isfinite(ours), finite,
                                  err_msg=f"{what}: non-finite entries elsewhere")
    np.testing.assert_array_equal(ours[~finite], ref[~finite], err_msg=what)
    with np.errstate(over="ignore", invalid="ignore"):
        d = np.sqrt(np.abs(np.diag(ref)))
        bound = rtol * np.outer(d, d)
        diff = np.abs(np.where(finite, ours - ref, 0.0))
    bad = diff > bound
    assert not bad.any(), (
        f"{what} differs from SciPy's by more than {rtol:g} sqrt(|C_ii C_jj|) "
        f"at {np.argwhere(bad).tolist()}: ours {ours[bad]}, SciPy's {ref[bad]}")
