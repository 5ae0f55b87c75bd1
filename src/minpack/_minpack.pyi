"""Type stubs for the compiled extension (see _minpack.pyf)."""

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

_F64 = npt.NDArray[np.float64]
_I32 = npt.NDArray[np.int32]

def lmdif(
    fcn: Callable[[_F64, _F64], int],
    x: _F64, fvec: _F64, ftol: float, xtol: float, gtol: float, maxfev: int,
    epsfcn: float, diag: _F64, mode: int, factor: float,
) -> tuple[_F64, _F64, _F64, _F64, _I32, _F64, int, int]: ...
def lmder(
    fcn: Callable[[_F64, _F64], int], jac: Callable[[_F64, _F64], int],
    x: _F64, fvec: _F64, ftol: float, xtol: float, gtol: float, maxfev: int,
    diag: _F64, mode: int, factor: float,
) -> tuple[_F64, _F64, _F64, _F64, _I32, _F64, int, int, int]: ...
def covar(r: _F64, ipvt: _I32) -> tuple[_F64, int]: ...
