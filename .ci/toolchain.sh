#!/usr/bin/env bash
# Installs what the CI builds beyond tools/setup.sh's packages: clang 14 with
# its sanitizer and libFuzzer runtimes (the ASan/UBSan/TSan builds, the
# fuzzers) and make and xz-utils (.ci/botan.sh builds Botan 3 from its
# tarball). Does nothing where they are installed. Needs root (or sudo).
set -euo pipefail
packages=(clang-14 libclang-rt-14-dev llvm-14 make xz-utils)
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
