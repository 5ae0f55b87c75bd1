"""The README's Python examples run as written.

Every block fenced as ```python runs, in order, in one namespace (an example
may use what an earlier one defined, as a reader would), with warnings as
errors. A traceback points at the README line.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def test_readme_examples_run(capsys):
    """Run the README's examples; the callback one prints its iterations."""
    text = README.read_text(encoding="utf-8")
    blocks = list(BLOCK.finditer(text))
    assert len(blocks) >= 4, "the README has lost its examples"
    namespace: dict = {"__name__": "__readme__"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for block in blocks:
            first_line = text.count("\n", 0, block.start(1))
            # pad with newlines so that line numbers are the README's
            code = compile("\n" * first_line + block.group(1), str(README), "exec")
            exec(code, namespace)
    printed = capsys.readouterr().out
    assert "iteration 1:" in printed  # the callback example reported
