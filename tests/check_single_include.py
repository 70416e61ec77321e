"""single_include/tee/tee.hpp must be exactly what tools/amalgamate.py generates now."""
import os, subprocess, sys, tempfile

root = sys.argv[1]
with tempfile.TemporaryDirectory() as tmp:
    fresh = os.path.join(tmp, "tee.hpp")
    subprocess.run([sys.executable, os.path.join(root, "tools", "amalgamate.py"), "--output", fresh], check=True)
    a = open(fresh, "rb").read()
    b = open(os.path.join(root, "single_include", "tee", "tee.hpp"), "rb").read()
    if a != b:
        sys.exit("single_include/tee/tee.hpp is stale: run tools/amalgamate.py --output single_include/tee/tee.hpp")
    again = os.path.join(tmp, "again.hpp")
    subprocess.run([sys.executable, os.path.join(root, "tools", "amalgamate.py"), "--output", again], check=True)
    if open(again, "rb").read() != a:
        sys.exit("tools/amalgamate.py is not deterministic")
print("single_include/tee/tee.hpp is fresh (%d bytes)" % len(a))
