"""The bounded suite: registry problems in boxes that matter.

- the MGH cases with a box that cuts the way from x0 to the unconstrained
  solution (``-cut``: a bound halfway, on the component that moves most);
- each MGH problem once from a corner of a box (``-corner``);
- the curve fits with physical bounds (``-phys``: positive parameters kept
  positive, the first one capped halfway to its unbounded fit).

Used by ``test_bounds_engine.py`` (the C API) and ``test_bounds.py`` (the
Python API), each against ``least_squares(method='trf')``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from support.problems import Problem, select


@dataclass(frozen=True, eq=False)
class Boxed:
    """A registry problem in a box, with the start to use."""

    name: str
    prob: Problem
    lb: np.ndarray
    ub: np.ndarray
    x0: np.ndarray


def _halfway(x0, xs):
    """A box that cuts the way from x0 to xs: a bound halfway between them on
    the component that moves most (relative to its size), no other bound.
    """
    n = x0.size
    lb, ub = np.full(n, -np.inf), np.full(n, np.inf)
    j = int(np.argmax(np.abs(xs - x0) / (1 + np.abs(x0))))
    if xs[j] > x0[j]:
        ub[j] = x0[j] + (xs[j] - x0[j]) / 2
    else:
        lb[j] = x0[j] + (xs[j] - x0[j]) / 2
    return lb, ub


def _corner(x0, xs):
    """A box with x0 in a corner: on each component the near side at x0, the
    far side halfway to xs (or 0.1 (1 + |x0|) away when xs_j = x0_j).
    """
    d = xs - x0
    width = np.where(np.abs(d) > 0, np.abs(d) / 2, 0.1 * (1 + np.abs(x0)))
    up = d >= 0
    lb = np.where(up, x0, x0 - width)
    ub = np.where(up, x0 + width, x0)
    return lb, ub


def physical_box(x0, xs):
    """Curve fits: every parameter that is positive at the start and at the
    unbounded fit kept positive (lb = 0), and the first one capped halfway
    between its start and its unbounded fit.
    """
    n = x0.size
    lb = np.where((x0 > 0) & (xs > 0), 0.0, -np.inf)
    ub = np.full(n, np.inf)
    if xs[0] > x0[0]:
        ub[0] = x0[0] + (xs[0] - x0[0]) / 2
    else:
        lb[0] = x0[0] + (xs[0] - x0[0]) / 2
    return lb, ub


def bounded_suite(unbounded: Callable[[Problem], np.ndarray]) -> list[Boxed]:
    """The suite; `unbounded(prob)` gives the unbounded fit's x from the standard
    start (with the analytic Jacobian), which places the boxes.
    """
    out = []
    seen = set()
    for prob in select("mgh"):
        x0 = prob.start()
        xs = unbounded(prob)
        lb, ub = _halfway(x0, xs)
        out.append(Boxed(prob.name + "-cut", prob, lb, ub, x0))
        number = prob.name[:5]
        if number not in seen:  # each problem once from a corner, standard start
            seen.add(number)
            lb, ub = _corner(x0, xs)
            out.append(Boxed(prob.name + "-corner", prob, lb, ub, x0))
    for prob in select("curve"):
        x0 = prob.start()
        xs = unbounded(prob)
        lb, ub = physical_box(x0, xs)
        out.append(Boxed(prob.name + "-phys", prob, lb, ub, x0))
    return out
