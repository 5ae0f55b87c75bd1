"""The Examples sections of the public docstrings run and give what they show."""

import doctest
import importlib

import pytest

MODULES = [
    "minpack._leastsq",
    "minpack._curve_fit",
    "minpack._fsolve",
    "minpack._chkder",
    "minpack._batch",
    "minpack._least_squares",
    "minpack._root",
    "minpack._optimize",
    "minpack._patch",
    "minpack.dask",
    "minpack.xarray",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
