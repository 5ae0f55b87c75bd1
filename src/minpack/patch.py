"""Run a program with minpack in place of SciPy's solvers.

::

    python -m minpack.patch script.py [args]
    python -m minpack.patch -m module [args]      # e.g. -m pytest

calls `minpack.patch_scipy` and then runs the script or module as Python
would (``__name__ == "__main__"``, ``sys.argv`` as the program expects), so
every ``scipy.optimize.leastsq``, ``curve_fit``, ``fsolve``,
``least_squares`` and ``root`` that the program and its libraries call is
minpack's. With the environment variable ``MINPACK_PATCH_REPORT`` set to a
file name, the number of calls that reached minpack through each patched
name is written there as JSON when the program exits.
"""

from __future__ import annotations

import atexit
import json
import os
import runpy
import sys
from collections.abc import Sequence

from ._patch import calls, patch_scipy

__all__ = ["main"]

_USAGE = """\
usage: python -m minpack.patch script.py [args ...]
       python -m minpack.patch -m module [args ...]

Run a Python script or module with minpack's leastsq, curve_fit, fsolve,
least_squares and root in place of scipy.optimize's,
also inside the libraries the program uses. MINPACK_PATCH_REPORT=FILE writes the
number of calls that reached minpack, per name, to FILE (JSON) at exit."""


def _write_report(path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(calls(), f, indent=1, sort_keys=True)
        f.write("\n")


def main(argv: Sequence[str] | None = None) -> None:
    """Patch SciPy, then run the program that `argv` names (as ``sys.argv[1:]``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_USAGE, file=sys.stdout if args else sys.stderr)
        raise SystemExit(0 if args else 2)
    if args[0] == "-m" and len(args) < 2:
        print("python -m minpack.patch: -m needs a module name\n" + _USAGE,
              file=sys.stderr)
        raise SystemExit(2)
    patch_scipy()
    report = os.environ.get("MINPACK_PATCH_REPORT")
    if report:
        atexit.register(_write_report, report)
    if args[0] == "-m":
        # as `python -m module`: sys.path[0] is already the current directory
        sys.argv = args[1:]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    else:
        script = args[0]
        if not os.path.exists(script):
            print(f"python -m minpack.patch: can't open file {script!r}: no such "
                  f"file", file=sys.stderr)
            raise SystemExit(2)
        sys.argv = args
        if not sys.flags.safe_path and sys.path:
            # as `python script.py`: the script's folder comes first, not ours
            sys.path[0] = os.path.dirname(os.path.abspath(script))
        runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
