"""The README's usage example must be examples/readme_example.cpp verbatim
(which meson builds), and running it against a simulated Nitro enclave must
fail closed: the default policy trusts only the AWS root."""
import os, re, subprocess, sys, time

root, example_bin, mock_enclave = sys.argv[1], sys.argv[2], sys.argv[3]
readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
block = re.search(r"```cpp\n(#include <tee/tee.hpp>.*?)```", readme, re.S).group(1)
source = open(os.path.join(root, "examples", "readme_example.cpp"), encoding="utf-8").read()
body = source.split("\n", 1)[1]  # after the first comment line
if block != body:
    sys.exit("README usage example differs from examples/readme_example.cpp")
if len(block.strip().splitlines()) > 17:
    sys.exit("README usage example is longer than 16 lines of code")

server = subprocess.Popen([mock_enclave, "--nitro", "--port", "0"], stdout=subprocess.PIPE, text=True)
try:
    line = server.stdout.readline()
    url = re.search(r"(http://127\.0\.0\.1:\d+)", line).group(1)
    env = dict(os.environ, PLATFORM_API_KEY="sk-readme-test", PLATFORM="openai", MODEL="gpt-4", TEE_TLS_URL=url)
    for i in range(3):
        env.pop(f"ENCLAVE_PCR{i}", None)
    r = subprocess.run([example_bin, "hello"], env=env, capture_output=True, text=True, timeout=60)
    if r.returncode != 1 or "attestation error" not in r.stderr:
        sys.exit(f"expected the AWS-rooted default to refuse the test enclave, got rc={r.returncode} {r.stderr!r}")
    if "sk-readme-test" in r.stdout + r.stderr:
        sys.exit("the API key appeared in the output")
    print("README example matches and fails closed:", r.stderr.strip())
finally:
    server.terminate()
    server.wait(timeout=10)
