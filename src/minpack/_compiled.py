"""Compiled residuals and Jacobians: recognise them and find their addresses.

A compiled function is called from Fortran through the C interface of the
library (``minpack/minpack_capi.f90``), with these C signatures::

    int func(int m, int n, const double *x, double *fvec, void *user_data);
    int jac(int m, int n, const double *x, double *fjac, int ldfjac,
            void *user_data);   /* fjac column-major, leading dimension ldfjac */

Accepted forms: a numba ``cfunc`` object, a ctypes function pointer, a cffi
function pointer, a ``scipy.LowLevelCallable`` (recognised by its shape, so
SciPy stays optional) and a ``PyCapsule``. Nothing here imports numba, cffi or
SciPy.
"""

from __future__ import annotations

import ctypes
import functools
import types
from typing import Any, NamedTuple

import numpy as np

from ._callbacks import ModelJacobian, ModelResidual

__all__ = ["PLAIN", "Compiled", "as_compiled", "user_data_address"]

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
