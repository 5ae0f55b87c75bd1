"""Put minpack's solvers in place of SciPy's, for a whole program.

`patch_scipy` replaces ``scipy.optimize.leastsq`` (and ``curve_fit``,
``fsolve``, ``least_squares``, ``root``: whichever minpack provides) by
minpack's, and re-points every module global that still holds SciPy's
original function object, so that modules which ran ``from scipy.optimize
import leastsq`` before the call are switched too. `unpatch_scipy` puts the
originals back, everywhere.

What is put in place is a thin wrapper around minpack's function, one per
name for the life of the process: it counts the calls, and it lets the
patch tell its own objects from a ``from minpack import leastsq`` that a
module made on purpose (which unpatching must leave alone). A call that
comes from inside minpack itself (minpack handing a problem on to SciPy,
e.g. a method it does not implement) goes to SciPy's original: patched or
not, minpack never calls itself through SciPy's name.

SciPy's private modules (``scipy.optimize._minpack_py`` and the like) are not
re-pointed: SciPy's own code keeps calling SciPy's own functions.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["patch_scipy", "patched_scipy", "unpatch_scipy"]

# The scipy.optimize names minpack may stand in for, in the order they are
# documented. Only those minpack provides are patched (see _available).
NAMES = ("leastsq", "curve_fit", "fsolve", "least_squares", "root")

_lock = threading.RLock()
_count_lock = threading.Lock()
# name -> SciPy's original function, while that name is patched
_originals: dict[str, Callable[..., Any]] = {}
# name -> the wrapper installed for it (made once, kept for the process)
_wrappers: dict[str, Callable[..., Any]] = {}
# name -> number of calls that reached minpack through the patched name
_calls: dict[str, int] = {}


def _available() -> tuple[str, ...]:
    """The names of `NAMES` that minpack provides."""
    import minpack

    return tuple(n for n in NAMES if getattr(minpack, n, None) is not None)


def _scipy_optimize() -> types.ModuleType:
    """Import ``scipy.optimize``, or explain that SciPy is needed."""
    try:
        import scipy.optimize
    except ImportError as exc:
        raise ImportError(
            "minpack.patch_scipy() replaces functions of SciPy's scipy.optimize, "
            "but SciPy is not installed (or cannot be imported: "
            f"{exc}). Install SciPy (pip install scipy), or call minpack's "
            "functions directly (from minpack import leastsq, ...)") from exc
    return scipy.optimize


def _is_scipy_private(module_name: str) -> bool:
    """True for SciPy's private modules (a component starting with ``_``)."""
    parts = module_name.split(".")
    return parts[0] == "scipy" and any(p.startswith("_") for p in parts[1:])


def _is_minpack(module_name: str) -> bool:
    return module_name == "minpack" or module_name.startswith("minpack.")


def _modules() -> list[tuple[str, dict]]:
    """(name, __dict__) of every loaded module, SciPy's private ones aside."""
    found = []
    for name, module in list(sys.modules.items()):
        if not isinstance(module, types.ModuleType) or _is_scipy_private(name):
            continue
        namespace = getattr(module, "__dict__", None)
        if isinstance(namespace, dict):
            found.append((name, namespace))
    return found


def _repoint(replace: dict[int, Callable[..., Any]], *, everywhere: bool) -> None:
    """Replace, in module globals, each object whose id is a key of `replace`.

    `everywhere` also visits SciPy's private modules (used when unpatching:
    one imported while the patch was on may hold a wrapper).
    """
    modules = ([(n, getattr(m, "__dict__", None)) for n, m in list(sys.modules.items())
                if isinstance(m, types.ModuleType)] if everywhere else _modules())
    for module_name, namespace in modules:
        if not isinstance(namespace, dict) or _is_minpack(module_name):
            continue
        for key, value in list(namespace.items()):
            new = replace.get(id(value))
            if new is not None:
                namespace[key] = new


def _wrapper(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    """The object put in place of SciPy's `name`: minpack's, counted."""
    wrapper = _wrappers.get(name)
    if wrapper is not None:
        return wrapper
    import minpack

    ours = getattr(minpack, name)

    @functools.wraps(ours)
    def patched(*args: Any, **kwargs: Any) -> Any:
        # minpack handing a problem on to SciPy reaches SciPy's own function
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller == "minpack" or caller.startswith("minpack."):
            return _originals.get(name, original)(*args, **kwargs)
        with _count_lock:
            _calls[name] = _calls.get(name, 0) + 1
        return ours(*args, **kwargs)

    patched.__minpack_patch__ = name  # type: ignore[attr-defined]
    _wrappers[name] = patched
    return patched


def _names(names: str | Iterable[str] | None) -> tuple[str, ...]:
    """Check the `names` argument of patch_scipy."""
    available = _available()
    if names is None:
        return available
    if isinstance(names, str):
        names = (names,)
    chosen = tuple(names)
    for n in chosen:
        if n not in available:
            raise ValueError(
                f"cannot patch {n!r}: minpack stands in for "
                f"{', '.join(map(repr, available))} of scipy.optimize")
    return chosen


def patch_scipy(
    names: str | Iterable[str] | None = None,
) -> dict[str, Callable[..., Any]]:
    """Use minpack's solvers in place of SciPy's, in the whole program.

    Puts minpack's `leastsq`, `curve_fit`, `fsolve`, `least_squares` and
    `root` in place of their ``scipy.optimize`` namesakes, and re-points
    every module global that still holds SciPy's original function, so that
    modules which did
    ``from scipy.optimize import leastsq`` before the call use minpack too.
    Libraries that call SciPy for you (lmfit, astropy.modeling, xarray's
    ``curvefit``) then run on minpack without any change to their code.

    Parameters
    ----------
    names : str or iterable of str, optional
        The names to patch; all that minpack provides by default.

    Returns
    -------
    dict
        ``{name: original}`` for each name this call replaced: SciPy's
        original function. Empty when everything asked for was already
        patched (patching twice changes nothing).

    Raises
    ------
    ImportError
        If SciPy is not installed.
    ValueError
        If a name is not one that minpack stands in for.

    See Also
    --------
    unpatch_scipy : put SciPy's originals back.
    patched_scipy : patch for the duration of a ``with`` block.

    Notes
    -----
    The patch is for the whole process, every thread, not per thread. What
    is put in ``scipy.optimize`` is a thin wrapper around minpack's function
    (``scipy.optimize.leastsq.__wrapped__ is minpack.leastsq``). Not
    patched: SciPy's private modules (SciPy's own code keeps using SciPy's
    functions), and copies kept elsewhere than in a module global (in a
    class attribute, a dict, a ``functools.partial``). Whatever minpack hands
    on to SciPy reaches SciPy's own function, patched or not. The intended
    differences from SciPy are listed in the documentation ("Differences
    from SciPy"). ``python -m minpack.patch`` runs a program or a module
    (``-m pytest``) with the patch on.

    Examples
    --------
    >>> import minpack
    >>> import scipy.optimize
    >>> replaced = minpack.patch_scipy()
    >>> {"leastsq", "curve_fit", "fsolve"} <= set(replaced)
    True
    >>> scipy.optimize.leastsq.__wrapped__ is minpack.leastsq
    True
    >>> minpack.patch_scipy()  # already patched: nothing more to replace
    {}
    >>> restored = minpack.unpatch_scipy()
    >>> scipy.optimize.leastsq is replaced["leastsq"]
    True
    """
    chosen = _names(names)
    optimize = _scipy_optimize()
    with _lock:
        replaced: dict[str, Callable[..., Any]] = {}
        for n in chosen:
            if n in _originals:
                continue
            original = getattr(optimize, n)
            if getattr(original, "__minpack_patch__", None) == n:  # left by a reload
                continue
            replaced[n] = original
        for n, original in replaced.items():
            _originals[n] = original
            setattr(optimize, n, _wrapper(n, original))
        # every name patched so far, not only the new ones: modules imported
        # since the last call may hold an original
        _repoint({id(_originals[n]): _wrappers[n] for n in _originals},
                 everywhere=False)
    return replaced


def unpatch_scipy(
    names: str | Iterable[str] | None = None,
) -> dict[str, Callable[..., Any]]:
    """Put SciPy's original functions back where `patch_scipy` replaced them.

    Restores ``scipy.optimize``'s attributes and every module global that
    holds a patched function (also in modules imported while the patch was
    on) to the very object SciPy defined. A module that imported a function
    from minpack itself keeps it.

    Parameters
    ----------
    names : str or iterable of str, optional
        The names to restore; all patched ones by default.

    Returns
    -------
    dict
        ``{name: original}`` for each name restored. Empty when nothing was
        patched.

    Examples
    --------
    >>> import minpack, scipy.optimize
    >>> original = scipy.optimize.curve_fit
    >>> minpack.patch_scipy(["curve_fit"])["curve_fit"] is original
    True
    >>> minpack.unpatch_scipy()["curve_fit"] is original
    True
    >>> scipy.optimize.curve_fit is original
    True
    """
    with _lock:
        if names is None:
            chosen = tuple(_originals)
        else:
            chosen = (names,) if isinstance(names, str) else tuple(names)
        restored = {n: _originals.pop(n) for n in chosen if n in _originals}
        if not restored:
            return {}
        optimize = sys.modules["scipy.optimize"]
        for n, original in restored.items():
            setattr(optimize, n, original)
        _repoint({id(_wrappers[n]): original for n, original in restored.items()},
                 everywhere=True)
    return restored


@contextlib.contextmanager
def patched_scipy(names: str | Iterable[str] | None = None) -> Iterator[dict]:
    """Patch SciPy with minpack's solvers for the duration of a block.

    ``with minpack.patched_scipy(): ...`` calls `patch_scipy` on entry and
    restores, on exit, exactly the names that entry replaced: blocks nest,
    and a block inside a program-wide patch leaves that patch on.

    Parameters
    ----------
    names : str or iterable of str, optional
        As for `patch_scipy`.

    Yields
    ------
    dict
        What `patch_scipy` returned: ``{name: original}`` for the names this
        block replaced.

    Examples
    --------
    >>> import minpack, scipy.optimize
    >>> with minpack.patched_scipy():
    ...     scipy.optimize.fsolve.__wrapped__ is minpack.fsolve
    True
    >>> scipy.optimize.fsolve.__module__
    'scipy.optimize._minpack_py'
    """
    replaced = patch_scipy(names)
    try:
        yield replaced
    finally:
        unpatch_scipy(tuple(replaced))


def calls() -> dict[str, int]:
    """Calls that reached minpack through each patched name so far."""
    with _count_lock:
        return {n: _calls.get(n, 0) for n in _wrappers}
