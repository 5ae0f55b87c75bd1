# shellcheck shell=bash
# Shared set-up for ci/test and ci/demo. Source it (from a script running under
# `set -euo pipefail`), don't run it. It defines:
#
#   ROOT, VENV, PY       repository root, its .venv, the venv's python
#   ci_step MSG          print a section header
#   ci_die MSG           print an error and exit 1
#   ci_print_env         uname, OS, compilers, python
#   ci_ensure_compilers  install gfortran (and gcc) with apt-get when missing
#   ci_ensure_venv       create .venv if absent or broken
#   ci_install_deps P    pip install ci/requirements-P.txt unless already done
#   ci_print_packages    versions of the key packages in the venv
#   ci_install_package   build and install minpack into the venv
#   ci_check_import      make sure `import minpack` finds the installed package
#
# Everything works from a fresh Debian machine with network access to PyPI and the
# Debian archive, and is quick the second time.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
cd "$ROOT" || exit 1
SECONDS=0

# The venv's meson, ninja and f2py come first; nothing may wait for a prompt.
export PATH="$VENV/bin:$PATH"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_PROGRESS_BAR=off
export DEBIAN_FRONTEND=noninteractive

# Python used to create the venv; override with PYTHON=/path/to/python3.
BASE_PYTHON=${PYTHON:-python3}

# Set by ci_install_deps when it changed the venv (build dirs then reconfigure).
# shellcheck disable=SC2034  # read by the scripts that source this file
CI_DEPS_CHANGED=0

ci_step() { printf '\n==> [%3ds] %s\n' "$SECONDS" "$*"; }

ci_die() {
    printf '\nerror: %s\n' "$*" >&2
    exit 1
}

ci_print_env() {
    ci_step "environment"
    echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "uname:     $(uname -srmo)"
    if [[ -r /etc/os-release ]]; then
        echo "os:        $(. /etc/os-release && echo "${PRETTY_NAME:-unknown}")"
    fi
    echo "cpus:      $(nproc 2>/dev/null || echo '?')"
    echo "user:      $(id -un) (uid $(id -u)), CI=${CI:-unset}"
    echo "repo:      $ROOT ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout'))"
    if command -v "$BASE_PYTHON" >/dev/null; then
        echo "python:    $("$BASE_PYTHON" --version 2>&1) ($(command -v "$BASE_PYTHON"))"
    else
        echo "python:    $BASE_PYTHON not found"
    fi
    echo "gcc:       $(gcc --version 2>/dev/null | head -n 1 || true)"
    if command -v gfortran >/dev/null; then
        echo "gfortran:  $(gfortran --version | head -n 1)"
    else
        echo "gfortran:  not installed"
    fi
    if [[ -x "$PY" ]]; then
        echo "venv:      $VENV (exists)"
    else
        echo "venv:      $VENV (to be created)"
    fi
}

ci_ensure_compilers() {
    local missing=()
    command -v gfortran >/dev/null || missing+=(gfortran)
    command -v gcc >/dev/null || missing+=(gcc)
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    if [[ $(id -u) -ne 0 ]]; then
        ci_die "missing compiler(s): ${missing[*]}. Install the Debian package(s) \
'${missing[*]}' (e.g. sudo apt-get install -y ${missing[*]}), or run this script as root."
    fi
    command -v apt-get >/dev/null ||
        ci_die "apt-get not found: install the package(s) '${missing[*]}' by hand"
    ci_step "installing ${missing[*]} (apt-get)"
    apt-get update -q </dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
    command -v gfortran >/dev/null || ci_die "gfortran still missing after apt-get"
    echo "gfortran:  $(gfortran --version | head -n 1)"
}

ci_ensure_venv() {
    command -v "$BASE_PYTHON" >/dev/null || ci_die "$BASE_PYTHON not found (need Python >= 3.10)"
    "$BASE_PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
        ci_die "$BASE_PYTHON is $("$BASE_PYTHON" --version 2>&1); need Python >= 3.10"
    if [[ -x "$PY" ]] && "$PY" -c 'import pip' >/dev/null 2>&1; then
        return 0
    fi
    if [[ -e "$VENV" ]]; then
        ci_step "removing broken venv $VENV"
        rm -rf "$VENV"
    fi
    ci_step "creating venv $VENV"
    "$BASE_PYTHON" -m venv "$VENV" ||
        ci_die "could not create a venv with $BASE_PYTHON; on Debian's own python3 \
install the package 'python3-venv' (apt-get install -y python3-venv)"
}

# Hash of everything that decides what the venv should hold.
_ci_deps_hash() {
    {
        "$PY" -c 'import sys; print(sys.version)'
        cat "$ROOT/pyproject.toml" "$ROOT"/ci/requirements-*.txt
    } | sha256sum | cut -d ' ' -f 1
}

# ci_install_deps PROFILE: pip install ci/requirements-PROFILE.txt into the venv,
# skipped when a stamp shows the same requirements were installed before. The test
# requirements contain the demo ones, so a test stamp also satisfies the demo.
ci_install_deps() {
    local profile=$1 hash stamp
    hash=$(_ci_deps_hash)
    for stamp in "$VENV/.ci-stamp-$profile" "$VENV/.ci-stamp-test"; do
        if [[ -f $stamp && $(<"$stamp") == "$hash" ]]; then
            ci_step "dependencies ($profile): up to date, pip skipped"
            return 0
        fi
    done
    ci_step "installing dependencies (ci/requirements-$profile.txt)"
    "$PY" -m pip install -r "$ROOT/ci/requirements-$profile.txt"
    echo "$hash" >"$VENV/.ci-stamp-$profile"
    # shellcheck disable=SC2034  # read by the scripts that source this file
    CI_DEPS_CHANGED=1
}

ci_print_packages() {
    ci_step "venv packages"
    "$PY" --version
    "$PY" -m pip list --format=freeze 2>/dev/null |
        grep -iE '^(pip|numpy|scipy|meson|meson[-_]python|ninja|pytest|minpack)==' || true
}

# Build a wheel in the persistent build dir build/wheel (meson-python's build-dir
# setting: ninja rebuilds only what changed) and install it into the venv.
ci_install_package() {
    ci_step "building and installing minpack (build dir build/wheel)"
    "$PY" -m pip install --no-build-isolation -Cbuild-dir="$ROOT/build/wheel" "$ROOT"
}

# `import minpack` must find the installed package, never the repository's own
# minpack/ (Fortran sources) or src/minpack/. Run Python with PYTHONSAFEPATH=1
# from the repository root, as the tests run, and check where the import lands.
ci_check_import() {
    local where
    where=$(PYTHONSAFEPATH=1 "$PY" -c 'import minpack; print(minpack.__file__)') ||
        ci_die "the installed package does not import"
    case $where in
    "$VENV"/lib/*/site-packages/minpack/__init__.py) echo "import minpack -> $where" ;;
    *) ci_die "import minpack gave '$where', not the package installed in $VENV" ;;
    esac
}
