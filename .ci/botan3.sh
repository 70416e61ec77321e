#!/usr/bin/env bash
# .ci/botan3.sh - tee-client against Botan 3, the CI step after the Botan 2
# build of .ci/run. For each version (the newest first):
#
#   1. the install prefix from .ci/botan.sh VERSION (built once per machine,
#      cached; a minimized static Botan without legacy_ec_point);
#   2. build-botan-VERSION/, configured with -Dbotan=3 -Dwerror=true and
#      PKG_CONFIG_PATH=<prefix>/lib/pkgconfig, built (the newest: all of it;
#      the others: what their suites need); with SANITIZE set, with clang 14
#      under those sanitizers;
#   3. tests: the newest version the whole suite (the README's test command);
#      the others the unit, Nitro, crypto-backend, X.509, end-to-end (client,
#      protocol) and interop suites (SUITES_OLDER), or with OLDER=compile only
#      a compile of the translation units that use the most Botan API
#      (COMPILE_OLDER) against .ci/botan.sh --headers VERSION, without building
#      that Botan; the demo chat; `nm -C tee-chat` must show no p384_comb
#      (Botan 2 only);
#   4. the P-384 verification fuzzer against the newest version, built with
#      clang 14 (build-fuzz-botan-VERSION/, as .ci/sanitizers.sh builds
#      fuzzers), from a copy of its corpus for FUZZ_SECONDS (default 60).
#
# Parameters (environment):
#   BOTAN3_VERSIONS        versions, newest first (default "3.13.0 3.7.1")
#   SANITIZE               e.g. address,undefined: the builds use clang 14 and these
#                          sanitizers (default: none, the system compiler)
#   OLDER                  suites (default) or compile: what the older versions run
#   EXTRA_PKG_CONFIG_PATH  prepended to PKG_CONFIG_PATH (e.g. another cpp-httplib's .pc)
#   EXTRA_MESON_OPTIONS    more options for every build-botan-* setup
#   FUZZ_SECONDS           the fuzzer's run (0: build it, run its corpus only)
#   JOBS                   compile jobs (default: nproc)
#   TEE_THIRD_PARTY        where botan-VERSION.tar.xz is (default ../shared/third_party)
set -euo pipefail
cd "$(dirname "$0")/.."
VERSIONS=${BOTAN3_VERSIONS:-3.13.0 3.7.1}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
JOBS=${JOBS:-$(nproc)}
read -r -a extra_options <<<"${EXTRA_MESON_OPTIONS:-}"
SANITIZE=${SANITIZE:-}
OLDER=${OLDER:-suites}
SUITES_OLDER="encoding canonical_json cbor nitro crypto_backends x509_chain client client_openssl
  protocol_bytes encrypted_answers encrypted_answers_openssl attestation_endpoints attestation_endpoints_openssl
  key_rotation key_rotation_openssl replay replay_openssl transport_settings transport_settings_openssl
  concurrency concurrency_openssl exemplars faults nitro_interop interop_python
  interop_encrypted_python python_peer_selftest nova_crypto"
COMPILE_OLDER="examples/tee-chat examples/mock_enclave tests/test_crypto_backends
  tests/test_x509_chain tests/test_image_policy tests/test_nova_crypto"
compiler_env=()
sanitize_options=()
test_options=()
if [ -n "$SANITIZE" ]; then
    compiler_env=(CC=clang-14 CXX=clang++-14)
    sanitize_options=(-Db_sanitize="$SANITIZE" -Db_lundef=false)
    test_options=(--timeout-multiplier 3)
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
fi
start=$(date +%s)
step() { echo; echo "== botan3: $* ($(( $(date +%s) - start )) s)"; }

pkg_path_for() {  # PKG_CONFIG_PATH for a Botan prefix
    echo "${EXTRA_PKG_CONFIG_PATH:+$EXTRA_PKG_CONFIG_PATH:}$1/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
}

setup() {  # setup DIR PKG_CONFIG_PATH [ENV...] -- OPTIONS...: configure or reconfigure
    local dir=$1 pcp=$2; shift 2
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    local mode=()
    [ -d "$dir/meson-private" ] && mode=(--reconfigure)
    env PKG_CONFIG_PATH="$pcp" "${envs[@]}" meson setup "${mode[@]}" "$dir" "$@" >/dev/null
}

objects_of() {  # objects_of DIR TARGET...: the object files of those targets (those that exist)
    local dir=$1; shift
    local t
    for t in "$@"; do
        ninja -C "$dir" -t query "$t" 2>/dev/null | sed -n 's/^ *\(.*\.o\)$/\1/p' | sed 's/^ *//'
    done
}

newest=""
for v in $VERSIONS; do
    compile_only=""
    [ -z "$newest" ] || [ "$OLDER" != compile ] || compile_only=1
    step "Botan $v: prefix (.ci/botan.sh${compile_only:+ --headers})"
    prefix=$(.ci/botan.sh ${compile_only:+--headers} "$v")
    echo "$prefix"
    [ -n "$newest" ] || newest=$v newest_prefix=$prefix
    pcp=$(pkg_path_for "$prefix")
    dir=build-botan-$v
    # A compile-only build needs no sanitizer (and compiles twice as fast without).
    sanitize=$SANITIZE envs=("${compiler_env[@]}") options=("${sanitize_options[@]}")
    [ -z "$compile_only" ] || sanitize="" envs=() options=()
    # a directory configured with another compiler is wiped first
    if [ -f "$dir/build.ninja" ]; then
        if [ -n "$sanitize" ] && ! grep -q 'clang++-14' "$dir/build.ninja"; then rm -rf "$dir"; fi
        if [ -z "$sanitize" ] && grep -q 'clang++-14' "$dir/build.ninja"; then rm -rf "$dir"; fi
    fi

    step "Botan $v: build ($dir, -Dbotan=3 -Dwerror=true${sanitize:+, clang 14 with $sanitize})"
    setup "$dir" "$pcp" "${envs[@]}" -- -Dbotan=3 -Dwerror=true "${options[@]}" "${extra_options[@]}"
    grep -q "botan-3" "$dir/meson-private/tee-client.pc" || { echo "$dir: tee-client.pc does not require botan-3"; exit 1; }
    if [ -n "$compile_only" ]; then
        # shellcheck disable=SC2086
        mapfile -t objects < <(objects_of "$dir" $COMPILE_OLDER)
        [ ${#objects[@]} -gt 0 ] || { echo "$dir: no objects found for $COMPILE_OLDER"; exit 1; }
        echo "compiling ${objects[*]}"
        PKG_CONFIG_PATH=$pcp ninja -C "$dir" -j "$JOBS" "${objects[@]}"
        continue
    fi
    if [ "$v" = "$newest" ]; then
        PKG_CONFIG_PATH=$pcp ninja -C "$dir" -j "$JOBS"
    else  # only what its suites need (meson test builds the rest of it)
        PKG_CONFIG_PATH=$pcp ninja -C "$dir" -j "$JOBS" examples/tee-chat
    fi

    step "Botan $v: the demo chat, and no p384_comb in tee-chat"
    "$dir"/examples/tee-chat --demo "BTC price right now"
    if nm -C "$dir"/examples/tee-chat | grep -q p384_comb; then
        echo "$dir/examples/tee-chat contains p384_comb (Botan 2 only)"; exit 1
    fi

    if [ "$v" = "$newest" ]; then
        step "Botan $v: the whole test suite${SANITIZE:+ under $SANITIZE}"
        PKG_CONFIG_PATH=$pcp meson test -C "$dir" --no-rebuild --print-errorlogs "${test_options[@]}"
    else
        step "Botan $v: unit, Nitro, crypto-backend, X.509, end-to-end and interop suites${SANITIZE:+ under $SANITIZE}"
        # shellcheck disable=SC2086
        PKG_CONFIG_PATH=$pcp meson test -C "$dir" --num-processes "$JOBS" --print-errorlogs "${test_options[@]}" $SUITES_OLDER
    fi
done

step "Botan $newest: fuzz_p384_verify (clang 14, build-fuzz-botan-$newest) for $FUZZ_SECONDS s"
dir=build-fuzz-botan-$newest
if [ -f "$dir/build.ninja" ] && ! grep -q 'clang++-14' "$dir/build.ninja"; then rm -rf "$dir"; fi
setup "$dir" "$(pkg_path_for "$newest_prefix")" CC=clang-14 CXX=clang++-14 -- \
    -Dbotan=3 -Dfuzz=true -Dtests=false -Dexamples=false "${extra_options[@]}"
ninja -C "$dir" -j "$JOBS" fuzz/fuzz_p384_verify
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts=$dir/ci-artifacts/fuzz_p384_verify
rm -rf "$artifacts"
mkdir -p "$artifacts"
cp fuzz/corpus/p384_verify/* "$work"/
runs=()
[ "$FUZZ_SECONDS" -gt 0 ] || runs=(-runs=0)
if ! "$dir"/fuzz/fuzz_p384_verify -max_total_time="$FUZZ_SECONDS" "${runs[@]}" -error_exitcode=1 -timeout=25 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" >"$artifacts/log" 2>&1; then
    tail -n 60 "$artifacts/log"
    echo "fuzz_p384_verify FAILED on Botan $newest; inputs: $(ls "$artifacts" | grep -v '^log$' | tr '\n' ' ')"
    exit 1
fi
grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' "$artifacts/log" || true

step "done: Botan $VERSIONS"
