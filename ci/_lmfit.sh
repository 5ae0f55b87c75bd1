# shellcheck shell=bash
# A real client's test suite as the proof of the drop-in contract, for ci/test.
# Source it after _setup.sh. It defines:
#
#   ci_lmfit   lmfit's own tests, from the sdist of a pinned version, run twice
#              at once: on plain SciPy, and under `python -m minpack.patch -m
#              pytest` (SciPy's leastsq, curve_fit, fsolve, ... replaced by
#              minpack's, inside lmfit too). Every test that passes on SciPy must
#              pass patched, except those ci/lmfit-differences.txt names with
#              the reason (the intended differences of docs/differences.rst);
#              and some calls must have reached minpack, or the patch did not
#              take effect. ci/lmfit_compare.py reads both runs and decides.
#
# The sdist and its unpacked tree stay in build/lmfit, so a second run downloads
# nothing. lmfit's dependencies (and the optional ones its tests use) are pinned
# in ci/requirements-lmfit.txt, which ci/requirements-test.txt includes.

_CI_LMFIT_VERSION=1.3.4
_CI_LMFIT_SHA256=3c22c28c43f717f6c5b4a3bd81e893a2149739c26a592c046f2e33c23cfbe497
_CI_LMFIT_DIR=build/lmfit

# The unpacked sdist, fetched and checked once.
_ci_lmfit_tree() {
    local tree=$_CI_LMFIT_DIR/lmfit-$_CI_LMFIT_VERSION
    local sdist=$_CI_LMFIT_DIR/lmfit-$_CI_LMFIT_VERSION.tar.gz
    if [[ -f $tree/.ci-unpacked ]]; then
        echo "$tree"
        return 0
    fi
    mkdir -p "$_CI_LMFIT_DIR"
    if [[ ! -f $sdist ]]; then
        "$PY" -m pip download -q --no-deps --no-binary :all: \
            "lmfit==$_CI_LMFIT_VERSION" -d "$_CI_LMFIT_DIR" >&2 ||
            ci_die "could not download the lmfit $_CI_LMFIT_VERSION sdist from PyPI"
    fi
    echo "$_CI_LMFIT_SHA256  $sdist" | sha256sum --check --quiet ||
        ci_die "$sdist does not have the expected sha256 (delete it to fetch it again)"
    rm -rf "$tree"
    tar -xzf "$sdist" -C "$_CI_LMFIT_DIR"
    touch "$tree/.ci-unpacked"
    echo "$tree"
}

ci_lmfit() {
    local tree out start rc_scipy=0 rc_patched=0
    ci_step "lmfit $_CI_LMFIT_VERSION's test suite: on SciPy and under python -m minpack.patch (build/lmfit)"
    tree=$(_ci_lmfit_tree)
    out=$ROOT/$_CI_LMFIT_DIR
    rm -f "$out"/scipy.xml "$out"/patched.xml "$out"/calls.json
    start=$SECONDS
    # Each run in its own fresh copy of the tree: lmfit's tests write files
    # (modres_x.txt, ...) to the current directory, and the runs go side by side.
    rm -rf "$out/run-scipy" "$out/run-patched"
    cp -a "$tree" "$out/run-scipy"
    cp -a "$tree" "$out/run-patched"
    # lmfit from its own tree (PYTHONPATH), minpack and the rest from the venv;
    # lmfit's addopts want pytest-cov, which this run does not need.
    (cd "$out/run-scipy" && PYTHONPATH=$PWD "$PY" -m pytest tests -q \
        -p no:cacheprovider -o addopts= --junitxml="$out/scipy.xml" \
        >"$out/scipy.log" 2>&1) &
    local pid_scipy=$!
    (cd "$out/run-patched" && PYTHONPATH=$PWD MINPACK_PATCH_REPORT="$out/calls.json" \
        "$PY" -m minpack.patch -m pytest tests -q -p no:cacheprovider \
        -o addopts= --junitxml="$out/patched.xml" >"$out/patched.log" 2>&1) &
    local pid_patched=$!
    wait "$pid_scipy" || rc_scipy=$?
    wait "$pid_patched" || rc_patched=$?
    echo "both runs: $((SECONDS - start))s (pytest exit codes: SciPy $rc_scipy," \
        "patched $rc_patched; logs in $_CI_LMFIT_DIR/*.log)"
    "$PY" "$ROOT/ci/lmfit_compare.py" "$out/scipy.xml" "$out/patched.xml" \
        "$out/calls.json" "$ROOT/ci/lmfit-differences.txt"
}
