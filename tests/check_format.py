#!/usr/bin/env python3
"""Checks that the tree's C++ files are as .clang-format lays them out.

Usage: check_format.py ROOT. Runs clang-format 14 (the version whose layout the
tree is in: another version lays some lines out differently) with --dry-run
--Werror over the C++ files git tracks, except the generated single header.
Skipped (exit 77) where clang-format-14 or git is not installed, or ROOT is not
a git checkout. To lay a file out: clang-format-14 -i FILE.
"""
import shutil
import subprocess
import sys

root = sys.argv[1]
tool = shutil.which("clang-format-14")
if not tool or not shutil.which("git"):
    print("skipped: clang-format-14 or git not installed")
    sys.exit(77)
listed = subprocess.run(["git", "-C", root, "ls-files", "*.hpp", "*.cpp", "*.h"], capture_output=True, text=True)
if listed.returncode != 0:
    print("skipped: not a git checkout")
    sys.exit(77)
files = [f for f in listed.stdout.split() if not f.startswith("single_include/")]
bad = []
for f in files:
    r = subprocess.run([tool, "--dry-run", "--Werror", f], cwd=root, capture_output=True, text=True)
    if r.returncode != 0:
        bad.append(f)
        print(r.stderr[:2000], end="")
print(f"{len(files)} files checked, {len(bad)} not laid out by .clang-format: {' '.join(bad)}")
sys.exit(1 if bad else 0)
