"""What the tests and the benchmarks share: the registries of reference problems.

``support.problems`` holds the least-squares problems (curve fits, the MINPACK-1
test set, NIST StRD) and their curve-fitting forms, ``support.equations`` the
systems of nonlinear equations, ``support.compiled_models`` the compiled (numba)
residuals. pytest finds this package because ``tests/`` is on ``sys.path`` (the
folder of ``conftest.py``, which has no ``__init__.py``); ``benchmarks/bench.py``
puts ``tests/`` there itself. ``support.oracle`` states how results are compared
with SciPy's; ``support.fuzz`` is the harness of the ``test_fuzz_*`` modules.
"""
