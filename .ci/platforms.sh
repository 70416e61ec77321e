#!/usr/bin/env bash
# .ci/platforms.sh - the builds of CI that differ from the main one in where
# the library runs, not in what it does (the main build, .ci/run, is g++ 12
# with --buildtype=release -Dwerror=true against Debian 12's packages, and
# its suite includes the CMake package test and the <tee/core.hpp>-only
# example compiled with a poisoned <httplib.h> and <linux/...>):
#
#   1. httplib: the transport, faults, client and protocol suites against
#      cpp-httplib 0.53.1 (header-only, from ../shared/third_party through
#      .ci/httplib.sh), where httplib's own total timeout and header limits
#      replace the watchdog's byte count;
#   2. portable: the transport and faults suites with TEE_PLATFORM_PORTABLE,
#      the POSIX path of tee/detail/platform.hpp that macOS and the BSDs take
#      (no TCP_INFO byte count), against Debian's cpp-httplib 0.11.4.
#
# Parameters (environment), so that other builds can share these:
#   STEPS                  some of: httplib portable (default: both)
#   HTTPLIB_VERSION        of ../shared/third_party/cpp-httplib-* (default 0.53.1)
#   EXTRA_PKG_CONFIG_PATH  put before the generated cpp-httplib.pc (e.g. a Botan 3 prefix)
#   EXTRA_MESON_OPTIONS    added to every `meson setup` (e.g. -Dbotan=3)
#   HTTPLIB_BUILD_DIR      (default build-httplib-$HTTPLIB_VERSION)
#   PORTABLE_BUILD_DIR     (default build-portable)
#   JOBS                   compile jobs (default: nproc)
# Idempotent: reuses and reconfigures the build directories.
set -euo pipefail
cd "$(dirname "$0")/.."

STEPS=${STEPS:-httplib portable}
HTTPLIB_VERSION=${HTTPLIB_VERSION:-0.53.1}
HTTPLIB_BUILD_DIR=${HTTPLIB_BUILD_DIR:-build-httplib-$HTTPLIB_VERSION}
PORTABLE_BUILD_DIR=${PORTABLE_BUILD_DIR:-build-portable}
JOBS=${JOBS:-$(nproc)}
read -r -a extra_options <<< "${EXTRA_MESON_OPTIONS:-}"

start=$(date +%s)
step() { echo; echo "== platforms: $* ($(( $(date +%s) - start )) s)"; }
wants() { [[ " $STEPS " == *" $1 "* ]]; }

# setup DIR OPTION...: configures (or reconfigures) a build dir of the test suites only.
setup() {
    local dir=$1; shift
    local opts=(-Dwerror=true -Dexamples=true -Dtests=true "$@" "${extra_options[@]}")
    if [ -d "$dir/meson-private" ]; then
        meson setup --reconfigure "$dir" "${opts[@]}" >/dev/null
    else
        meson setup "$dir" "${opts[@]}" >/dev/null
    fi
}

if wants httplib; then (  # a subshell: PKG_CONFIG_PATH for this build only (ninja may reconfigure)
    step "cpp-httplib $HTTPLIB_VERSION: build ($HTTPLIB_BUILD_DIR)"
    pc=$(.ci/httplib.sh "$HTTPLIB_VERSION")
    export PKG_CONFIG_PATH="${EXTRA_PKG_CONFIG_PATH:+$EXTRA_PKG_CONFIG_PATH:}$pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    setup "$HTTPLIB_BUILD_DIR"
    found=$(meson introspect "$HTTPLIB_BUILD_DIR" --dependencies |
        /usr/bin/python3 -c 'import json, sys; print(next(d["version"] for d in json.load(sys.stdin) if d["name"] == "cpp-httplib"))')
    [ "$found" = "$HTTPLIB_VERSION" ] || { echo "built against cpp-httplib $found, not $HTTPLIB_VERSION"; exit 1; }
    suites=(transport faults client encrypted_answers attestation_endpoints key_rotation replay transport_settings concurrency)
    ninja -C "$HTTPLIB_BUILD_DIR" -j "$JOBS" $(.ci/test_targets.py "$HTTPLIB_BUILD_DIR" "${suites[@]}")
    step "cpp-httplib $HTTPLIB_VERSION: ${suites[*]}"
    meson test -C "$HTTPLIB_BUILD_DIR" --no-rebuild --print-errorlogs "${suites[@]}"
) fi

if wants portable; then (
    step "portable POSIX path (TEE_PLATFORM_PORTABLE): build ($PORTABLE_BUILD_DIR)"
    if [ -n "${EXTRA_PKG_CONFIG_PATH:-}" ]; then
        export PKG_CONFIG_PATH="$EXTRA_PKG_CONFIG_PATH${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    fi
    setup "$PORTABLE_BUILD_DIR" -Dcpp_args=-DTEE_PLATFORM_PORTABLE
    suites=(transport faults)
    ninja -C "$PORTABLE_BUILD_DIR" -j "$JOBS" $(.ci/test_targets.py "$PORTABLE_BUILD_DIR" "${suites[@]}")
    step "portable POSIX path: ${suites[*]}"
    meson test -C "$PORTABLE_BUILD_DIR" --no-rebuild --print-errorlogs "${suites[@]}"
) fi

step "done"
