#!/usr/bin/env python3
"""Prints the ninja targets (the programs) that the named meson tests run.

Usage: test_targets.py BUILD_DIR SUITE...  Several suites may share a program
(the end-to-end subjects run one program, filtered): each target once.
"""
import json
import os
import subprocess
import sys

build, wanted = os.path.abspath(sys.argv[1]), sys.argv[2:]
tests = json.loads(subprocess.run(["meson", "introspect", "--tests", build], capture_output=True, text=True,
                                  check=True).stdout)
targets = []
for t in tests:
    if t["name"] in wanted and t["cmd"] and t["cmd"][0].startswith(build + os.sep):
        target = os.path.relpath(t["cmd"][0], build)
        if target not in targets:
            targets.append(target)
print(" ".join(targets))
