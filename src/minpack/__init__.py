"""minpack: MINPACK's solvers in our own Fortran, behind SciPy's API.

``from minpack import leastsq, fsolve`` are drop-ins for
``scipy.optimize.leastsq`` and ``scipy.optimize.fsolve``.
"""

from ._curve_fit import OptimizeWarning, curve_fit
from ._fsolve import fsolve
from ._leastsq import leastsq

__all__ = ["OptimizeWarning", "curve_fit", "fsolve", "leastsq"]
__version__ = "0.1.0"
