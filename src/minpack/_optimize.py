"""The result class of `least_squares` and `root`, and the way to SciPy.

``least_squares`` and ``root`` return an `OptimizeResult`, as SciPy's do.
The methods and options that minpack's engine does not provide (bounded
and robust least squares, the other root finders, finite-difference
schemes given as strings to ``curve_fit``) are handed to SciPy's own
implementation when SciPy is installed; `scipy_function` is the one place
that finds it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["OptimizeResult", "OptimizeWarning", "result_class", "scipy_function",
           "warning_category"]


class OptimizeWarning(UserWarning):
    """Warning about the result of an optimization, e.g. an unknown covariance.

    ``minpack`` does not import SciPy, so it has its own warning class. When
    ``scipy.optimize`` is already imported, :func:`curve_fit` (and the other functions) issue
    ``scipy.optimize.OptimizeWarning`` instead, so that code written for
    SciPy (``warnings.filterwarnings(..., category=OptimizeWarning)`` or
    ``pytest.warns(scipy.optimize.OptimizeWarning)``) keeps working.
    Both classes derive from `UserWarning`, which catches either.
    """


def warning_category() -> type[Warning]:
    """Return SciPy's OptimizeWarning if SciPy is loaded, else ours."""
    scipy_optimize = sys.modules.get("scipy.optimize")
    category = getattr(scipy_optimize, "OptimizeWarning", None)
    if isinstance(category, type) and issubclass(category, Warning):
        return category
    return OptimizeWarning


class OptimizeResult(dict):
    """The result of `least_squares` or `root`: a dict with attribute access.

    ``res.x`` and ``res["x"]`` are the same entry. minpack does not import
    SciPy, so it has its own class; when ``scipy.optimize`` is already
    imported, the functions return ``scipy.optimize.OptimizeResult``
    instead, so that code that checks the type keeps working. Both are
    `dict` subclasses with the same entries.

    Examples
    --------
    >>> from minpack import OptimizeResult
    >>> res = OptimizeResult(x=1.5, success=True)
    >>> res.x, res["success"]
    (1.5, True)
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __repr__(self) -> str:
        if not self:
            return f"{type(self).__name__}()"
        first = ("message", "success", "status", "fun", "x")
        names = ([k for k in first if k in self]
                 + sorted(k for k in self if k not in first))
        width = max(len(str(k)) for k in names) + 1
        lines = []
        for k in names:
            text = repr(self[k]).replace("\n", "\n" + " " * (width + 2))
            lines.append(f"{str(k).rjust(width)}: {text}")
        return "\n".join(lines)

    def __dir__(self) -> list:
        return list(self.keys())


def result_class() -> type:
    """Return SciPy's OptimizeResult if ``scipy.optimize`` is loaded, else ours."""
    scipy_optimize = sys.modules.get("scipy.optimize")
    cls = getattr(scipy_optimize, "OptimizeResult", None)
    if isinstance(cls, type) and issubclass(cls, dict):
        return cls
    return OptimizeResult


def scipy_function(module: str, name: str, what: str) -> Callable[..., Any]:
    """SciPy's own implementation `name` from its private `module`.

    The private module, never the public ``scipy.optimize`` name: a program
    that replaced ``scipy.optimize.curve_fit`` (say) by minpack's must still
    reach SciPy's code here, not minpack's again. `what` says what the
    caller asked for, for the error raised when SciPy is not installed.
    """
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{what} is provided by SciPy, which is not installed: minpack runs "
            f"only MINPACK's unconstrained Levenberg-Marquardt and hybrid "
            f"methods. Install SciPy (pip install scipy) to use it.") from exc
    func = getattr(mod, name, None)
    if func is None:
        raise ImportError(f"{what} is provided by SciPy, but the installed SciPy "
                          f"has no {module}.{name}")
    if str(getattr(func, "__module__", "")).split(".")[0] == "minpack":
        raise RuntimeError(
            f"{module}.{name} has been replaced by minpack's own function, so "
            f"SciPy's implementation, needed for {what}, cannot be reached; "
            f"replace the public scipy.optimize name instead")
    return func
