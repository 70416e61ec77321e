#!/usr/bin/env bash
# Installs the project into a scratch directory and builds a consumer against
# the installed headers with pkg-config only; then builds the same consumer
# with tee-client as a meson subproject. Both must run a verified demo chat.
set -euo pipefail
src=$1 build=$2
cxx=${CXX:-c++}
botan=${TEE_BOTAN:-auto}             # the Botan major version of this build (tests/meson.build)
outer_pkg_config_path=${PKG_CONFIG_PATH:-}  # finds that Botan
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

meson install -C "$build" --destdir "$tmp/root" --quiet --no-rebuild
pc=$(find "$tmp/root" -name tee-client.pc | head -n 1)
[ -n "$pc" ] || { echo "no tee-client.pc installed"; exit 1; }
[ -f "$(dirname "$pc")/../../../include/tee/tee.hpp" ] || [ -n "$(find "$tmp/root" -path '*include/tee/tee.hpp')" ] \
  || { echo "headers not installed"; exit 1; }
# point the staged .pc files at their staged prefix (what a real install needs no help for)
prefix=$(sed -n 's/^prefix=//p' "$pc")
[ -f "$(dirname "$pc")/tee-client-compiled.pc" ] || { echo "no tee-client-compiled.pc installed"; exit 1; }
sed -i "s|^prefix=.*|prefix=$tmp/root$prefix|" "$pc" "$(dirname "$pc")/tee-client-compiled.pc"
export PKG_CONFIG_PATH=$(dirname "$pc")${outer_pkg_config_path:+:$outer_pkg_config_path}
flags=$(pkg-config --cflags --libs tee-client)
echo "pkg-config tee-client: $flags"
if [ "$botan" != auto ]; then
  pkg-config --print-requires tee-client | grep -q "^botan-$botan " || { echo "tee-client.pc does not require botan-$botan"; exit 1; }
fi
case "$flags" in *"$src/include"*) echo "flags point into the source tree"; exit 1;; esac
# shellcheck disable=SC2086
$cxx "$src/tests/consumer/installed_demo.cpp" -o "$tmp/installed_demo" $flags -Wall -Wextra -Wpedantic -Werror
"$tmp/installed_demo"
# the opt-in compiled mode, installed: the macro and the library come from its .pc
cflags=$(pkg-config --cflags tee-client-compiled) libs=$(pkg-config --libs tee-client-compiled)
echo "pkg-config tee-client-compiled: $cflags $libs"
case "$cflags" in *-DTEE_CLIENT_COMPILED_LIB*) ;; *) echo "tee-client-compiled.pc lacks -DTEE_CLIENT_COMPILED_LIB"; exit 1;; esac
# A sanitizer build installs an instrumented library, which only links with
# that compiler's sanitizer runtime: its consumer is linked in the plain build.
sanitize=$(meson introspect "$build" --buildoptions |
  /usr/bin/python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "b_sanitize"))')
if [ "$sanitize" = none ]; then
  # shellcheck disable=SC2086
  $cxx "$src/tests/consumer/installed_demo.cpp" -o "$tmp/installed_compiled_demo" $cflags $libs -Wall -Wextra -Wpedantic -Werror
  "$tmp/installed_compiled_demo" --compiled
else
  echo "installed compiled consumer: not linked in this b_sanitize=$sanitize build (the plain build links it)"
fi

mkdir -p "$tmp/sub/subprojects"
ln -s "$src" "$tmp/sub/subprojects/tee-client"
cp "$src/tests/consumer/installed_demo.cpp" "$tmp/sub/main.cpp"
cat > "$tmp/sub/meson.build" <<MESON
project('consumer', 'cpp', default_options : ['cpp_std=c++20'])
tee = dependency('tee-client', fallback : 'tee-client', default_options : ['tests=false', 'examples=false', 'botan=$botan'])
executable('consumer', 'main.cpp', dependencies : tee)
tee_compiled = dependency('tee-client-compiled', fallback : 'tee-client', default_options : ['tests=false', 'examples=false', 'botan=$botan'])
executable('consumer_compiled', 'main.cpp', dependencies : tee_compiled)
MESON
export PKG_CONFIG_PATH=$outer_pkg_config_path  # not the staged install: the subproject is what is tested
meson setup "$tmp/sub/build" "$tmp/sub" --wrap-mode=forcefallback >/dev/null
ninja -C "$tmp/sub/build" >/dev/null
"$tmp/sub/build/consumer"
"$tmp/sub/build/consumer_compiled"
echo "install and subproject consumers: OK"
