#!/usr/bin/env python3
"""Time minpack against SciPy: ``python benchmarks/bench.py [options]``.

A thin launcher for ``python -m minpack.bench``: the benchmark lives in the
installed package, so that it also runs without a checkout. Install the package
first; arguments are passed on, e.g. ``python benchmarks/bench.py --quick``
(see ``--help``).
"""

import os
import sys

# `import minpack` must find the installed package, never the checkout's root
# (whose minpack/ folder holds the Fortran sources), even with PYTHONPATH=.
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != root]

from minpack.bench import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
