"""minpack: MINPACK's solvers in our own Fortran, behind SciPy's API.

``from minpack import leastsq, curve_fit, fsolve`` are drop-ins for their
``scipy.optimize`` namesakes. Beyond SciPy: compiled residuals (numba, ctypes,
cffi, ``LowLevelCallable``) that run without the GIL, `leastsq_batch` for many
fits on all cores, and an iteration `callback` on every path. `patch_scipy`
puts them in place of SciPy's for a whole program, inside the libraries it
uses too.
"""

from ._batch import BatchResult, leastsq_batch
from ._callbacks import Iteration
from ._chkder import check_jacobian
from ._curve_fit import OptimizeWarning, curve_fit
from ._fsolve import fsolve
from ._leastsq import leastsq
from ._paths import get_include, get_library_dir
from ._patch import patch_scipy, patched_scipy, unpatch_scipy

__all__ = [
    "BatchResult",
    "Iteration",
    "OptimizeWarning",
    "check_jacobian",
    "curve_fit",
    "fsolve",
    "get_include",
    "get_library_dir",
    "leastsq",
    "leastsq_batch",
    "patch_scipy",
    "patched_scipy",
    "unpatch_scipy",
]
__version__ = "0.1.0"
