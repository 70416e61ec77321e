#!/usr/bin/env bash
# Installs the Debian 12 packages tee-client needs, then configures and builds
# the quick start's programs in ./build. Safe to run again. Needs root (or sudo) for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ pkg-config meson ninja-build             # toolchain
  libbotan-2-dev nlohmann-json3-dev libcpp-httplib-dev   # the library's dependencies
  doctest-dev python3 python3-cryptography python3-cbor2 # tests and the Python interop peers
  python3-pycryptodome                         # Keccak-256 for the Python Nova peer
  cmake                                        # the test of the installed CMake package
  clang-format-14                              # the test of the source layout (.clang-format)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# TEE_MESON_OPTIONS: extra `meson setup` options, e.g. CI's
# "--buildtype=release -Dwerror=true" (warnings are errors in CI, not for users).
read -r -a extra <<< "${TEE_MESON_OPTIONS:-}"
if [ -d build ]; then meson setup --reconfigure build "${extra[@]}" >/dev/null; else meson setup build "${extra[@]}" >/dev/null; fi
# What the quick start runs: the library's demo client and the simulated enclave.
# `meson test -C build` builds the test programs when it runs them.
ninja -C build examples/tee-chat examples/mock_enclave
