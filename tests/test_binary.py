"""The shared objects we build, and the C header of the library.

- The extension exports ``PyInit__minpack`` alone; ``libminpack.so`` exports
  our prefix alone (``minpack_*``, and ``__minpack*_MOD_*`` for ``use minpack``).
- No shared object asks for an executable stack (``GNU_STACK`` without ``E``).
- ``minpack.h`` declares exactly the C API that ``minpack_capi.f90`` defines,
  with the same types (checked against gfortran's ``-fc-prototypes``), and
  compiles cleanly as C99.
- ``get_include()`` and ``get_library_dir()`` hold what they promise.

Checked on the installed package and, when the environment variable
``MINPACK_STANDALONE_BUILD`` names it (``ci/test`` sets it), on the meson build
of the library alone (``-Dpython=disabled``).
"""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import minpack
import minpack._minpack
import minpack._paths

ROOT = Path(__file__).resolve().parents[1]
HEADER_SRC = ROOT / "minpack" / "include" / "minpack.h"
FORTRAN_SRC = ROOT / "minpack"
STANDALONE = os.environ.get("MINPACK_STANDALONE_BUILD")

needs_binutils = pytest.mark.skipif(
    shutil.which("nm") is None or shutil.which("readelf") is None,
    reason="nm and readelf (binutils) not installed",
)


def _shared_objects() -> dict[str, Path]:
    found = {
        "extension": Path(minpack._minpack.__file__),
        "package-libminpack": Path(minpack.get_library_dir()) / "libminpack.so",
    }
    if STANDALONE:
        found["standalone-libminpack"] = Path(STANDALONE) / "minpack" / "libminpack.so"
    return found


SHARED_OBJECTS = _shared_objects()
LIBRARIES = {k: v for k, v in SHARED_OBJECTS.items() if k != "extension"}


def _run(*args: str | os.PathLike) -> str:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _exported(path: Path) -> set[str]:
    """Names of the defined dynamic symbols of a shared object."""
    out = _run("nm", "-D", "--defined-only", path)
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def _gnu_stack_flags(path: Path) -> str | None:
    out = _run("readelf", "-lW", path)
    for line in out.splitlines():
        fields = line.split()
        if fields and fields[0] == "GNU_STACK":
            # Type Offset VirtAddr PhysAddr FileSiz MemSiz Flg... Align
            return "".join(fields[6:-1])
    return None


@needs_binutils
@pytest.mark.parametrize("name", SHARED_OBJECTS)
def test_no_executable_stack(name):
    path = SHARED_OBJECTS[name]
    assert path.is_file(), f"{path} not built"
    flags = _gnu_stack_flags(path)
    assert flags is not None, f"{path} has no GNU_STACK header: the stack is executable"
    assert "E" not in flags, f"{path} asks for an executable stack ({flags})"


@needs_binutils
def test_extension_exports_pyinit_only():
    path = SHARED_OBJECTS["extension"]
    assert _exported(path) == {"PyInit__minpack"}


@needs_binutils
@pytest.mark.parametrize("name", LIBRARIES)
def test_library_exports_our_prefix_only(name):
    path = LIBRARIES[name]
    assert path.is_file(), f"{path} not built"
    names = _exported(path)
    stray = sorted(s for s in names if not s.startswith(("minpack_", "__minpack_")))
    assert not stray, f"{path} exports symbols outside our prefix: {stray}"
    # What `use minpack` programs call must be there.
    assert {"__minpack_lm_MOD_lmder", "__minpack_linalg_MOD_enorm"} <= names


# -- the C header ----------------------------------------------------------------


def _strip_c_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _param_type(param: str, callbacks: set[str]) -> str:
    """Type of one C parameter, its name dropped; function pointers -> 'funptr'."""
    param = " ".join(param.split())
    if "(*" in param or param.split(" ")[0] in callbacks:
        return "funptr"
    words = re.sub(r"\*", " * ", param).split()
    return " ".join(words[:-1])  # drop the parameter name


def _signatures(decls: list[tuple[str, str, str]], callbacks: set[str]) -> dict:
    out = {}
    for ret, name, params in decls:
        types = tuple(_param_type(p, callbacks) for p in params.split(","))
        out[name] = (ret, types)
    return out


def _header_api(text: str) -> tuple[dict, dict]:
    """(functions, callback typedefs) declared in minpack.h."""
    text = _strip_c_comments(text)
    typedefs = re.findall(r"typedef\s+(\w+)\s*\(\s*\*\s*(\w+)\s*\)\s*\(([^;]*)\)\s*;", text)
    callbacks = {name for _, name, _ in typedefs}
    funcs = re.findall(r"^\s*(int|void|double)\s+(minpack_\w+)\s*\(([^;]*)\)\s*;", text,
                       flags=re.M)
    return _signatures(funcs, callbacks), _signatures(typedefs, callbacks)


def _fortran_sources() -> list[Path]:
    """The library sources in build order, as minpack/meson.build lists them."""
    build = (FORTRAN_SRC / "meson.build").read_text()
    names = re.findall(r"'(\w+\.f90)'", build)
    assert names, "no Fortran sources found in minpack/meson.build"
    return [FORTRAN_SRC / n for n in names]


@pytest.fixture(scope="module")
def header_api():
    return _header_api(Path(minpack.get_include(), "minpack.h").read_text())


def test_installed_header_is_the_source_header():
    installed = Path(minpack.get_include(), "minpack.h")
    if not HEADER_SRC.is_file():
        pytest.skip("not run from a source checkout")
    assert installed.read_text() == HEADER_SRC.read_text()


@pytest.mark.skipif(shutil.which("gfortran") is None, reason="gfortran not installed")
def test_header_matches_fortran_bind_c(header_api, tmp_path):
    """Every bind(c) routine and callback interface, with the same C types."""
    if not FORTRAN_SRC.is_dir():
        pytest.skip("not run from a source checkout")
    out = _run("gfortran", "-fsyntax-only", "-fc-prototypes", "-J", tmp_path,
               *_fortran_sources())
    protos = re.findall(r"^(int|void|double)\s+(\w+)\s*\((.*)\);$", out, flags=re.M)
    fortran = _signatures(protos, set())
    funcs, typedefs = header_api
    assert set(fortran) == set(funcs) | set(typedefs), (
        "minpack.h and minpack_capi.f90 differ: missing from the header "
        f"{sorted(set(fortran) - set(funcs) - set(typedefs))}, not in the Fortran "
        f"{sorted(set(funcs) | set(typedefs) - set(fortran))}"
    )
    for name, sig in {**funcs, **typedefs}.items():
        assert sig == fortran[name], f"{name}: header {sig}, Fortran {fortran[name]}"


@needs_binutils
@pytest.mark.parametrize("name", LIBRARIES)
def test_header_declares_every_exported_c_function(header_api, name):
    funcs, _ = header_api
    exported = {s for s in _exported(LIBRARIES[name]) if s.startswith("minpack_")}
    assert exported == set(funcs)


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_header_compiles_as_strict_c99(tmp_path):
    src = tmp_path / "use_header.c"
    src.write_text('#include "minpack.h"\nint main(void) { return 0; }\n')
    _run("cc", "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror",
         "-Wstrict-prototypes", "-I", minpack.get_include(), "-fsyntax-only", src)


# -- what the package carries ----------------------------------------------------


def test_get_include_holds_header_and_modules():
    inc = Path(minpack.get_include())
    assert inc.is_absolute()
    assert (inc / "minpack.h").is_file()
    mods = {p.name for p in inc.glob("*.mod")}
    assert {"minpack.mod", "minpack_kinds.mod", "minpack_lm.mod"} <= mods


def test_get_library_dir_holds_libraries_and_pkgconfig():
    lib = Path(minpack.get_library_dir())
    assert lib.is_absolute()
    assert (lib / "libminpack.a").is_file()
    assert (lib / "libminpack.so").is_file()
    pc = (lib / "pkgconfig" / "minpack.pc").read_text()
    assert "prefix=${pcfiledir}/../.." in pc  # relocatable
    assert f"Version: {minpack.__version__}" in pc
    assert "-lminpack" in pc


def test_paths_docstring_examples():
    result = doctest.testmod(minpack._paths)
    assert result.attempted > 0
    assert result.failed == 0
