# shellcheck shell=bash
# The library under the microscope, for ci/test. Source it after
# _setup.sh. It defines:
#
#   ci_fcheck     the Fortran and C test programs of tests/fortran built a second
#                 time, in build/fcheck, with run-time checks and floating-point
#                 traps, and run: -O0 -g -fcheck=all (bounds, argument, pointer
#                 and recursion checks) -ffpe-trap=invalid,zero,overflow for every
#                 Fortran file (library and tests); the C test programs get the
#                 same traps from tests/fortran/fpe_traps.c, preloaded.
#   ci_valgrind   the same test programs, then a Python smoke run of every
#                 minpack path (tests/valgrind/smoke.py), under valgrind memcheck:
#                 no invalid access and no leak may involve minpack's code
#                 (tests/valgrind/check.py reads the XML log; python.supp
#                 silences the interpreter's and numpy's own noise).
#
# Floating-point exemptions: none. MINPACK-1's algorithms keep every
# intermediate finite for finite input (enorm scales, the ratio and step tests
# guard their divisions), and the MGH, chkder and C API tests run clean with
# the traps armed. NaN and inf from the caller are tested before any use
# (info 10, info 11, a failed step), never computed with, so the NaN/inf cases
# of tests/fortran/test_edges.f90 run with the traps armed too.

_CI_FCHECK_DIR=build/fcheck

ci_fcheck() {
    local preload
    ci_step "Fortran tests with -fcheck=all and FP traps (build dir $_CI_FCHECK_DIR)"
    if [[ ! -f $_CI_FCHECK_DIR/build.ninja ]]; then
        rm -rf "$_CI_FCHECK_DIR"
        meson setup "$_CI_FCHECK_DIR" -Dpython=disabled -Dbuildtype=debug \
            -Dfortran_args="-g -fcheck=all -ffpe-trap=invalid,zero,overflow -fbacktrace" \
            -Dc_args="-g"
    elif ((CI_DEPS_CHANGED)); then
        meson setup --reconfigure "$_CI_FCHECK_DIR"
    fi
    preload="$ROOT/$_CI_FCHECK_DIR/libminpack_fpe_traps.so"
    gcc -shared -fPIC -O1 -o "$preload" tests/fortran/fpe_traps.c -lm
    meson compile -C "$_CI_FCHECK_DIR"
    meson test -C "$_CI_FCHECK_DIR" --suite fortran --print-errorlogs \
        --wrapper "env LD_PRELOAD=$preload"
}

ci_ensure_valgrind() {
    command -v valgrind >/dev/null && return 0
    [[ $(id -u) -eq 0 ]] ||
        ci_die "valgrind missing: install the Debian package 'valgrind', or run as root"
    command -v apt-get >/dev/null || ci_die "apt-get not found: install valgrind by hand"
    ci_step "installing valgrind (apt-get)"
    apt-get update -q </dev/null
    apt-get install -y -q --no-install-recommends valgrind </dev/null
}

# Run "$@" under memcheck; the XML log goes to $1, the text log next to it.
_ci_memcheck() {
    local xml=$1
    shift
    valgrind --xml=yes --xml-file="$xml" --log-file="${xml%.xml}.log" --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --num-callers=40 \
        --suppressions="$ROOT/tests/valgrind/python.supp" "$@" >/dev/null
}

ci_valgrind() {
    local dir="$ROOT/$_CI_FCHECK_DIR/valgrind" exe lib
    ci_ensure_valgrind
    ci_step "valgrind memcheck: Fortran/C test programs and a Python smoke run"
    mkdir -p "$dir"
    for exe in test_mgh test_chkder test_capi_lmstr test_capi_hybrd test_edges test_bounds test_capi_bounds \
        test_revcomm; do
        local args=()
        case $exe in
        test_mgh | test_bounds) args=("$ROOT/tests/fortran/mgh_reference.txt") ;;
        # every 13th case: the whole set takes minutes under valgrind
        test_revcomm) args=("$ROOT/tests/fortran/mgh_reference.txt" 13) ;;
        esac
        _ci_memcheck "$dir/$exe.xml" "$_CI_FCHECK_DIR/tests/fortran/$exe" "${args[@]}" ||
            ci_die "$exe failed under valgrind"
        printf '%-16s ' "$exe"
        "$PY" tests/valgrind/check.py "$dir/$exe.xml" ||
            ci_die "valgrind found errors in $exe (log: $dir/$exe.xml)"
    done
    lib="$dir/libresiduals.so"
    gcc -shared -fPIC -O1 -g -o "$lib" tests/valgrind/residuals.c -lm
    PYTHONMALLOC=malloc PYTHONSAFEPATH=1 _ci_memcheck "$dir/smoke.xml" \
        "$PY" tests/valgrind/smoke.py "$lib" || ci_die "the smoke run failed under valgrind"
    printf '%-16s ' "python smoke"
    "$PY" tests/valgrind/check.py "$dir/smoke.xml" ||
        ci_die "valgrind found errors in minpack's code (log: $dir/smoke.xml)"
}
