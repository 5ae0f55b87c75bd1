"""Compare lmfit's test suite run on SciPy with the run under minpack's patch.

    python ci/lmfit_compare.py scipy.xml patched.xml calls.json differences.txt

reads the two pytest JUnit reports, the calls that reached minpack (written by
``MINPACK_PATCH_REPORT``) and the list of tests expected to differ (with the
reasons), prints the counts of each run, and exits non-zero when

- a test that passed on SciPy does not pass patched and is not in the list,
- a test in the list passes patched (or no longer passes on SciPy): the list
  is stale,
- no call reached minpack (the patch did not take effect), or the SciPy run
  passed nothing (the suite did not run).
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def outcomes(report: Path) -> dict[str, str]:
    """Test id -> 'passed', 'failed', 'error' or 'skipped' from a JUnit report."""
    found: dict[str, str] = {}
    for case in ET.parse(report).iter("testcase"):
        test = f"{case.get('classname', '')}::{case.get('name', '')}"
        kinds = {child.tag for child in case}
        if "error" in kinds:
            found[test] = "error"
        elif "failure" in kinds:
            found[test] = "failed"
        elif "skipped" in kinds:
            found[test] = "skipped"
        else:
            found[test] = "passed"
    return found


def expected(listing: Path) -> dict[str, str]:
    """Test id -> reason, from the differences file."""
    reasons: dict[str, str] = {}
    for line in listing.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            test, _, reason = line.partition(" ")
            reasons[test] = reason.strip()
    return reasons


def counts(found: dict[str, str]) -> str:
    kinds = ("passed", "failed", "error", "skipped")
    return ", ".join(f"{sum(v == k for v in found.values())} {k}" for k in kinds)


def main(argv: list[str]) -> int:
    scipy_xml, patched_xml, calls_json, listing = map(Path, argv)
    ours = outcomes(patched_xml)
    theirs = outcomes(scipy_xml)
    reasons = expected(listing)
    calls = json.loads(calls_json.read_text()) if calls_json.exists() else {}
    print(f"lmfit on SciPy:           {counts(theirs)}")
    print(f"lmfit under minpack.patch: {counts(ours)}")
    total = sum(calls.values())
    print("calls that reached minpack: " + (", ".join(
        f"{name} {n}" for name, n in sorted(calls.items())) or "none")
        + f" (total {total})")

    problems = []
    if not any(v == "passed" for v in theirs.values()):
        problems.append("the SciPy run passed no test: the suite did not run")
    if total == 0:
        problems.append("no call reached minpack: the patch did not take effect")
    for test, outcome in sorted(theirs.items()):
        if outcome != "passed":
            continue
        now = ours.get(test, "missing")
        if now == "passed":
            continue
        if test in reasons:
            print(f"  expected difference: {test} ({now}): {reasons[test]}")
        else:
            problems.append(f"{test} passes on SciPy, {now} under minpack.patch")
    for test in sorted(reasons):
        if theirs.get(test) != "passed" or ours.get(test) == "passed":
            problems.append(
                f"{test} is listed in {listing.name} but passes under minpack.patch "
                f"(SciPy: {theirs.get(test, 'missing')}, patched: "
                f"{ours.get(test, 'missing')}): remove it from the list")
    for p in problems:
        print(f"FAIL: {p}")
    if problems:
        return 1
    print("lmfit: every test that passes on SciPy passes under minpack.patch, "
          f"except the {len(reasons)} intended differences listed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
