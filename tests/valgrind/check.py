"""Read a valgrind XML log (--xml=yes) and fail on errors in minpack's code.

Usage: python check.py VALGRIND.xml

An error counts as minpack's when a frame of its stack (or, for a leak, of
the allocation's stack) is in minpack: the extension module (Fortran
library, f2py glue, C trampoline), the test's compiled residuals
(libresiduals), or a source file of the package. Every error kind counts:
invalid reads and writes, uninitialised values, bad frees, and leaks that
are definitely or indirectly lost. Errors whose stacks never touch minpack
(the interpreter, numpy) are counted and listed, but do not fail the run.
Prints a summary; exits 1 if minpack has any error.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import Counter

OURS = ("/minpack/_minpack", "libminpack", "libresiduals")
OUR_FILES = ("_glue.f90", "_trampoline.c", "residuals.c")


def is_ours(frame: ET.Element) -> bool:
    obj = frame.findtext("obj") or ""
    fn = frame.findtext("fn") or ""
    src = frame.findtext("file") or ""
    return (any(o in obj for o in OURS) or src.startswith("minpack")
            or src.endswith(OUR_FILES) or fn.startswith("minpack_"))


def main(path: str) -> int:
    root = ET.parse(path).getroot()
    ours: list = []
    others: Counter = Counter()
    for error in root.iter("error"):
        kind = error.findtext("kind") or "?"
        if kind in ("Leak_PossiblyLost", "Leak_StillReachable"):
            continue  # objects the interpreter keeps until exit
        frames = list(error.find("stack").iter("frame"))
        if any(is_ours(f) for f in frames):
            what = error.findtext("what") or error.findtext("xwhat/text") or ""
            top = " <- ".join((f.findtext("fn") or f.findtext("obj") or "?")
                              for f in frames[:8])
            ours.append(f"{kind}: {what}\n    {top}")
        else:
            others[kind] += 1
    suppressed = sum(int(s.findtext("count") or 0)
                     for s in root.iter("pair") if s.find("name") is not None)
    print(f"valgrind: {len(ours)} error(s) in minpack's code; "
          f"{sum(others.values())} elsewhere (interpreter, numpy: "
          f"{dict(others) or 'none'}); {suppressed} suppressed as known noise")
    for line in ours:
        print(line)
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
