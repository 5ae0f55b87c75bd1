"""Residuals and Jacobians that are not finite: the solvers' codes for them.

The Fortran solvers test every evaluation (``minpack/minpack_lm.f90``,
``minpack_hybrid.f90``): a trial point whose residuals are NaN or inf is a
failed step, and the fit goes on; residuals that are not finite at the
starting point, or a Jacobian that is not finite, stop the solver with the
``info`` values below. Here they become what the user sees: a `ValueError`
for the starting point, a message and an ``ier`` for the Jacobian.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# The Fortran solvers' info values (minpack_kinds: info_nonfinite_start,
# info_nonfinite_jacobian); leastsq, fsolve and leastsq_batch report them as
# ier unchanged.
NONFINITE_START = 10
NONFINITE_JACOBIAN = 11

# How many bad indices a message lists before it says "...".
_SHOWN = 10


class NonFiniteStartError(ValueError):
    """The residuals at the starting point are not all finite.

    A `ValueError` (as ``scipy.optimize.least_squares`` raises) that also
    keeps the residuals at x0 (`fvec`), so that `leastsq_batch` can record
    the problem's ``ier`` and go on with the others.
    """

    def __init__(self, message: str, fvec: np.ndarray) -> None:
        super().__init__(message)
        self.fvec = fvec


def nonfinite_start(fvec: Any, name: str = "func",
                    what: str = "residuals") -> NonFiniteStartError:
    """The error for `fvec`, the values `name` returned at x0, some not finite.

    `what` names the values in the message ("residuals" for leastsq, "values"
    for fsolve's equations).
    """
    f = np.asarray(fvec, dtype=np.float64).reshape(-1)
    bad = np.flatnonzero(~np.isfinite(f))
    shown = ", ".join(f"{i} ({f[i]})" for i in bad[:_SHOWN].tolist())
    more = f", ... ({bad.size} in all)" if bad.size > _SHOWN else ""
    message = (
        f"{name} returned {what} that are not finite at the starting point x0: "
        f"{bad.size} of the {f.size} {what} are NaN or inf, at index {shown}{more}. "
        f"No fit can start there; choose an x0 where {name} is defined and finite.")
    return NonFiniteStartError(message, f)


def check_start(f0: np.ndarray, name: str = "func", what: str = "residuals") -> None:
    """Raise `nonfinite_start` unless the values `f0` at x0 are all finite.

    Only for an evaluation at x0 that MINPACK does not see (see
    ``first_point``): otherwise the solver itself reports NONFINITE_START.
    """
    if not np.isfinite(f0).all():
        raise nonfinite_start(f0, name, what)


def jacobian_message(stopped: str, jac: str) -> str:
    """The message for NONFINITE_JACOBIAN.

    `stopped` says what stopped ("the fit", "the solver"); `jac` names the
    user's Jacobian argument ("Dfun", "fprime").
    """
    return (f"The Jacobian at x is not finite (NaN or inf), so {stopped} "
            f"stopped at x, the last iterate: {jac} returned NaN or inf there, "
            f"or (without {jac}) a forward-difference step from x reached a "
            f"point where func is not finite.")
