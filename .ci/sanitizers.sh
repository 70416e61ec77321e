#!/usr/bin/env bash
# .ci/sanitizers.sh - the hostile-input checks of CI, on Debian 12:
#
#   1. the test suite under AddressSanitizer + UndefinedBehaviorSanitizer
#      (clang 14, build-asan/): the whole suite, or the suites in ASAN_SUITES;
#   2. the suites with threads or an in-process server under ThreadSanitizer
#      (build-tsan/): client, client_openssl, crypto_backends, faults,
#      transport and the end-to-end suites (encrypted_answers,
#      attestation_endpoints, key_rotation, replay, transport_settings,
#      concurrency), those of them that exist (TSAN_SUITES overrides the list);
#   3. every libFuzzer target in fuzz/ for FUZZ_SECONDS (default 60) each,
#      from a temporary copy of its checked-in corpus (build-fuzz/).
#
# Fails on the first failing test step, and after the fuzz step if any fuzzer
# crashed (its input is kept under build-fuzz/ci-artifacts/<target>/).
# Idempotent: reuses and reconfigures the build directories. Installs clang 14
# and its sanitizer runtimes if missing (root, or sudo), and the project's own
# dependencies via tools/setup.sh if those are missing.
#
#   .ci/sanitizers.sh                     # everything
#   FUZZ_SECONDS=600 .ci/sanitizers.sh    # longer fuzzing
#   STEPS="fuzz" .ci/sanitizers.sh        # only some of: asan tsan fuzz
#   JOBS=1 .ci/sanitizers.sh              # compile with fewer jobs (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
TSAN_SUITES=${TSAN_SUITES:-client client_openssl crypto_backends faults transport encrypted_answers attestation_endpoints
  key_rotation replay transport_settings concurrency}
ASAN_SUITES=${ASAN_SUITES:-}
STEPS=${STEPS:-asan tsan fuzz}
JOBS=${JOBS:-$(nproc)}

start=$(date +%s)
timings=()
step_name=""
step_start=$start
step() {  # ends the current step (printing its duration) and starts the next
    local now
    now=$(date +%s)
    if [ -n "$step_name" ]; then
        echo "-- $step_name: $((now - step_start)) s"
        timings+=("$(printf '%5d s  %s' $((now - step_start)) "$step_name")")
    fi
    step_name="$*"
    step_start=$now
    [ -n "$step_name" ] && { echo; echo "== $step_name (at $((now - start)) s)"; }
    return 0
}
summary() {
    step ""
    echo
    echo "== step timings"
    printf '%s\n' "${timings[@]}"
    echo "$(printf '%5d s' $(($(date +%s) - start)))  total"
}
trap 'rc=$?; [ $rc -ne 0 ] && { echo; echo "FAILED in step: $step_name"; summary; }; exit $rc' EXIT
wants() { [[ " $STEPS " == *" $1 "* ]]; }

# Configures (or reconfigures) build dir $1 with clang 14 and options $2...;
# a directory configured with another compiler is wiped first.
setup_clang() {
    local dir=$1; shift
    if [ -f "$dir/build.ninja" ] && ! grep -q 'clang++-14' "$dir/build.ninja"; then
        echo "$dir was configured with another compiler: wiping it"
        rm -rf "$dir"
    fi
    local opts=(-Dwerror=true "$@")  # warnings are errors in CI (not a default: users' builds)
    # Other options of this project that these builds do not need, when they exist.
    if grep -q "option('examples'" meson_options.txt && [[ " ${opts[*]} " == *" -Dtests=false "* ]]; then
        opts+=(-Dexamples=false)
    fi
    if [ -d "$dir/meson-private" ]; then
        CC=clang-14 CXX=clang++-14 meson setup --reconfigure "$dir" "${opts[@]}" >/dev/null
    else
        CC=clang-14 CXX=clang++-14 meson setup "$dir" "${opts[@]}" >/dev/null
    fi
}

step "toolchain: clang 14 with its sanitizer and libFuzzer runtimes"
.ci/toolchain.sh
if ! command -v meson >/dev/null || ! pkg-config --exists botan-2 || ! dpkg-query -W doctest-dev >/dev/null 2>&1; then
    tools/setup.sh
fi
clang++-14 --version | head -1

# The suites of build dir $1 named in $2 that exist there (`meson test --list`
# names them: project name, then suite); "" when $2 is empty (the whole suite).
existing_suites() {
    local dir=$1 wanted=$2 available s
    [ -n "$wanted" ] || return 0
    available=$(meson test -C "$dir" --no-rebuild --list 2>/dev/null | sed 's/.* \/ //')
    for s in $wanted; do
        if grep -qx "$s" <<<"$available"; then echo "$s"; else echo "no suite '$s' in $dir, skipped" >&2; fi
    done
}

if wants asan; then
    step "ASan+UBSan: build (build-asan${ASAN_SUITES:+: $ASAN_SUITES})"
    setup_clang build-asan -Db_sanitize=address,undefined -Db_lundef=false
    mapfile -t suites < <(existing_suites build-asan "$ASAN_SUITES")
    if [ -n "$ASAN_SUITES" ]; then
        [ ${#suites[@]} -gt 0 ] || { echo "ASan: none of the suites '$ASAN_SUITES' exist"; exit 1; }
        ninja -C build-asan -j "$JOBS" $(.ci/test_targets.py build-asan "${suites[@]}")
    else
        ninja -C build-asan -j "$JOBS"
    fi

    step "ASan+UBSan: ${suites[*]:-the whole test suite}"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C build-asan --no-rebuild --print-errorlogs --timeout-multiplier 3 "${suites[@]}"
fi

if wants tsan; then
    step "TSan: build (build-tsan)"
    setup_clang build-tsan -Db_sanitize=thread -Db_lundef=false
    mapfile -t suites < <(existing_suites build-tsan "$TSAN_SUITES")
    if [ ${#suites[@]} -gt 0 ]; then
        ninja -C build-tsan -j "$JOBS" $(.ci/test_targets.py build-tsan "${suites[@]}")

        step "TSan: ${suites[*]}"
        TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
            meson test -C build-tsan --no-rebuild --print-errorlogs --timeout-multiplier 3 "${suites[@]}"
    fi
fi

if wants fuzz; then
    step "fuzzers: build (build-fuzz)"
    setup_clang build-fuzz -Dfuzz=true -Dtests=false
    targets=()
    for f in fuzz/fuzz_*.cpp; do targets+=("$(basename "$f" .cpp)"); done
    ninja -C build-fuzz -j "$JOBS" $(printf 'fuzz/%s ' "${targets[@]}")

    crashed=()
    for t in "${targets[@]}"; do
        step "fuzz: $t for ${FUZZ_SECONDS} s"
        corpus=${t#fuzz_}
        dict=()
        case $corpus in
            cbor | nitro* | nova_attestation) dict=(-dict=fuzz/dict/cbor.dict) ;;
            answer | nova_answer | canonical_json | receipt | allowlist) dict=(-dict=fuzz/dict/json.dict) ;;
            known_enclaves) dict=(-dict=fuzz/dict/known_enclaves.dict) ;;
        esac
        work=$(mktemp -d)
        artifacts=build-fuzz/ci-artifacts/$t
        rm -rf "$artifacts"
        mkdir -p "$artifacts"
        cp fuzz/corpus/"$corpus"/* "$work"/
        if ! build-fuzz/fuzz/"$t" -max_total_time="$FUZZ_SECONDS" -timeout=25 -rss_limit_mb=2048 \
                -print_final_stats=1 "${dict[@]}" -artifact_prefix="$artifacts/" "$work" \
                >"$artifacts/log" 2>&1; then
            crashed+=("$t")
            tail -n 60 "$artifacts/log"
            echo "$t FAILED; inputs: $(ls "$artifacts" | grep -v '^log$' | tr '\n' ' ')"
        else
            grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' \
                "$artifacts/log" || true
        fi
        rm -rf "$work"
    done
    if [ ${#crashed[@]} -gt 0 ]; then
        echo "fuzzers that crashed: ${crashed[*]} (inputs and logs in build-fuzz/ci-artifacts/)"
        exit 1
    fi
fi

summary
trap - EXIT
