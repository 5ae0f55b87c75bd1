"""Where the installed package keeps the Fortran/C library it is built on.

The wheel carries the same MINPACK engine that the Python functions call, as a
library that Fortran and C programs link: ``libminpack.a`` and
``libminpack.so`` (``.dylib`` on macOS, ``.dll`` on Windows), the C header
``minpack.h``, the Fortran ``.mod`` files of
``use minpack`` (made by gfortran; other compilers cannot read them) and a
pkg-config file, ``minpack.pc``, in ``get_library_dir()/pkgconfig``.
"""

from pathlib import Path

__all__ = ["get_include", "get_library_dir"]

_HERE = Path(__file__).resolve().parent


def get_include() -> str:
    """Return the folder holding ``minpack.h`` and the Fortran ``.mod`` files.

    Returns
    -------
    str
        Absolute path of the folder, for the compiler's ``-I`` option.

    See Also
    --------
    get_library_dir : the folder with the libraries.

    Examples
    --------
    >>> import os
    >>> import minpack
    >>> os.path.isfile(os.path.join(minpack.get_include(), "minpack.h"))
    True
    """
    return str(_HERE / "include")


def get_library_dir() -> str:
    """Return the folder holding ``libminpack.a`` and ``libminpack.so``.

    Its subfolder ``pkgconfig`` holds ``minpack.pc``: with it on
    ``PKG_CONFIG_PATH``, ``pkg-config --cflags --libs minpack`` gives the
    flags to build against the library.

    Returns
    -------
    str
        Absolute path of the folder, for the linker's ``-L`` option (and a
        run path: ``-Wl,-rpath,<folder>``, when linking ``libminpack.so``).

    See Also
    --------
    get_include : the folder with the header and the ``.mod`` files.

    Examples
    --------
    >>> import os
    >>> import minpack
    >>> os.path.isfile(os.path.join(minpack.get_library_dir(), "libminpack.a"))
    True
    """
    return str(_HERE / "lib")
