"""``check_jacobian``: MINPACK's chkder, to test an analytic Jacobian before fitting.

The check itself is ``chkder`` in ``minpack/minpack_derivcheck.f90``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _minpack
from ._checks import as_start, describe, residual_array, shape_mismatch

__all__ = ["check_jacobian"]


def check_jacobian(
    func: Callable[..., Any],
    Dfun: Callable[..., Any],
    x0: Any,
    args: Any = (),
    col_deriv: bool = False,
) -> np.ndarray:
    """Check an analytic Jacobian against the function, with MINPACK's chkder.

    Parameters
    ----------
    func : callable ``func(x, *args)``
        Returns the M function values (residuals) at the N-vector x.
    Dfun : callable ``Dfun(x, *args)``
        Returns the Jacobian of `func`: shape (M, N), or (N, M) with
        `col_deriv`.
    x0 : array_like
        The point at which to check. Avoid points where a variable is 0 or
        where functions vanish: the test has nothing to measure there.
    args : tuple, optional
        Extra arguments to `func` and `Dfun`.
    col_deriv : bool, optional
        Whether `Dfun` returns derivatives down the columns (shape (N, M)).

    Returns
    -------
    err : ndarray, shape (M,)
        One measure per function (residual): 1 means its row of the Jacobian
        is correct, 0 that it is wrong; values in between are uncertain
        (MINPACK-1's guide takes > 0.5 as probably correct).

    Raises
    ------
    TypeError, ValueError
        When `func` or `Dfun` returns an array of the wrong shape or type.

    Notes
    -----
    `func` is called twice (at `x0` and at a nearby point) and `Dfun` once.
    The measure compares the change of each function over a small step with
    the change the Jacobian predicts; it cannot see an error in a row whose
    function does not change over that step, and is unreliable for
    functions of the size of rounding errors.

    Examples
    --------
    >>> import numpy as np
    >>> from minpack import check_jacobian
    >>> t = np.linspace(0, 1, 5)
    >>> f = lambda p: p[0] * np.exp(p[1] * t) - 1.0
    >>> right = lambda p: np.column_stack([np.exp(p[1] * t), p[0] * t * np.exp(p[1] * t)])
    >>> wrong = lambda p: np.column_stack([np.exp(p[1] * t), -p[0] * t * np.exp(p[1] * t)])
    >>> bool(np.all(check_jacobian(f, right, [2.0, 0.5]) > 0.99))
    True

    The sign error in the second column shows in every row but the first,
    where t = 0 makes that derivative vanish:

    >>> np.round(check_jacobian(f, wrong, [2.0, 0.5]), 2)
    array([1.  , 0.08, 0.05, 0.03, 0.02])
    """
    x = as_start(x0)
    n = x.size
    if not isinstance(args, tuple):
        args = (args,)
    fvec = np.array(residual_array(func(x.copy(), *args), None, "func"), dtype=np.float64)
    m = fvec.size
    value = Dfun(x.copy(), *args)
    try:
        J = np.asarray(value)
    except ValueError as exc:  # e.g. ragged nested lists
        raise TypeError(f"Dfun must return a 2-D array of real numbers; it returned "
                        f"{describe(value)} ({exc})") from exc
    expected = (n, m) if col_deriv else (m, n)
    if J.dtype.kind not in "biuf":
        raise TypeError(f"Dfun must return real numbers; it returned an array of "
                        f"dtype {J.dtype}")
    if J.shape != expected:
        if J.size != m * n or (expected[0] != 1 and expected[1] != 1):
            raise shape_mismatch("check_jacobian", "Dfun", Dfun, expected,
                                 np.atleast_1d(J).shape)
        J = J.reshape(expected)
    fjac = np.asfortranarray(J.T if col_deriv else J, dtype=np.float64)

    xp = np.zeros(n)
    err = np.zeros(m)
    _minpack.chkder(x, fvec, fjac, xp, fvec, 1, err)
    fvecp = np.array(residual_array(func(xp.copy(), *args), m, "func"), dtype=np.float64)
    _minpack.chkder(x, fvec, fjac, xp, fvecp, 2, err)
    return err
