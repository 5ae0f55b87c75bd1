# shellcheck shell=bash
# Release configuration checks for ci/test. Source it after _setup.sh. It defines:
#
#   ci_release_config   the [tool.cibuildwheel] configuration in pyproject.toml
#                       parses, and selects exactly the builds listed in
#                       ci/wheel-identifiers.txt, for each platform
#
# Building the wheels themselves needs Docker (Linux), a Mac and a Windows
# machine: .github/workflows/wheels.yml does it on a tag. Listing the builds
# needs none of them, so it runs here, on a Linux host, for all three.

ci_release_config() {
    ci_step "release wheels: cibuildwheel $("$PY" -c 'import cibuildwheel as c; print(c.__version__)') \
--print-build-identifiers vs ci/wheel-identifiers.txt"
    # The configuration alone decides: CIBW_* variables of the caller are dropped.
    local platform listed=() ids var no_cibw=()
    for var in $(compgen -e); do
        [[ $var == CIBW_* ]] && no_cibw+=(-u "$var")
    done
    for platform in linux macos windows; do
        ids=$(env "${no_cibw[@]}" cibuildwheel --print-build-identifiers --platform "$platform" \
            "$ROOT") ||
            ci_die "cibuildwheel could not read the configuration for $platform"
        [[ -n $ids ]] || ci_die "cibuildwheel selects no build for $platform"
        echo "$platform: $(wc -l <<<"$ids") builds: $(tr '\n' ' ' <<<"$ids")"
        listed+=("$ids")
    done
    if ! diff -u <(grep -vE '^[[:space:]]*(#|$)' "$ROOT/ci/wheel-identifiers.txt") \
        <(printf '%s\n' "${listed[@]}") >"$ROOT/build/wheel-identifiers.diff"; then
        cat "$ROOT/build/wheel-identifiers.diff" >&2
        ci_die "the builds cibuildwheel selects (+) differ from ci/wheel-identifiers.txt (-)"
    fi
    echo "all $(printf '%s\n' "${listed[@]}" | wc -l) builds as listed in ci/wheel-identifiers.txt"
}
