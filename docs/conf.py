"""Sphinx configuration of the minpack docs (built by ci/test with -W)."""

import minpack

project = "minpack"
author = "the minpack developers"
copyright = "the minpack developers; BSD-3-Clause"  # noqa: A001
version = release = minpack.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "numpydoc",
]

# The API reference documents the installed package (autodoc imports it).
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# No network: links to SciPy and numpy are written out, not looked up.
intersphinx_mapping: dict = {}

default_role = "py:obj"
nitpicky = False
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path: list[str] = []
html_theme_options = {
    "description": "MINPACK in modern Fortran, behind SciPy's API",
    "fixed_sidebar": True,
}
