"""What users and package indexes read: version, metadata, wheel configuration.

- One version: ``project(version:)`` in meson.build; the installed metadata and
  ``minpack.__version__`` must both say the same (and fpm.toml too).
- The installed metadata: licence expression and file, classifiers, Python range.
- The release-wheel configuration (``[tool.cibuildwheel]`` in pyproject.toml):
  for each build listed in ``ci/wheel-identifiers.txt``, the image or toolchain,
  the repair tool and the test command are the ones docs/install.rst describes.
  (ci/test checks separately that cibuildwheel selects exactly those builds.)
- A source build without a Fortran compiler stops at once with a message that
  names gfortran and how to install it.

The tests read the source tree (``meson.build``, ``pyproject.toml``) next to
this ``tests/`` folder: a checkout or an unpacked sdist.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import minpack

ROOT = Path(__file__).resolve().parents[1]
PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")


def _meson_version() -> str:
    text = (ROOT / "meson.build").read_text()
    m = re.search(r"project\(\s*'minpack'.*?version:\s*'([^']+)'", text, re.S)
    assert m, "no project(version: ...) in meson.build"
    return m.group(1)


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


# --- version ------------------------------------------------------------------


def test_version_is_the_installed_metadata() -> None:
    assert minpack.__version__ == importlib.metadata.version("minpack")


def test_version_comes_from_meson_build() -> None:
    project = _pyproject()["project"]
    assert "version" not in project, "pyproject.toml must not repeat the version"
    assert "version" in project["dynamic"]
    assert minpack.__version__ == _meson_version()


def test_fpm_manifest_has_the_same_version() -> None:
    fpm = tomllib.loads((ROOT / "fpm.toml").read_text())
    assert fpm["version"] == _meson_version()


# --- installed metadata -------------------------------------------------------


def test_metadata_licence() -> None:
    meta = importlib.metadata.metadata("minpack")
    assert meta["License-Expression"] == "BSD-3-Clause"
    assert meta.get_all("License-File") == ["LICENSE"]
    dist = importlib.metadata.distribution("minpack")
    shipped = [f for f in dist.files or [] if f.name == "LICENSE"]
    assert len(shipped) == 1, "the wheel's .dist-info holds no LICENSE"
    text = shipped[0].read_text()
    assert text == (ROOT / "LICENSE").read_text()
    assert "Copyright (c)" in text and "The minpack developers" in text


def test_metadata_extras_for_dask_and_xarray() -> None:
    """``pip install minpack[dask]`` / ``minpack[xarray]`` bring what
    minpack.dask and minpack.xarray import; numpy stays the only dependency.
    """
    meta = importlib.metadata.metadata("minpack")
    assert {"dask", "xarray"} <= set(meta.get_all("Provides-Extra"))
    requires = importlib.metadata.requires("minpack")
    by_extra: dict = {}
    for line in requires:
        name = re.match(r"[A-Za-z0-9_.\-]+(\[[^\]]*\])?", line).group(0)
        extra = re.search(r'extra == "([^"]+)"', line)
        by_extra.setdefault(extra.group(1) if extra else None, set()).add(name)
    assert by_extra[None] == {"numpy"}
    assert by_extra["dask"] == {"dask[array]", "distributed"}
    assert by_extra["xarray"] == {"xarray"}


def test_metadata_classifiers_and_python_range() -> None:
    meta = importlib.metadata.metadata("minpack")
    classifiers = set(meta.get_all("Classifier") or [])
    for v in PYTHONS:
        assert f"Programming Language :: Python :: {v}" in classifiers
    assert "Programming Language :: Fortran" in classifiers
    assert "Topic :: Scientific/Engineering :: Mathematics" in classifiers
    # PEP 639: with a licence expression, licence classifiers are not allowed.
    assert not [c for c in classifiers if c.startswith("License ::")]
    assert meta["Requires-Python"] == ">=3.10"
    assert meta.get_all("Requires-Dist")[0].startswith("numpy")
    assert meta["Summary"] and meta["Description-Content-Type"] == "text/markdown"


# --- release-wheel configuration (per build) -----------------------------------


def _identifiers() -> list[str]:
    lines = (ROOT / "ci" / "wheel-identifiers.txt").read_text().splitlines()
    return [s.strip() for s in lines if s.strip() and not s.lstrip().startswith("#")]


def _platform(identifier: str) -> str:
    if "linux" in identifier:
        return "linux"
    return "macos" if "macosx" in identifier else "windows"


@pytest.fixture(scope="module")
def cibw_options():
    """Return ``options(identifier)``: cibuildwheel's options for one build."""
    if importlib.util.find_spec("cibuildwheel") is None:
        pytest.skip("cibuildwheel is not installed (ci/requirements-cibw.txt)")
    from cibuildwheel.options import CommandLineArguments, compute_options

    cache = {}

    def options(identifier: str):
        platform = _platform(identifier)
        if platform not in cache:
            args = dataclasses.replace(
                CommandLineArguments.defaults(), platform=platform, package_dir=ROOT,
                config_file=str(ROOT / "pyproject.toml"))
            cache[platform] = compute_options(platform, args, env={})
        return cache[platform].build_options(identifier)

    return options


def test_identifier_list_is_the_intended_matrix() -> None:
    ids = _identifiers()
    assert len(ids) == len(set(ids))
    expected = {
        f"cp3{v.split('.')[1]}-{plat}"
        for v in PYTHONS
        for plat in ("manylinux_x86_64", "manylinux_aarch64", "musllinux_x86_64",
                     "musllinux_aarch64", "macosx_x86_64", "macosx_arm64",
                     "win_amd64")
    }
    assert set(ids) == expected


@pytest.mark.parametrize("identifier", _identifiers())
def test_cibuildwheel_build_options(cibw_options, identifier: str) -> None:
    opts = cibw_options(identifier)
    assert opts.test_command == "python -m minpack.selftest"
    env = opts.environment.as_dictionary({"PATH": "<PATH>"})
    assert env["PIP_ONLY_BINARY"] == "numpy"
    arch = identifier.split("_", 1)[1]
    if "-manylinux_" in identifier:
        # glibc 2.17 (manylinux2014) where numpy has wheels for it; 2.28 for 3.14.
        image = "manylinux_2_28" if identifier.startswith("cp314-") else "manylinux2014"
        assert f"/{image}_{arch}@" in opts.manylinux_images[arch]
    if "-musllinux_" in identifier:
        assert f"/musllinux_1_2_{arch}@" in opts.musllinux_images[arch]
    if "linux" in identifier:
        assert opts.repair_command.startswith("auditwheel repair ")
        assert opts.before_all == ""   # gfortran is part of the images
    elif "macosx" in identifier:
        assert "delocate-wheel --require-archs {delocate_archs}" in opts.repair_command
        assert opts.before_all == "brew install gcc@14"
        assert env["FC"] == "gfortran-14"
        target = {"arm64": "14.0", "x86_64": "15.0"}[identifier.split("macosx_")[1]]
        assert env["MACOSX_DEPLOYMENT_TARGET"] == target
    else:
        assert opts.repair_command.startswith(
            "delvewheel repair --analyze-existing --add-path C:\\msys64\\ucrt64\\bin ")
        assert "mingw-w64-ucrt-x86_64-gcc-fortran" in opts.before_all
        assert env["PATH"] == "C:\\msys64\\ucrt64\\bin;<PATH>"
        assert (env["CC"], env["FC"]) == ("gcc", "gfortran")


# --- source build without a Fortran compiler ----------------------------------


@pytest.mark.parametrize(("var", "language"), [("FC", "Fortran"), ("CC", "C")])
def test_no_compiler_fails_early_with_help(tmp_path: Path, var: str,
                                          language: str) -> None:
    """``pip install`` from source with no gfortran (or cc) says what to install."""
    missing = [m for m in ("mesonpy", "numpy") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"the build tools are not installed ({', '.join(missing)}); "
                    "install ci/requirements-build.txt")
    # meson-python runs the meson found on PATH: this environment's first.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = dict(os.environ, PATH=path, PIP_NO_INPUT="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    env[var] = str(tmp_path / "no-such-dir" / ("gfortran" if var == "FC" else "gcc"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
         "-w", str(tmp_path / "dist"), f"-Cbuild-dir={tmp_path / 'build'}", str(ROOT)],
        env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert not list((tmp_path / "dist").glob("*.whl"))
    assert f"no working {language} compiler found" in out, out
    for hint in ("gfortran", "apt-get install gfortran", "brew install gcc",
                 "mingw-w64-ucrt-x86_64-gcc-fortran", "FC"):
        assert hint in out, f"{hint!r} missing from:\n{out}"
    # Early: meson stopped while configuring, before any compiler ran.
    assert not (tmp_path / "build" / "build.ninja").exists()
    assert "Compiling" not in out
