"""Runs an example program and checks that it succeeds and prints what it
promises: run_example.py PROGRAM [--arg A]... [--expect TEXT]... [--forbid TEXT]...
(--expect: must appear in stdout; --forbid: must appear in neither stream)."""
import argparse, subprocess, sys

ap = argparse.ArgumentParser()
ap.add_argument("program")
ap.add_argument("--arg", action="append", default=[])
ap.add_argument("--expect", action="append", default=[])
ap.add_argument("--expect-stderr", action="append", default=[])
ap.add_argument("--forbid", action="append", default=[])
a = ap.parse_args()

r = subprocess.run([a.program] + a.arg, capture_output=True, text=True, timeout=120)
sys.stdout.write(r.stdout)
sys.stderr.write(r.stderr)
problems = []
if r.returncode != 0:
    problems.append(f"exit code {r.returncode}")
problems += [f"stdout lacks {t!r}" for t in a.expect if t not in r.stdout]
problems += [f"stderr lacks {t!r}" for t in a.expect_stderr if t not in r.stderr]
problems += [f"output contains {t!r}" for t in a.forbid if t in r.stdout + r.stderr]
if problems:
    sys.exit("FAILED: " + "; ".join(problems))
print("OK")
