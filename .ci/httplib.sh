#!/usr/bin/env bash
# .ci/httplib.sh [VERSION] - makes a header-only cpp-httplib from
# ../shared/third_party (or $TEE_THIRD_PARTY) usable through pkg-config: copies
# httplib.h into a cache directory outside the clone and writes a
# cpp-httplib.pc for it (with OpenSSL, as Debian's package has it). Prints the
# directory to put first on PKG_CONFIG_PATH:
#
#   PKG_CONFIG_PATH=$(.ci/httplib.sh 0.53.1) meson setup build-httplib ...
#
# The cache is keyed by the header's hash; running again costs nothing.
set -euo pipefail
version=${1:-0.53.1}
root=$(cd "$(dirname "$0")/.." && pwd)
third_party=${TEE_THIRD_PARTY:-$root/../shared/third_party}
[ -d "$third_party" ] || third_party=/work/shared/third_party
header=$third_party/cpp-httplib-$version/httplib.h
[ -f "$header" ] || { echo "no $header" >&2; exit 1; }
hash=$(sha256sum "$header" | cut -c1-16)
cache=${TEE_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tee-client-ci}/cpp-httplib-$version-$hash
if [ ! -f "$cache/lib/pkgconfig/cpp-httplib.pc" ]; then
    mkdir -p "$cache/include" "$cache/lib/pkgconfig"
    cp "$header" "$cache/include/httplib.h"
    [ -f "$third_party/cpp-httplib-$version/LICENSE" ] && cp "$third_party/cpp-httplib-$version/LICENSE" "$cache/"
    cat > "$cache/lib/pkgconfig/cpp-httplib.pc.tmp" <<PC
prefix=$cache
includedir=\${prefix}/include

Name: cpp-httplib
Description: A C++ HTTP/HTTPS server and client library (header-only)
URL: https://github.com/yhirose/cpp-httplib
Version: $version
Requires: openssl >= 3.0
Libs: -pthread
Cflags: -I\${includedir} -DCPPHTTPLIB_OPENSSL_SUPPORT
PC
    mv "$cache/lib/pkgconfig/cpp-httplib.pc.tmp" "$cache/lib/pkgconfig/cpp-httplib.pc"
fi
echo "$cache/lib/pkgconfig"
