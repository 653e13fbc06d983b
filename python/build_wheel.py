#!/usr/bin/python3
"""Builds the wheel that carries Conveyor's runnable jar: python/dist/conveyor-VERSION-py3-none-linux_x86_64.whl.

  build_wheel.py JAR [--out DIR]      (the Maven build runs it after packaging cli/target/conveyor.jar)

The package and the jar are staged in a temporary folder (the source tree is left as it is) and
built with Debian's python3-build and setuptools, offline (no build isolation). The wheel is
tagged linux_x86_64: the jar's native libraries (FFmpeg, the JPEG decoder, the AWS CRT) are.
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("jar")
    p.add_argument("--out", default=os.path.join(HERE, "dist"))
    a = p.parse_args()
    if not os.path.isfile(a.jar):
        sys.exit(f"build_wheel.py: no jar at {a.jar} (mvn -B package -pl cli -am makes it)")
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    for old in glob.glob(os.path.join(out, "conveyor-*.whl")):
        os.remove(old)
    with tempfile.TemporaryDirectory(prefix="conveyor-wheel-") as stage:
        shutil.copytree(os.path.join(HERE, "conveyor"), os.path.join(stage, "conveyor"),
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "_jar", "conveyor-cds-*"))
        shutil.copy(os.path.join(HERE, "pyproject.toml"), stage)
        shutil.copy(os.path.join(HERE, "README.md"), stage)
        os.makedirs(os.path.join(stage, "conveyor", "_jar"))
        shutil.copy(a.jar, os.path.join(stage, "conveyor", "_jar", "conveyor.jar"))
        subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", out,
                        "-C--build-option=--plat-name=linux_x86_64", stage],
                       check=True, stdout=subprocess.DEVNULL)
    wheels = glob.glob(os.path.join(out, "conveyor-*.whl"))
    if len(wheels) != 1:
        sys.exit(f"build_wheel.py: expected one wheel in {out}, found {wheels}")
    print(f"build_wheel.py: {wheels[0]} ({os.path.getsize(wheels[0]) / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
