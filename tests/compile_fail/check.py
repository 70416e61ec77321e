"""Compile-fail check: a policy missing a member must be refused by
tee::client<> with the concept's name in the first error.

  check.py SOURCE CONCEPT MEMBER INCLUDE_DIR -- COMPILER...

SOURCE is compiled twice with -fsyntax-only:
  * with -DTEE_CONTROL (the member present): must compile, warnings as errors,
    so that the failure below cannot come from anything else;
  * as is: must fail, and the diagnostics of its first error must name the
    concept (e.g. 'transport<Transport>' with GCC, 'transport' with Clang) and
    the missing member.
"""
import os, re, shlex, subprocess, sys

source, concept, member, include = sys.argv[1:5]
if sys.argv[5] != "--":
    sys.exit(__doc__)
compiler = sys.argv[6:]
deps = subprocess.run(["pkg-config", "--cflags", os.environ.get("TEE_BOTAN_PC", "botan-2"), "cpp-httplib", "nlohmann_json"],
                      capture_output=True, text=True, check=True).stdout.split()
base = compiler + ["-std=c++20", "-fsyntax-only", "-I" + include] + deps
env = dict(os.environ, LC_ALL="C")  # ASCII quotes in GCC's diagnostics

def compile(extra):
    cmd = base + extra + [source]
    print("$", shlex.join(cmd))
    return subprocess.run(cmd, capture_output=True, text=True, env=env)

control = compile(["-DTEE_CONTROL", "-Wall", "-Wextra", "-Wpedantic", "-Werror"])
if control.returncode != 0:
    sys.exit("the control build (member present) does not compile:\n" + control.stderr)

bad = compile([])
if bad.returncode == 0:
    sys.exit(f"compiled, but a policy missing {member} must not satisfy tee::{concept}")
errors = [m.start() for m in re.finditer(r"(?m)^.*\berror\b:", bad.stderr)]
if not errors:
    sys.exit("failed without an error diagnostic:\n" + bad.stderr)
first = bad.stderr[errors[0]:errors[1] if len(errors) > 1 else None]
named = re.search(r"'(tee::)?" + re.escape(concept) + r"(<[^']*>)?'|concept (tee::)?" + re.escape(concept) + "'", first)
if not named or member not in first:
    sys.exit(f"the first error does not name the concept '{concept}' and the member '{member}':\n" + bad.stderr)
print(f"refused as expected: {named.group(0)} not satisfied ({member} missing)")
