"""The NIST StRD nonlinear regression problems: one loader for the demo and the tests.

The data ship with the package in ``minpack/data/nist`` (NIST public-domain
data, see the README there), one JSON file per dataset. `load_problems` reads
them, or the same files from another folder (the tests' copy of NIST's data).

The models are stored as numpy expressions (``model_python``). Each one is
checked against a small whitelist of syntax (arithmetic, numbers, the parameter
and predictor names, and a few ``np`` functions) and compiled once into a
function of the predictors and the parameters.
"""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

#: NIST prints certified values to 11 significant digits.
MAX_DIGITS = 11.0

_LEVELS = ("lower", "average", "higher")

# What a model or response expression may use: numbers, names, arithmetic and
# calls of these numpy attributes.
_NUMPY_ATTRIBUTES = frozenset({"exp", "log", "sin", "cos", "arctan", "sqrt", "pi"})
_ALLOWED_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Call,
    ast.Attribute,
    ast.Name,
    ast.Constant,
    ast.Load,
    ast.operator,
    ast.unaryop,
)


@dataclass(frozen=True)
class Problem:
    """One NIST StRD problem, ready to fit.

    Attributes
    ----------
    name : str
        NIST's dataset name, e.g. ``"Misra1a"``.
    difficulty : str
        NIST's level: ``"lower"``, ``"average"`` or ``"higher"``.
    starts : tuple of ndarray
        NIST's starting vectors, start 1 then start 2.
    certified : ndarray
        Certified parameter values.
    certified_std : ndarray
        Certified standard deviations of the parameters.
    certified_rss : float
        Certified residual sum of squares.
    residuals : callable
        ``residuals(b)`` returns response minus model at parameters ``b``.
    model : callable
        NIST's model, ``model(*predictors, *b)``: the predictor arrays in the
        order of `predictors`, then the parameters. It broadcasts like the
        numpy expression it is compiled from.
    predictors : dict of str to ndarray
        The predictor data by NIST's name (usually just ``"x"``).
    response : ndarray
        The response the model is fitted to (``y``, or e.g. ``log(y)``).
    """

    name: str
    difficulty: str
    starts: tuple[np.ndarray, ...]
    certified: np.ndarray
    certified_std: np.ndarray
    certified_rss: float
    residuals: Callable[[np.ndarray], np.ndarray]
    model: Callable[..., np.ndarray]
    predictors: dict[str, np.ndarray]
    response: np.ndarray


def _check_expression(text: str, names: frozenset[str]) -> None:
    """Raise ValueError unless `text` uses only whitelisted syntax and names."""
    tree = ast.parse(text, mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ValueError(
                f"unsupported syntax {type(node).__name__} in expression {text!r}"
            )
        if isinstance(node, ast.Name) and node.id not in names and node.id != "np":
            raise ValueError(f"unknown name {node.id!r} in expression {text!r}")
        if isinstance(node, ast.Attribute) and not (
            isinstance(node.value, ast.Name)
            and node.value.id == "np"
            and node.attr in _NUMPY_ATTRIBUTES
        ):
            allowed = ", ".join(f"np.{a}" for a in sorted(_NUMPY_ATTRIBUTES))
            raise ValueError(
                f"{ast.unparse(node)!r} in expression {text!r}: only {allowed} allowed"
            )
        if isinstance(node, ast.Call) and node.keywords:
            raise ValueError(f"keyword arguments not allowed in {text!r}")
        if isinstance(node, ast.Constant) and (
            isinstance(node.value, bool) or not isinstance(node.value, (int, float))
        ):
            raise ValueError(f"only numeric constants allowed in {text!r}")


def _compile_function(
    text: str, params: Sequence[str], env: dict[str, Any], label: str
) -> Callable[..., Any]:
    """Compile the expression `text` once into ``f(*params)``.

    `env` binds the other names (data arrays); ``np`` is numpy. Builtins are not
    reachable from the compiled code.
    """
    _check_expression(text, frozenset(params) | frozenset(env))
    source = f"lambda {', '.join(params)}: ({text})"
    code = compile(source, f"<{label}>", "eval")
    namespace = {"__builtins__": {}, "np": np, **env}
    return eval(code, namespace)  # names and syntax checked above; no builtins


def _make_problem(record: dict[str, Any]) -> Problem:
    name = record["name"]
    certified = np.array(record["certified_values"], dtype=float)
    params = [f"b{i}" for i in range(1, certified.size + 1)]

    names = list(record["predictor_names"])
    columns = [record["x"]] if len(names) == 1 else record["x"]
    predictors = {
        p: np.array(c, dtype=float) for p, c in zip(names, columns, strict=True)
    }
    data = tuple(predictors.values())
    y = np.array(record["y"], dtype=float)

    response_of = _compile_function(
        record["response_python"], [], {"y": y}, f"{name} response"
    )
    response = np.asarray(response_of(), dtype=float)
    model = _compile_function(
        record["model_python"], names + params, {}, f"{name} model"
    )

    def residuals(b: np.ndarray) -> np.ndarray:
        return response - model(*data, *b)

    starts = tuple(np.array(record[k], dtype=float) for k in ("start1", "start2"))
    for start in starts:
        if start.shape != certified.shape:
            raise ValueError(f"{name}: start and certified values differ in length")
    if residuals(certified).shape != y.shape:
        raise ValueError(f"{name}: the model does not give one value per observation")
    return Problem(
        name,
        record["difficulty"],
        starts,
        certified,
        np.array(record["certified_std_dev"], dtype=float),
        float(record["residual_sum_of_squares"]),
        residuals,
        model,
        predictors,
        response,
    )


def load_problems(
    names: Sequence[str] | None = None, folder: str | os.PathLike | None = None
) -> list[Problem]:
    """Load NIST StRD problems, by default those shipped in ``minpack/data/nist``.

    Parameters
    ----------
    names : sequence of str, optional
        Problem names to load (case-insensitive). Default: every file found.
    folder : path-like, optional
        A folder of NIST StRD JSON files to read instead of the package's.

    Returns
    -------
    list of Problem
        Sorted by NIST's difficulty level, then by name.

    Raises
    ------
    ValueError
        When a name is not among the files, or a file is inconsistent.
    """
    where = (
        resources.files("minpack").joinpath("data", "nist")
        if folder is None
        else Path(folder)
    )
    records = [
        json.loads(entry.read_text(encoding="utf-8"))
        for entry in where.iterdir()
        if entry.name.endswith(".json")
    ]
    if names is not None:
        wanted = {n.lower() for n in names}
        unknown = wanted - {r["name"].lower() for r in records}
        if unknown:
            known = ", ".join(sorted(r["name"] for r in records))
            raise ValueError(
                f"unknown problem(s) {', '.join(sorted(unknown))}; known: {known}"
            )
        records = [r for r in records if r["name"].lower() in wanted]
    records.sort(key=lambda r: (_LEVELS.index(r["difficulty"]), r["name"]))
    return [_make_problem(r) for r in records]


def lre(estimate: np.ndarray, certified: np.ndarray) -> float:
    """Return the certified digits an estimate reaches (NIST's LRE).

    Parameters
    ----------
    estimate, certified : ndarray
        Estimated and certified parameter values (certified values are nonzero).

    Returns
    -------
    float
        ``min(-log10(|estimate - certified| / |certified|))`` over the parameters,
        clipped to ``[0, 11]``; 0 when an estimate is not finite.
    """
    estimate = np.asarray(estimate, dtype=float)
    certified = np.asarray(certified, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        digits = -np.log10(np.abs(estimate - certified) / np.abs(certified))
    digits = np.where(np.isnan(digits), 0.0, digits)
    return float(np.clip(digits.min(), 0.0, MAX_DIGITS))
