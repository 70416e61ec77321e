#!/usr/bin/env bash
# .ci/botan.sh [--headers] VERSION - builds Botan VERSION (a static, minimized
# library with the modules tee-client uses) from
# ../shared/third_party/botan-VERSION.tar.xz and prints its install prefix
# (PKG_CONFIG_PATH=<prefix>/lib/pkgconfig finds botan-3.pc there).
#
# --headers: only configures that Botan (seconds) and installs its public
# headers, the generated build.h and botan-3.pc, without the library: enough to
# compile against that version's API (a link fails).
#
# The build is cached outside the clone, in $TEE_CI_CACHE (default
# /var/cache/tee-client-ci), keyed by the tarball's SHA-256: a machine builds
# each version once (about 3-5 minutes on 2 cores), later runs reuse it.
# Modules a version lacks (CPU-specific ones are named differently across
# releases) are left out; legacy_ec_point is never enabled, so Botan 3's
# deprecated PointGFp/EC_Point are absent from the library we test against.
set -euo pipefail
headers_only=""
if [ "${1:-}" = --headers ]; then headers_only=1; shift; fi
version=${1:?usage: .ci/botan.sh [--headers] VERSION}
here=$(cd "$(dirname "$0")/.." && pwd)
tarball=${TEE_THIRD_PARTY:-$here/../shared/third_party}/botan-$version.tar.xz
[ -f "$tarball" ] || { echo "no $tarball" >&2; exit 1; }
sha=$(sha256sum "$tarball" | cut -c1-16)
cache=${TEE_CI_CACHE:-/var/cache/tee-client-ci}
prefix=$cache/botan-$version-$sha${headers_only:+-headers}
if [ -f "$prefix/.complete" ]; then echo "$prefix"; exit 0; fi

modules=(
  ecdsa ecdh hkdf hmac hmac_drbg sha2_32 sha2_64 sha1 aes gcm x509 pem
  system_rng auto_rng chacha_rng
  pcurves_secp384r1 pcurves_secp256r1 pcurves_secp256k1   # P-384; P-256 in negative X.509 tests; secp256k1 for Nova
  keccak                                                  # Keccak-256 (Nova's EIP-191 signatures)
  aes_ni aes_vaes aes_vperm aes_armv8 ghash_cpu ghash_vperm ghash_avx512_clmul
  sha2_32_x86 sha2_32_bmi2 sha2_32_avx2 sha2_32_simd sha2_32_armv8
  sha2_64_x86 sha2_64_bmi2 sha2_64_avx2 sha2_64_avx512 sha2_64_armv8
  keccak_perm_bmi2 sha1_x86 sha1_sse2 sha1_simd
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xJf "$tarball" -C "$work"
src=$work/botan-$version
have=()
for m in "${modules[@]}"; do
  if find "$src/src/lib" -name info.txt -path "*/$m/info.txt" | grep -q .; then have+=("$m"); fi
done
enabled=$(IFS=,; echo "${have[*]}")
echo "${headers_only:+configuring (headers only) }building Botan $version into $prefix (modules: $enabled)" >&2
rm -rf "$prefix"
mkdir -p "$cache"
(
  cd "$src"
  python3 configure.py --minimized-build --build-targets=static --without-documentation \
    --enable-modules="$enabled" --prefix="$prefix" >&2
  if [ -n "$headers_only" ]; then
    major=${version%%.*}
    mkdir -p "$prefix/include/botan-$major" "$prefix/lib/pkgconfig"
    cp -rL build/include/public/botan "$prefix/include/botan-$major/"
    sed "s|^prefix=.*|prefix=$prefix|" "build/botan-$major.pc" >"$prefix/lib/pkgconfig/botan-$major.pc"
  else
    make -j"$(nproc)" >&2
    make install >&2
  fi
)
touch "$prefix/.complete"
echo "$prefix"
