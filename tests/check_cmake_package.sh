#!/usr/bin/env bash
# The CMake package: installs the project into a scratch directory (DESTDIR,
# so every path must come from the config file's own place), configures a CMake
# project with find_package(tee-client CONFIG REQUIRED) against it
# (tests/consumer/cmake), builds it with the imported targets
# tee-client::tee-client and tee-client::compiled, and has both chat with a
# mock_enclave: each answer's signature verified.
#   check_cmake_package.sh SOURCE_ROOT BUILD_ROOT MOCK_ENCLAVE CXX
set -euo pipefail
src=$1 build=$2 mock_enclave=$3 cxx=${4:-${CXX:-c++}}
tmp=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

meson install -C "$build" --destdir "$tmp/root" --quiet --no-rebuild
config=$(find "$tmp/root" -name tee-client-config.cmake | head -n 1)
[ -n "$config" ] || { echo "no tee-client-config.cmake installed"; exit 1; }
[ -f "$(dirname "$config")/tee-client-config-version.cmake" ] || { echo "no tee-client-config-version.cmake installed"; exit 1; }
echo "installed: ${config#"$tmp/root"}"
prefix=$(meson introspect "$build" --buildoptions |
  /usr/bin/python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
# relocatable: no absolute path of the install in it (it is found from the file's place)
if grep -q "$prefix/" "$config"; then echo "tee-client-config.cmake holds the absolute prefix $prefix"; exit 1; fi

sanitize=$(meson introspect "$build" --buildoptions |
  /usr/bin/python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "b_sanitize"))')
flags=()
[ "$sanitize" = none ] || flags=(-DCMAKE_CXX_FLAGS="-fsanitize=$sanitize" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=$sanitize")
cmake -S "$src/tests/consumer/cmake" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/root$prefix" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release -DCMAKE_COMPILE_WARNING_AS_ERROR=ON "${flags[@]}" >"$tmp/cmake.log" 2>&1 ||
  { cat "$tmp/cmake.log"; exit 1; }
cmake --build "$tmp/consumer" -j 2 >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
[ -x "$tmp/consumer/cmake_consumer_compiled" ] || { echo "tee-client::compiled was not defined (libtee-client-compiled.a installed?)"; exit 1; }

"$mock_enclave" --port 0 >"$tmp/enclave.log" 2>&1 &
server=$!
url=""
for _ in $(seq 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$tmp/enclave.log" | head -n 1 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "mock_enclave did not start:"; cat "$tmp/enclave.log"; exit 1; }
for program in cmake_consumer cmake_consumer_compiled; do
  out=$(PLATFORM_API_KEY=sk-cmake-consumer PLATFORM=openai MODEL=gpt-4 TEE_TLS_URL=$url \
        "$tmp/consumer/$program" "hello from CMake")
  echo "$out"
  grep -q "chat verified" <<<"$out" || { echo "$program: no verified chat"; exit 1; }
  grep -q "hello from CMake" <<<"$out" || { echo "$program: not the answer to its prompt"; exit 1; }
done
grep -q "(compiled)" <<<"$out" || { echo "cmake_consumer_compiled was built without TEE_CLIENT_COMPILED_LIB"; exit 1; }
echo "CMake package: find_package(tee-client), tee-client::tee-client and tee-client::compiled: OK"
