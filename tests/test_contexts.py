"""The contexts the C trampoline reads match what Python builds.

``_trampoline.c`` reads the fields of each context tuple by position; it
reports the name of each position (``_minpack.trampoline()``), and the named
tuples of ``minpack._contexts`` must list the same fields in the same order.
"""

from __future__ import annotations

import pytest

from minpack import _contexts, _minpack

ADDRESSES, FIELDS = _minpack.trampoline()

# the C side's name for each context -> the Python class that builds it
CONTEXTS = {
    "fit": _contexts.FitContext,
    "residual": _contexts.ResidualContext,
    "model": _contexts.ModelContext,
    "jacobian": _contexts.JacobianContext,
    "model_jacobian": _contexts.ModelJacobianContext,
    "progress": _contexts.ProgressContext,
    "points": _contexts.PointsContext,
}


def test_every_context_the_trampoline_reads_is_built_in_python():
    assert set(FIELDS) == set(CONTEXTS)


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_context_fields_in_the_order_the_trampoline_reads_them(name):
    cls = CONTEXTS[name]
    assert issubclass(cls, tuple)  # the C side reads it with PyTuple_GET_ITEM
    assert cls._fields == FIELDS[name]


def test_trampoline_addresses():
    assert set(ADDRESSES) == {"residual", "jacobian", "block", "progress", "points"}
    assert len(set(ADDRESSES.values())) == 5 and all(a > 0 for a in ADDRESSES.values())
    assert _contexts.TRAMPOLINE == ADDRESSES


def test_contexts_built_by_the_solvers_have_those_types():
    """residual_context and friends build the named tuples (not plain tuples)."""
    import numpy as np

    errors: list = []
    res = _contexts.residual_context(lambda x: x, (), 2, errors)
    jac = _contexts.jacobian_context(lambda x: np.eye(2), (), 2, 2, False, errors)
    model = _contexts.ModelResidual(lambda t, a, b: a * t + b, np.arange(3.0),
                                    np.ones(3), None)
    mres = _contexts.residual_context(model, (), 3, errors)
    mjac = _contexts.jacobian_context(
        _contexts.ModelJacobian(lambda t, a, b: np.ones((3, 2)), np.arange(3.0)),
        (), 3, 2, False, errors)
    prog = _contexts.progress_context(lambda it: None, errors, [])
    assert type(res) is _contexts.ResidualContext and res.model is None
    assert type(jac) is _contexts.JacobianContext and jac.model is None
    assert type(mres.model) is _contexts.ModelContext
    assert type(mjac.model) is _contexts.ModelJacobianContext
    assert type(prog) is _contexts.ProgressContext
    assert all(c.errors is errors for c in (res, jac, mres, mjac, prog))
