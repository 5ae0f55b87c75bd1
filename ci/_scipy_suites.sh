# shellcheck shell=bash
# SciPy's own tests against minpack, for ci/test. Source it after _setup.sh.
# It defines:
#
#   ci_scipy_suites   SciPy's test_minpack.py, test_least_squares.py and
#                     test__root.py, as shipped in the installed SciPy wheel
#                     (never copied here), run twice: on plain SciPy, then with
#                     minpack's leastsq, curve_fit, fsolve, least_squares and
#                     root in place of SciPy's (the pytest plugin
#                     tests/scipy_suite/minpack_substitution.py, which counts
#                     the calls that reached minpack's engine and fails the run
#                     if there were none). Prints passed/failed/skipped per
#                     file for both runs, and fails when a test that passes on
#                     SciPy does not pass with minpack, unless it is listed with
#                     its reason in tests/scipy_suite/intended_differences.txt
#                     (a listed test that no longer differs fails too).

_CI_SCIPY_SUITES_DIR=build/scipy-suites

ci_scipy_suites() {
    local tests out suite=tests/scipy_suite
    local -a files run
    ci_step "SciPy's own test_minpack/test_least_squares/test__root: plain, then with minpack"
    tests=$(PYTHONSAFEPATH=1 "$PY" -c \
        'import os, scipy.optimize.tests as t; print(os.path.dirname(t.__file__))')
    files=("$tests/test_minpack.py" "$tests/test_least_squares.py" "$tests/test__root.py")
    for f in "${files[@]}"; do
        [[ -f $f ]] || ci_die "$f not found: the installed SciPy does not ship its tests"
    done
    out="$ROOT/$_CI_SCIPY_SUITES_DIR"
    mkdir -p "$out"
    # the suites' own configuration (none of ours), run from the build dir
    run=("$PY" -m pytest -c "$ROOT/$suite/pytest.ini" --rootdir "$tests"
        -p no:cacheprovider -q --no-header -p no:randomly)
    echo "SciPy $("$PY" -c 'import scipy; print(scipy.__version__)'), tests from $tests"
    echo "-- plain SciPy"
    (cd "$out" && PYTHONSAFEPATH=1 "${run[@]}" --junitxml "$out/plain.xml" \
        "${files[@]}" | tail -n 3) || true
    echo "-- with minpack substituted"
    (cd "$out" && PYTHONSAFEPATH=1 PYTHONPATH="$ROOT/$suite" \
        MINPACK_SUBSTITUTION_COUNTS="$out/counts.json" \
        "${run[@]}" -p minpack_substitution --junitxml "$out/ours.xml" \
        "${files[@]}" | tail -n 3) || true
    [[ -s $out/counts.json ]] || ci_die "the minpack run wrote no call counts"
    PYTHONSAFEPATH=1 "$PY" - "$out/counts.json" <<'PYEOF' || ci_die "no call reached minpack's engine: the substitution did not take effect"
import json, sys
counts = json.load(open(sys.argv[1]))
calls, tests = counts["calls"], counts["tests_on_engine"]
engine = sum(v for k, v in calls.items() if k.startswith("engine."))
print("calls of minpack's functions:", ", ".join(f"{k} {v}" for k, v in sorted(calls.items())))
print("tests that called minpack's engine:", ", ".join(f"{k} {v}" for k, v in sorted(tests.items())))
sys.exit(0 if engine > 0 else 1)
PYEOF
    PYTHONSAFEPATH=1 "$PY" "$suite/compare.py" "$out/plain.xml" "$out/ours.xml" \
        "$suite/intended_differences.txt" ||
        ci_die "SciPy's tests: a test that passes on SciPy fails with minpack (see above)"
}
