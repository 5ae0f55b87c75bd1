"""The callbacks of a solver call as the Fortran glue takes them, and the calls.

Every callback reaches the solver through the C interface of the library
(``minpack/minpack_capi.f90``), with these C signatures::

    int func(int m, int n, const double *x, double *fvec, void *user_data);
    int jac(int m, int n, const double *x, double *fjac, int ldfjac,
            void *user_data);   /* fjac column-major, leading dimension ldfjac */

A compiled function is passed as it is: its address and user data. Accepted
forms: a numba ``cfunc`` object, a ctypes function pointer, a cffi function
pointer, a ``scipy.LowLevelCallable`` (recognised by its shape, so SciPy
stays optional) and a ``PyCapsule``. Nothing here imports numba, cffi or
SciPy. A Python function is passed as the C trampoline's address with the id
of its context as user data (see ``_contexts``). Either way the result is a
:class:`Route`, and `lean_lm`, `run_lm`, `run_hybrid` and `run_lm_batch`
are the only places that call the extension's solvers; the only difference
left between the two kinds is the GIL (held when a callback may run Python,
released otherwise).
"""

from __future__ import annotations

import ctypes
import functools
import types
from typing import Any, NamedTuple

import numpy as np

from . import _minpack
from ._checks import Box
from ._contexts import (
    TRAMPOLINE,
    FitContext,
    JacobianContext,
    ModelJacobian,
    ModelResidual,
    ProgressContext,
    ResidualContext,
    new,
)

__all__ = ["PLAIN", "Compiled", "Route", "as_compiled", "compiled_route", "lean_lm",
           "python_route", "run_hybrid", "run_lm", "run_lm_batch", "user_data_address"]

FUNC_SIGNATURE = "int (int, int, double *, double *, void *)"
JAC_SIGNATURE = "int (int, int, double *, double *, int, void *)"
_ARGC = {"func": 5, "Dfun": 6, "fprime": 6}


# Python callables that are never compiled functions.
PLAIN = frozenset({types.FunctionType, types.MethodType, types.BuiltinFunctionType,
                   functools.partial, ModelJacobian, ModelResidual})


class Compiled(NamedTuple):
    """A compiled callback: its address and the user data it carries, if any."""

    address: int
    user_data: int | None
    keepalive: Any


# as_compiled's answers for recent objects, keyed by (id(obj), argname). An
# entry keeps its object alive (Compiled.keepalive), so the id cannot be
# reused while it is here; the cache is emptied when it reaches _CACHE_SIZE.
# Bare PyCapsules are not cached: their pointer and context can be changed.
_CACHE: dict[tuple[int, str], Compiled] = {}
_CACHE_SIZE = 64


def _capsule_api() -> tuple:
    """ctypes views of the PyCapsule C API (private prototypes, no global state)."""
    proto = ctypes.PYFUNCTYPE
    api = ctypes.pythonapi
    get_name = proto(ctypes.c_char_p, ctypes.py_object)(("PyCapsule_GetName", api))
    get_pointer = proto(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
        ("PyCapsule_GetPointer", api))
    get_context = proto(ctypes.c_void_p, ctypes.py_object)(
        ("PyCapsule_GetContext", api))
    return get_name, get_pointer, get_context


def _normalise(signature: str) -> str:
    return " ".join(signature.replace("const ", "").replace("*", " * ").split())


def _check_signature(signature: str | None, argname: str) -> None:
    expected = FUNC_SIGNATURE if argname == "func" else JAC_SIGNATURE
    if signature is not None and _normalise(signature) != _normalise(expected):
        raise TypeError(
            f"{argname}: compiled function has signature {signature!r}; "
            f"expected {expected!r}")


def _from_capsule(capsule: Any, argname: str, keepalive: Any) -> Compiled:
    get_name, get_pointer, get_context = _capsule_api()
    name = get_name(capsule)
    _check_signature(None if name is None else name.decode(), argname)
    address = get_pointer(capsule, name)
    context = get_context(capsule)
    return Compiled(address, context or None, keepalive)


def _check_ctypes_prototype(obj: Any, argname: str) -> None:
    argtypes = getattr(obj, "argtypes", None)
    restype = getattr(obj, "restype", None)
    if argtypes is not None and len(argtypes) != _ARGC[argname]:
        expected = FUNC_SIGNATURE if argname == "func" else JAC_SIGNATURE
        raise TypeError(
            f"{argname}: compiled function takes {len(argtypes)} arguments; "
            f"expected the C signature {expected!r}")
    if restype is not None and restype not in (ctypes.c_int, ctypes.c_int32):
        raise TypeError(
            f"{argname}: compiled function must return int (0 to continue); "
            f"it returns {restype.__name__}")


def as_compiled(obj: Any, argname: str) -> Compiled | None:
    """Return `obj` as a compiled callback, or None if it is a Python callable.

    `argname` is ``'func'`` for residuals, ``'Dfun'``/``'fprime'`` for
    Jacobians; it selects the expected signature and names the argument in
    error messages.
    """
    cls = type(obj)
    if cls in PLAIN or obj is None:  # the common case, decided at once
        return None
    key = (id(obj), argname)
    hit = _CACHE.get(key)
    if hit is not None and hit.keepalive is obj:
        if isinstance(obj, ctypes._CFuncPtr):  # its prototype may have changed
            _check_ctypes_prototype(obj, argname)
        return hit
    found = _find_compiled(obj, cls, argname)
    if found is not None and cls.__name__ != "PyCapsule":
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = found
    return found


def _find_compiled(obj: Any, cls: type, argname: str) -> Compiled | None:
    """as_compiled's work, without the cache."""
    # scipy.LowLevelCallable: a tuple subclass (capsule, function, user_data)
    # whose own __getitem__ refuses indexing
    if cls.__name__ == "LowLevelCallable" and isinstance(obj, tuple):
        return _from_capsule(tuple.__getitem__(obj, 0), argname, obj)
    if cls.__name__ == "PyCapsule":
        return _from_capsule(obj, argname, obj)
    # numba cfunc: an address and a ctypes prototype
    if cls.__name__ == "CFunc" and hasattr(obj, "address") and hasattr(obj, "ctypes"):
        _check_ctypes_prototype(obj.ctypes, argname)
        return Compiled(int(obj.address), None, obj)
    if isinstance(obj, ctypes._CFuncPtr):
        _check_ctypes_prototype(obj, argname)
        return Compiled(ctypes.cast(obj, ctypes.c_void_p).value, None, obj)
    if cls.__module__ == "_cffi_backend":
        import cffi  # present whenever a cffi object exists

        ffi = cffi.FFI()
        ctype = ffi.typeof(obj)
        if ctype.kind != "function":
            raise TypeError(f"{argname}: cffi object of type {ctype.cname!r} is not a "
                            "function pointer")
        _check_signature(f"{ctype.result.cname} ({', '.join(a.cname for a in ctype.args)})",
                         argname)
        return Compiled(int(ffi.cast("uintptr_t", obj)), None, obj)
    return None


def user_data_address(args: Any, compiled: Compiled, argname: str = "func") -> int:
    """The ``user_data`` pointer for a compiled callback, from `args`.

    `args` must be empty (NULL, or the LowLevelCallable's own user data) or a
    single C-contiguous numpy array, whose data pointer is passed.
    """
    if not isinstance(args, tuple):
        args = (args,)
    if len(args) == 0:
        return compiled.user_data or 0
    if compiled.user_data is not None:
        raise TypeError(
            f"{argname} carries its own user_data (a LowLevelCallable, or a "
            "PyCapsule with a context); "
            "args must then be empty")
    if len(args) == 1 and isinstance(args[0], np.ndarray):
        a = args[0]
        if not a.flags.c_contiguous:
            raise TypeError(
                "args for a compiled function must be a C-contiguous numpy array "
                "(use np.ascontiguousarray); got a non-contiguous array")
        if a.flags.writeable and a.nbytes:  # the quick way (a.ctypes is slow)
            return ctypes.addressof(ctypes.c_char.from_buffer(a))
        return a.ctypes.data
    raise TypeError(
        "args for a compiled function must be () or a single C-contiguous numpy "
        f"array whose data pointer becomes user_data; got {len(args)} argument(s) "
        f"of type(s) {', '.join(type(a).__name__ for a in args)}")


class Route(NamedTuple):
    """The callbacks of one solver call, as the Fortran glue takes them."""

    func: int
    """Address of the residual function (C API signature)."""
    jac: int
    """Address of the Jacobian function; 0: difference Jacobian."""
    user_data: int
    """Their user data."""
    block: int
    """0, or the trampoline's block callback (a vectorized Python func)."""
    python: bool
    """A callback runs Python: the solver must hold the GIL."""
    keepalive: Any
    """What must stay alive while the solver runs (the context)."""


# the trampoline's callbacks (see _contexts.TRAMPOLINE)
_RESIDUAL, _JACOBIAN, _BLOCK, _PROGRESS = (
    TRAMPOLINE[name] for name in ("residual", "jacobian", "block", "progress"))


def python_route(residual: ResidualContext,
                 jacobian: JacobianContext | None) -> Route:
    """Python functions: the trampoline, with their context as user data."""
    fit = new(FitContext, (residual, jacobian))
    if jacobian is not None:
        return new(Route, (_RESIDUAL, _JACOBIAN, id(fit), 0, True, fit))
    block = _BLOCK if residual.vectorized else 0
    return new(Route, (_RESIDUAL, 0, id(fit), block, True, fit))


def compiled_route(compiled: Compiled, compiled_jac: Compiled | None,
                   user_data: int) -> Route:
    """Compiled functions: their own addresses and user data."""
    jac = 0 if compiled_jac is None else compiled_jac.address
    return new(Route, (compiled.address, jac, user_data, 0, False, None))


def run_lm(route: Route, progress: ProgressContext | None, m: int,
           f0: np.ndarray | None, x: np.ndarray, ftol: float, xtol: float,
           gtol: float, maxfev: int, epsfcn: float, diag: np.ndarray, mode: int,
           factor: float, full: bool, have_f0: bool = True,
           box: Box | None = None) -> tuple:
    """lmdif or lmder through the glue (see _minpack.pyi for the result).

    `f0`: None, or the residuals at x (float64), which the solver takes as
    its first evaluation when `have_f0`; otherwise they only fill fvec, which
    the solver's own first evaluation overwrites (improper input returns them,
    as SciPy does). With the GIL held (``_minpack.lm``) when a callback runs
    Python (the trampoline, a progress report); else through the lean C
    entry, which releases it and, when `full` is false, builds only x and the
    counts (the arguments are checked already, so it takes them as they
    are). maxfev <= 0 means MINPACK's default. `box`: None (MINPACK's own
    fit), or the checked bounds, whose ``active`` the solver fills; a bounded
    compiled fit goes through ``_minpack.lm_nogil`` (the lean entry takes
    no bounds).
    """
    func, jac, user_data, block, python, _ = route
    maxfev = maxfev if maxfev > 0 else 0  # any <= 0: the default (fits a C int)
    first = int(f0 is not None and have_f0)
    bounded, lower, upper, active = (0, _NO_BOUND, _NO_BOUND, _NO_ACTIVE) \
        if box is None else (1, *box)
    if progress is not None:
        return _minpack.lm(func, jac, user_data, block, _PROGRESS, id(progress),
                           first, x, np.zeros(m) if f0 is None else f0,
                           ftol, xtol, gtol, maxfev, epsfcn, diag, mode, factor,
                           bounded, lower, upper, active)
    if python or box is not None:
        entry = _minpack.lm if python else _minpack.lm_nogil
        return entry(func, jac, user_data, block, 0, 0, first, x,
                     np.zeros(m) if f0 is None else f0, ftol, xtol, gtol,
                     maxfev, epsfcn, diag, mode, factor, bounded, lower, upper, active)
    out = _minpack.lm_compiled(func, jac, user_data, (), x, m, ftol, xtol, gtol, maxfev,
                               epsfcn, factor, None if mode == 1 else diag, full)
    if out is NotImplemented:  # all arguments were made plain by the checks
        raise RuntimeError("minpack internal error: lm_compiled refused checked "
                           "arguments")
    return out


def run_hybrid(route: Route, f0: np.ndarray | None, x: np.ndarray, xtol: float,
               maxfev: int, ml: int, mu: int, epsfcn: float, diag: np.ndarray,
               mode: int, factor: float, have_f0: bool = True) -> tuple:
    """hybrd or hybrj through the glue, the GIL released for compiled functions.

    `f0`: None, or the functions at x (float64), which the solver takes as its
    first evaluation when `have_f0` (otherwise they only fill fvec, as in
    `run_lm`). maxfev <= 0 means MINPACK's default.
    """
    func, jac, user_data, _, python, _ = route
    maxfev = maxfev if maxfev > 0 else 0  # any <= 0: the default (fits a C int)
    entry = _minpack.hybrid if python else _minpack.hybrid_nogil
    if f0 is None:
        return entry(func, jac, user_data, 0, x, np.zeros(x.size), xtol, maxfev, ml, mu,
                     epsfcn, diag, mode, factor)
    return entry(func, jac, user_data, int(have_f0), x, f0, xtol, maxfev, ml, mu, epsfcn,
                 diag, mode, factor)


def run_lm_batch(route: Route, ubase: int, ustride: int, m: int, n: int, k: int,
                 *args: Any) -> None:
    """k fits of compiled functions, the GIL released (see _minpack.lm_batch)."""
    if route.python:
        raise RuntimeError("minpack internal error: a batch in Fortran calls "
                           "compiled functions only")
    _minpack.lm_batch(route.func, route.jac, ubase, ustride, m, n, k, *args)


_EPS64 = float(np.finfo(np.float64).eps)
# what the glue is given for lower, upper and active when there are no bounds
# (not referenced then; one element, as the f2py signature needs an array)
_NO_BOUND = np.zeros(1)
_NO_ACTIVE = np.zeros(1, dtype=np.int32)


def lean_lm(func: Any, x0: Any, args: Any, Dfun: Any, m: Any, ftol: Any, xtol: Any,
            gtol: Any, maxfev: Any, epsfcn: Any, factor: Any, diag: Any,
            full_output: Any) -> tuple | Any:
    """One fit through the lean C entry ``_minpack.lm_compiled``, or NotImplemented.

    NotImplemented when `func` is not compiled, or when an argument is not of
    the plain kind that entry takes as it is (it converts nothing); then the
    checked route converts or explains.
    """
    try:  # an error is left to the checked route, which checks x0 etc. first
        compiled = as_compiled(func, "func")
        compiled_jac = None if Dfun is None else as_compiled(Dfun, "Dfun")
    except TypeError:
        return NotImplemented
    if compiled is None:
        return NotImplemented
    jaddr = 0
    if Dfun is not None:
        if compiled_jac is None or compiled_jac.user_data not in (
                None, compiled.user_data):
            return NotImplemented
        jaddr = compiled_jac.address
    return _minpack.lm_compiled(compiled.address, jaddr, compiled.user_data,
                                args if type(args) is tuple else (args,), x0, m,
                                ftol, xtol, gtol, maxfev,
                                _EPS64 if epsfcn is None else epsfcn, factor, diag,
                                full_output)
