"""minpack: MINPACK's Levenberg-Marquardt solver, our own Fortran, SciPy's API.

``from minpack import leastsq`` is a drop-in for ``scipy.optimize.leastsq``.
"""

from ._leastsq import leastsq

__all__ = ["leastsq"]
__version__ = "0.1.0"
