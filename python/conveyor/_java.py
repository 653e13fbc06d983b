"""How a Conveyor node process is started: which ``java``, which jar, which JVM options, which class-data archive.

The jar is the one this package carries (an installed wheel), else the one a Conveyor checkout
builds (``$CONVEYOR_HOME``, or the checkout this package sits in; ``bin/conveyor`` rebuilds it
when its sources changed). ``java`` is ``$JAVA_HOME/bin/java``, else the first on ``PATH``.

Start-up is most of what a short job pays, so a node starts with a class-data sharing archive
(JDK 17's dynamic CDS): the first node dumps the classes it loaded at its exit, the next ones map
them instead of loading them again (0.3-0.5 s less before the first batch). An archive is named
after what it was made from — the jar's path, size and modification time, the ``java`` binary,
the options — so a rebuilt jar (or another JDK) is never handed an archive of the old one: it
gets a new archive, and the old jar's are removed. It lies beside the jar when that folder can be
written, else in ``$XDG_CACHE_HOME/conveyor`` (``~/.cache/conveyor``).
"""

import glob
import hashlib
import os
import shlex
import shutil
import subprocess
from typing import List, Optional, Tuple

# The node's JVM: C1 only, since the hot loop is native decoding and a data job is short next to
# the C2 compiler's warm-up (a whole epoch at 1 core: 811 -> 1,518 images/s); a 1 GiB heap, whose
# young generation G1 keeps small enough to reuse its pages (a larger one faulted in fresh memory:
# 1.1-1.8 s of system time per epoch against 0.6). CONVEYOR_JAVA_OPTS and java_opts come after
# these, so they override them (e.g. -Xmx4g for batches of long clips).
NODE_OPTS = ["-XX:+UseG1GC", "-XX:G1HeapRegionSize=32m", "-XX:TieredStopAtLevel=1", "-Xmx1g", "-Xss1m"]
# The CLI's JVM, as bin/conveyor starts it: G1 with regions that keep decoded clips out of humongous allocation.
CLI_OPTS = NODE_OPTS[:2]
_PREFIX = "conveyor-cds-"


class JavaNotFound(RuntimeError):
    """No ``java`` (17 or newer) to run a Conveyor node with."""


def bundled_jar() -> Optional[str]:
    """The jar inside this package (a wheel carries it), or None in a checkout."""
    jar = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_jar", "conveyor.jar")
    return jar if os.path.isfile(jar) else None


def checkout(explicit: Optional[str] = None) -> Optional[str]:
    """The Conveyor checkout: ``explicit``, ``$CONVEYOR_HOME``, or the repository this package is in."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for home in (explicit, os.environ.get("CONVEYOR_HOME"), here):
        if home and os.access(os.path.join(home, "bin", "conveyor"), os.X_OK):
            return home
    return None


def java_binary() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "java"), os.X_OK):
        return os.path.join(home, "bin", "java")
    found = shutil.which("java")
    if found is None:
        raise JavaNotFound("Conveyor runs its node on Java 17 or newer: no `java` on PATH and JAVA_HOME is not set "
                           "(Debian: apt-get install openjdk-17-jre-headless)")
    return found


def jar(home: Optional[str] = None) -> str:
    """The runnable jar: the bundled one, else the checkout's (built first when missing or stale)."""
    if home is None:
        inside = bundled_jar()
        if inside is not None:
            return inside
    root = checkout(home)
    if root is None:
        raise JavaNotFound("cannot find Conveyor's jar: install the wheel (python/dist/conveyor-*.whl, made by "
                           "`mvn -B package`), or set CONVEYOR_HOME to a checkout holding bin/conveyor")
    env = dict(os.environ, CONVEYOR_BUILD_ONLY="1")
    p = subprocess.run([os.path.join(root, "bin", "conveyor")], env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise JavaNotFound(f"building Conveyor's jar in {root} failed:\n{p.stderr[-4000:]}")
    return os.path.join(root, "cli", "target", "conveyor.jar")


def _archive_dir(jar_path: str) -> str:
    folder = os.path.dirname(jar_path)
    if os.access(folder, os.W_OK):
        return folder
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "conveyor")
    os.makedirs(cache, exist_ok=True)
    return cache


def archive_for(jar_path: str, java: str, opts: List[str]) -> str:
    """The class-data archive's path for this jar, ``java`` and options (it may not exist yet).

    Its name is ``conveyor-cds-JAR-OPTS.jsa``: JAR stands for the jar and the JDK (path, size and
    modification time of each), OPTS for the options, so nodes started with other options keep
    archives of their own beside it, and a rebuilt jar's archives are told apart from the old ones.
    """
    st = os.stat(jar_path)
    real_java = os.path.realpath(java)
    made_of = "\0".join([os.path.realpath(jar_path), str(st.st_size), str(st.st_mtime_ns), real_java,
                         str(os.stat(real_java).st_mtime_ns)])
    jar_key = hashlib.sha256(made_of.encode()).hexdigest()[:16]
    opts_key = hashlib.sha256("\0".join(opts).encode()).hexdigest()[:8]
    return os.path.join(_archive_dir(jar_path), f"{_PREFIX}{jar_key}-{opts_key}.jsa")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep(archive: str) -> None:
    """Removes the folder's archives of other jars or JDKs, and half-written ones of processes now gone."""
    folder = os.path.dirname(archive)
    jar_key = os.path.basename(archive)[len(_PREFIX):].split("-")[0]
    for other in glob.glob(os.path.join(folder, _PREFIX + "*.jsa*")):
        if other == archive:
            continue
        if other.endswith(".tmp"):
            pid = other.rsplit(".", 3)[-3]
            if pid.isdigit() and _alive(int(pid)):
                continue  # being written by a node still running
        elif os.path.basename(other)[len(_PREFIX):].split("-")[0] == jar_key:
            continue  # the same jar's archive for other options
        try:
            os.remove(other)
        except OSError:
            pass  # another process removed it first, or the folder is shared read-only


def command(args: List[str], home: Optional[str] = None,
            java_opts: Optional[str] = None) -> Tuple[List[str], Optional[Tuple[str, str]]]:
    """The command line of ``conveyor ARGS`` as a node process, and (written, final) class-data archive
    paths when this process dumps the archive at its exit (None when it uses one, or CONVEYOR_CDS=0).

    The dump is written to ``written`` (a name of this start's own) and must be moved to ``final``
    by :func:`archive_done` once the process has exited.
    """
    java = java_binary()
    jar_path = jar(home)
    user = shlex.split(java_opts if java_opts is not None else os.environ.get("CONVEYOR_JAVA_OPTS", ""))
    opts = NODE_OPTS + user
    dump = None
    if os.environ.get("CONVEYOR_CDS", "1") != "0":
        archive = archive_for(jar_path, java, opts)
        if os.path.isfile(archive):
            opts = opts + [f"-XX:SharedArchiveFile={archive}"]
        else:
            _sweep(archive)
            written = f"{archive}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
            opts = opts + [f"-XX:ArchiveClassesAtExit={written}"]
            dump = (written, archive)
    return [java, *opts, "-jar", jar_path, *args], dump


def archive_done(dump: Optional[Tuple[str, str]]) -> None:
    """Moves a node's class-data dump into place once the node has exited (a failed dump is dropped)."""
    if dump is None:
        return
    written, final = dump
    try:
        if os.path.getsize(written) > 0:
            os.replace(written, final)
        else:
            os.remove(written)
    except OSError:
        pass  # not written (the node was killed before its exit): the next node dumps one
