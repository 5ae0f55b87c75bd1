# shellcheck shell=bash
# The Fortran/C library outside Python, for ci/test. Source it after _setup.sh.
# It defines:
#
#   ci_ensure_pkg_config        install pkg-config (Debian's pkgconf) when missing
#   ci_library_meson            the library alone (-Dpython=disabled) in build/ftest,
#                               with the Fortran test programs; exports
#                               MINPACK_STANDALONE_BUILD for tests/test_binary.py
#   ci_library_fpm              the same library and test programs with fpm
#   ci_examples_subproject      examples/ as a meson project taking minpack as a
#                               subproject (build/examples-sub)
#   ci_examples_installed       examples/ compiled by hand against the installed
#                               package: get_include(), get_library_dir(), pkg-config
#
# Each example prints its fit and exits non-zero when it is off the documented
# MINPACK-1 result.

ci_ensure_pkg_config() {
    command -v pkg-config >/dev/null && return 0
    [[ $(id -u) -eq 0 ]] ||
        ci_die "pkg-config missing: install the Debian package 'pkgconf', or run as root"
    command -v apt-get >/dev/null || ci_die "apt-get not found: install pkg-config by hand"
    ci_step "installing pkgconf (apt-get)"
    apt-get update -q </dev/null
    apt-get install -y -q --no-install-recommends pkgconf </dev/null
}

# Python-free meson build of the whole project: libminpack.a/.so, the .mod files,
# the test programs. Reused from run to run.
ci_library_meson() {
    ci_step "library alone (meson -Dpython=disabled, build dir build/ftest), Fortran tests"
    if [[ ! -f build/ftest/build.ninja ]]; then
        rm -rf build/ftest
        meson setup build/ftest -Dpython=disabled
    else
        meson configure build/ftest -Dpython=disabled
        if ((CI_DEPS_CHANGED)); then
            meson setup --reconfigure build/ftest
        fi
    fi
    meson compile -C build/ftest
    meson test -C build/ftest --print-errorlogs
    export MINPACK_STANDALONE_BUILD="$ROOT/build/ftest"
}

# fpm.toml at the root points fpm at minpack/ and tests/fortran; builds in build/.
ci_library_fpm() {
    ci_step "library alone with fpm ($(fpm --version 2>/dev/null | head -n 1 | tr -s ' '))"
    fpm build
    fpm test -- tests/fortran/mgh_reference.txt
}

# The bard examples must not need an executable stack either.
_ci_check_stack() {
    local exe
    for exe in "$@"; do
        # grep reads a captured string: with pipefail, `cmd | grep -q` fails
        # whenever grep exits before cmd has written everything (SIGPIPE)
        if grep -q 'GNU_STACK.* RWE ' <<<"$(readelf -lW "$exe")"; then
            ci_die "$exe asks for an executable stack"
        fi
    done
}

# examples/meson.build as a consumer project with this repository as its
# subprojects/minpack (the sources are linked in, not copied).
ci_examples_subproject() {
    ci_step "examples against the library built as a meson subproject (build/examples-sub)"
    local src=build/examples-sub/src f
    mkdir -p "$src/subprojects"
    for f in examples/*; do
        ln -sfn "$ROOT/$f" "$src/$(basename "$f")"
    done
    ln -sfn "$ROOT" "$src/subprojects/minpack"
    if [[ ! -f build/examples-sub/build/build.ninja ]]; then
        rm -rf build/examples-sub/build
        meson setup build/examples-sub/build "$src" --force-fallback-for=minpack
    fi
    meson test -C build/examples-sub/build --print-errorlogs --verbose
    _ci_check_stack build/examples-sub/build/bard_lmder build/examples-sub/build/bard_capi
}

# By hand, as a user of the installed Python package would.
ci_examples_installed() {
    ci_step "examples against the installed package (get_include, get_library_dir, pkg-config)"
    local out=build/examples-installed inc lib
    inc=$(PYTHONSAFEPATH=1 "$PY" -c 'import minpack; print(minpack.get_include())')
    lib=$(PYTHONSAFEPATH=1 "$PY" -c 'import minpack; print(minpack.get_library_dir())')
    echo "get_include():     $inc"
    echo "get_library_dir(): $lib"
    mkdir -p "$out"
    (
        set -x
        gfortran -O2 -J "$out" -I"$inc" examples/bard_lmder.f90 \
            -L"$lib" -Wl,-rpath,"$lib" -lminpack -o "$out/bard_lmder"
        # shellcheck disable=SC2046  # pkg-config's flags are meant to split
        cc -O2 -std=c99 -Wall -Wextra $(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --cflags minpack) \
            examples/bard_capi.c $(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --libs minpack) \
            -Wl,-rpath,"$lib" -lm -o "$out/bard_capi"
    )
    local exe
    for exe in "$out/bard_lmder" "$out/bard_capi"; do
        grep -q "libminpack.so => $lib/libminpack.so" <<<"$(ldd "$exe")" ||
            ci_die "$exe does not load libminpack.so from $lib"
        "$exe"
    done
    _ci_check_stack "$out/bard_lmder" "$out/bard_capi"
}
