"""Compare two runs of SciPy's tests: plain SciPy, and with minpack substituted.

Usage: ``python compare.py PLAIN.xml OURS.xml INTENDED.txt`` (JUnit XML
reports from pytest). Prints passed/failed/skipped per test file for both
runs, and exits 1 when a test that passed on SciPy did not pass with minpack
and is not listed in INTENDED.txt, or when a listed test is no longer
different (the list must stay true).

INTENDED.txt holds one test per line, ``file::Class::test  reason``; blank
lines and lines starting with # are ignored.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import Counter


def outcomes(path: str) -> dict[str, str]:
    """``{'file.py::Class::test[param]': 'passed'|'failed'|'skipped'}``."""
    result = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        parts = case.get("classname", "").split(".")
        # classname is scipy.optimize.tests.test_x[.Class]
        i = next(k for k, p in enumerate(parts) if p.startswith("test"))
        i = next(k for k in range(i, len(parts)) if parts[k].startswith("test_"))
        test_id = "::".join([parts[i] + ".py", *parts[i + 1:], case.get("name", "")])
        kinds = {child.tag for child in case}
        if kinds & {"failure", "error"}:
            result[test_id] = "failed"
        elif "skipped" in kinds:
            result[test_id] = "skipped"
        else:
            result[test_id] = "passed"
    return result


def intended(path: str) -> dict[str, str]:
    """Read the intended differences: ``{test_id: reason}``."""
    found = {}
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if line and not line.startswith("#"):
                test_id, _, reason = line.partition(" ")
                found[test_id] = reason.strip()
    return found


def counts(result: dict[str, str]) -> dict[str, Counter]:
    """Count the outcomes per test file."""
    per_file: dict[str, Counter] = {}
    for test_id, outcome in result.items():
        per_file.setdefault(test_id.split("::")[0], Counter())[outcome] += 1
    return per_file


def main(plain_xml: str, ours_xml: str, intended_txt: str) -> int:
    """Print the counts and the differences; 1 when a difference is new."""
    plain, ours = outcomes(plain_xml), outcomes(ours_xml)
    allowed = intended(intended_txt)
    plain_counts, ours_counts = counts(plain), counts(ours)
    print(f"{'file':24} {'SciPy passed/failed/skipped':>28} "
          f"{'minpack passed/failed/skipped':>30}")
    for name in sorted(set(plain_counts) | set(ours_counts)):
        p, o = plain_counts.get(name, Counter()), ours_counts.get(name, Counter())
        print(f"{name:24} {p['passed']:>12}/{p['failed']}/{p['skipped']:<14}"
              f" {o['passed']:>12}/{o['failed']}/{o['skipped']}")
    lost = sorted(t for t, o in plain.items()
                  if o == "passed" and ours.get(t) != "passed")
    new = sorted(t for t in lost if t not in allowed)
    stale = sorted(t for t in allowed if t not in lost)
    for t in sorted(set(lost) - set(new)):
        print(f"intended difference: {t}: {allowed[t]}")
    for t in new:
        print(f"NEW FAILURE (passes on SciPy, not with minpack): {t} "
              f"({ours.get(t, 'not run')})")
    for t in stale:
        print(f"STALE intended difference (not a difference now): {t}")
    print(f"{len(lost)} tests pass on SciPy but not with minpack: "
          f"{len(lost) - len(new)} intended, {len(new)} new; "
          f"{len(stale)} stale entries")
    if not any(o == "passed" for o in plain.values()):
        print("NO TEST PASSED on plain SciPy: the comparison would prove nothing")
        return 1
    return 1 if new or stale else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
