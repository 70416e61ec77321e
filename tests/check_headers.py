"""Every header of include/tee/ compiles on its own (includes what it uses),
with the project's warning flags, header-only and as the declarations that a
file sees in the compiled mode (-DTEE_CLIENT_COMPILED_LIB: tee/detail/prelude.hpp). Usage: check_headers.py INCLUDE_DIR -- CXX..."""
import os, subprocess, sys, tempfile

include = sys.argv[1]
cxx = sys.argv[sys.argv.index("--") + 1:]
flags = subprocess.run(["pkg-config", "--cflags", os.environ.get("TEE_BOTAN_PC", "botan-2"), "cpp-httplib", "openssl"],
                       capture_output=True, text=True, check=True).stdout.split()
flags = [f.replace("-I", "-isystem", 1) if f.startswith("-I") else f for f in flags]
headers = sorted(os.path.relpath(os.path.join(d, f), include)
                 for d, _, files in os.walk(os.path.join(include, "tee")) for f in files if f.endswith(".hpp"))
failed = []
with tempfile.TemporaryDirectory() as tmp:
    for h in headers:
        src = os.path.join(tmp, "one.cpp")
        with open(src, "w") as f:
            f.write(f'#include "{h}"\n')
        for mode in ([], ["-DTEE_CLIENT_COMPILED_LIB"]):
            r = subprocess.run(cxx + ["-std=c++20", "-fsyntax-only", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
                                      *mode, "-I", include, *flags, src], capture_output=True, text=True)
            print(("ok   " if r.returncode == 0 else "FAIL ") + h + (" (declarations only)" if mode else ""))
            if r.returncode != 0:
                failed.append(h + (" (declarations only)" if mode else ""))
                print(r.stderr[:2000])
if failed:
    sys.exit(f"{len(failed)} header(s) do not compile on their own: {', '.join(failed)}")
