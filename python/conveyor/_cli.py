"""The ``conveyor`` console command a wheel installs: the bundled CLI (``java -jar conveyor.jar ARGS``).

It runs with the JVM options ``bin/conveyor`` uses (and ``$CONVEYOR_JAVA_OPTS`` after them);
signals and the exit code pass through, since ``java`` replaces this process.
"""

import os
import shlex
import sys

from . import _java


def main() -> None:
    try:
        java, jar = _java.java_binary(), _java.jar()
    except _java.JavaNotFound as e:
        print(f"conveyor: {e}", file=sys.stderr)
        sys.exit(1)
    opts = _java.CLI_OPTS + shlex.split(os.environ.get("CONVEYOR_JAVA_OPTS", ""))
    os.execv(java, [java, *opts, "-jar", jar, *sys.argv[1:]])


if __name__ == "__main__":
    main()
