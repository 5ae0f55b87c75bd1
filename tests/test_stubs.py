"""The hand-written stub _minpack.pyi matches the compiled extension.

f2py writes each routine's Python signature on the first line of its
docstring, e.g. ``x,fvec = lm(fcn,jac,...,[fcn_extra_args])``. Every routine
of the module must be in the stub with the same argument names in the same
order (the bracketed ones with defaults, the others without) and a result of
the same length.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import minpack
import minpack._minpack as ext

STUB = Path(minpack.__file__).with_name("_minpack.pyi")


def _routines() -> dict[str, tuple[list[str], list[str], int]]:
    """name -> (required args, optional args, number of results)."""
    out = {}
    for name in dir(ext):
        obj = getattr(ext, name)
        if name.startswith("_") or not hasattr(obj, "__doc__") or not callable(obj):
            continue
        first = obj.__doc__.strip().splitlines()[0]
        match = re.fullmatch(r"(?:(.*?)\s*=\s*)?(\w+)\((.*)\)", first)
        assert match, f"unexpected f2py signature line: {first!r}"
        results, fname, args = match.groups()
        assert fname == name
        required, _, optional = args.partition("[")
        nres = len(_names(results)) if results else 0
        out[name] = (_names(required), _names(optional), nres)
    return out


def _names(text: str) -> list[str]:
    return [a for a in re.split(r"[,\[\]\s]+", text) if a]


def _result_count(node: ast.expr | None, aliases: dict[str, ast.expr]) -> int:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        # `Result | NotImplementedType`: the results when there are results
        node = node.left
    if isinstance(node, ast.Name) and node.id in aliases:
        node = aliases[node.id]
    if node is None or (isinstance(node, ast.Constant) and node.value is None):
        return 0
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
            and node.value.id == "tuple" and isinstance(node.slice, ast.Tuple)):
        return len(node.slice.elts)
    return 1


def _stub() -> dict[str, tuple[list[str], list[str], int]]:
    tree = ast.parse(STUB.read_text())
    aliases = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign)
               for t in node.targets if isinstance(t, ast.Name)}
    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            args = [a.arg for a in node.args.args]
            nopt = len(node.args.defaults)
            out[node.name] = (args[:len(args) - nopt], args[len(args) - nopt:],
                              _result_count(node.returns, aliases))
    return out


ROUTINES = _routines()


def test_stub_is_installed():
    assert STUB.is_file()
    assert Path(minpack.__file__).with_name("py.typed").is_file()


def test_same_routines():
    assert set(_stub()) == set(ROUTINES)


@pytest.mark.parametrize("name", sorted(ROUTINES))
def test_same_signature(name):
    required, optional, nres = ROUTINES[name]
    s_required, s_optional, s_nres = _stub()[name]
    assert s_required == required, f"{name}: stub arguments differ from the extension"
    assert s_optional == optional, f"{name}: stub optional arguments differ"
    assert s_nres == nres, f"{name}: stub returns {s_nres} values, the extension {nres}"
