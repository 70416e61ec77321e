#!/usr/bin/env python3
"""TEE_CLIENT_COMPILED_LIB does what tee/detail/prelude.hpp and
include/tee/tee.hpp say: a file that includes the single header and uses
tee::client<> compiles none of the client's members when the macro is defined
(nm: chat() undefined, to be linked from src/tee_client.cpp), and all of them
without it; and of the headers' own functions it compiles none either, but for
implicitly defined destructors and members of class templates (the
definitions sections are not in the file).

usage: check_compiled_mode.py SOURCE_ROOT CXX"""
import os, re, shlex, subprocess, sys, tempfile

root, cxx = sys.argv[1], sys.argv[2]
flags = subprocess.run(["pkg-config", "--cflags", os.environ.get("TEE_BOTAN_PC", "botan-2"), "cpp-httplib", "nlohmann_json", "openssl"],
                       capture_output=True, text=True, check=True).stdout.split()
program = ('#include "tee/tee.hpp"\n'
           "int main() {\n"
           "    tee::client<> c(tee::config::from_env());\n"
           '    return c.chat("BTC price right now").response.empty() ? 1 : 0;\n'
           "}\n")
# Members of tee::client<...>: "T"/"W" defined in this object, "U" to be linked.
member = re.compile(r"^\s*(?:[0-9a-f]+\s+)?([TWU])\s+tee::client<[^(]*>::(\w+|~client)\(")
# Any function of namespace tee defined here: "T"/"W" and its demangled name.
tee_function = re.compile(r"^\s*(?:[0-9a-f]+\s+)?[TW]\s+((?:[\w:]+ )?tee::[^(]*)\(")

def client_members(defines):
    """-> {member name: symbol kinds}, at -O0 so that nothing is inlined away."""
    with tempfile.TemporaryDirectory() as d:
        src, obj = os.path.join(d, "app.cpp"), os.path.join(d, "app.o")
        open(src, "w").write(program)
        cmd = [cxx, "-std=c++20", "-O0", *defines, *flags, "-I", os.path.join(root, "single_include"), "-c", src, "-o", obj]
        subprocess.run(cmd, check=True)
        nm = subprocess.run(["nm", "-C", obj], capture_output=True, text=True, check=True).stdout
        found, defined = {}, set()
        for line in nm.splitlines():
            if m := member.match(line):
                found.setdefault(m.group(2), set()).add(m.group(1))
            if m := tee_function.match(line):
                defined.add(m.group(1))
        print(f"{shlex.join(defines) or '(header-only)'}: " +
              ", ".join(f"{name} {''.join(sorted(k))}" for name, k in sorted(found.items())))
        return found, defined

(header_only, header_only_defs), (compiled, compiled_defs) = client_members([]), client_members(["-DTEE_CLIENT_COMPILED_LIB"])
ok = True
# Functions of the headers' definitions sections that this program calls: compiled here header-only only.
for name in ("tee::config::from_env", "tee::nitro_attestation::nitro_attestation", "tee::cbor::decode",
             "tee::canonical_json", "tee::botan_crypto::ecdsa_p384_verify_der", "tee::httplib_transport::send"):
    if name not in header_only_defs:
        print(f"FAIL: header-only mode should compile {name}() into the file"); ok = False
    if name in compiled_defs:
        print(f"FAIL: with TEE_CLIENT_COMPILED_LIB {name}() is compiled here (its body should not be visible)"); ok = False
# Left in the compiled mode: implicit destructors, and members of class templates (zeroing_allocator<...>).
extra = sorted(n for n in compiled_defs if not re.search(r"::~\w+$", n) and "<" not in n)
print(f"with TEE_CLIENT_COMPILED_LIB, {len(compiled_defs)} tee functions compiled here; other than destructors "
      f"and template members: {extra or 'none'}")
if extra:
    print(f"FAIL: with TEE_CLIENT_COMPILED_LIB these functions of the headers are still compiled here: {extra}"); ok = False
for name in ("chat", "exchange", "establish", "client", "~client"):
    if not header_only.get(name, set()) & {"T", "W"}:
        print(f"FAIL: header-only mode should compile {name}() into the file"); ok = False
if "chat" not in compiled or compiled.get("chat") != {"U"}:
    print("FAIL: with TEE_CLIENT_COMPILED_LIB chat() must be referenced (U), to be linked"); ok = False
defined_here = sorted(name for name, kinds in compiled.items() if kinds & {"T", "W"})
if defined_here:
    print(f"FAIL: with TEE_CLIENT_COMPILED_LIB these members are still compiled here: {defined_here}"); ok = False
print("compiled mode: OK" if ok else "compiled mode: FAILED")
sys.exit(0 if ok else 1)
