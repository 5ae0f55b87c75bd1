"""minpack: MINPACK's solvers in our own Fortran, behind SciPy's API.

``from minpack import leastsq, curve_fit, fsolve, least_squares, root`` are
drop-ins for their ``scipy.optimize`` namesakes (MINPACK's methods run here;
SciPy's other methods are handed to SciPy when it is installed). Beyond
SciPy: compiled residuals (numba, ctypes, cffi, ``LowLevelCallable``) that
run without the GIL, `leastsq_batch` and `curve_fit_batch` for many fits
on all cores (a plain NumPy model evaluated for many points per call), and an
iteration `callback` on every path. `patch_scipy` puts them in place of
SciPy's for a whole program, inside the libraries it uses too.
"""

from ._batch import BatchResult, leastsq_batch
from ._chkder import check_jacobian
from ._contexts import Iteration
from ._curve_fit import curve_fit
from ._curve_fit_batch import CurveFitBatchResult, curve_fit_batch
from ._fsolve import fsolve
from ._least_squares import least_squares
from ._leastsq import leastsq
from ._optimize import OptimizeResult, OptimizeWarning
from ._patch import patch_scipy, patched_scipy, unpatch_scipy
from ._paths import get_include, get_library_dir
from ._root import root
from ._version import __version__

__all__ = [
    "BatchResult",
    "CurveFitBatchResult",
    "Iteration",
    "OptimizeResult",
    "OptimizeWarning",
    "check_jacobian",
    "curve_fit",
    "curve_fit_batch",
    "fsolve",
    "get_include",
    "get_library_dir",
    "least_squares",
    "leastsq",
    "leastsq_batch",
    "patch_scipy",
    "patched_scipy",
    "root",
    "unpatch_scipy",
]
