"""A Conveyor node process started for one trainer: ``conveyor feed``, a child of this process."""

import atexit
import collections
import json
import os
import signal
import subprocess
import sys
import threading
import time
import weakref


class NodeError(RuntimeError):
    """The Conveyor node feeding this trainer failed or went away."""


_EXIT_USAGE = 2
_live = weakref.WeakSet()


@atexit.register
def _stop_all():
    """At interpreter exit: stops every node still running for this process."""
    for child in list(_live):
        child.stop()


def conveyor_home(explicit=None):
    """The Conveyor checkout or installation: ``explicit``, ``$CONVEYOR_HOME``, or the repository this package is in."""
    candidates = [explicit, os.environ.get("CONVEYOR_HOME"),
                  os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))]
    for home in candidates:
        if home and os.access(os.path.join(home, "bin", "conveyor"), os.X_OK):
            return home
    raise NodeError("cannot find Conveyor: set CONVEYOR_HOME to the folder holding bin/conveyor "
                    "(this package is not inside a Conveyor checkout), or pass node='HOST:PORT'")


class LocalNode:
    """``bin/conveyor feed ARGS`` as a child process.

    Its standard input is a pipe this process holds: when this process ends, even by SIGKILL,
    the kernel closes it and the child stops at once. Its standard error is kept (the last 200
    lines, for error messages) and echoed when ``echo`` is true.
    """

    def __init__(self, args, home=None, java_opts=None, echo=False):
        home = conveyor_home(home)
        env = dict(os.environ)
        if java_opts is not None:
            env["CONVEYOR_JAVA_OPTS"] = java_opts
        self.command = [os.path.join(home, "bin", "conveyor"), "feed"] + list(args)
        self._proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, env=env, start_new_session=True)
        self.pid = self._proc.pid
        self._err = collections.deque(maxlen=200)
        self._out = collections.deque(maxlen=200)
        self._ring = None
        self._ring_seen = threading.Event()
        self._echo = echo
        threading.Thread(target=self._drain_err, daemon=True, name="conveyor-node-stderr").start()
        threading.Thread(target=self._drain_out, daemon=True, name="conveyor-node-stdout").start()
        _live.add(self)

    def _drain_err(self):
        with self._proc.stderr as err:  # closed once the node has ended it
            for line in err:
                text = line.decode("utf-8", "replace").rstrip("\n")
                self._err.append(text)
                if self._echo:
                    print(text, file=sys.stderr, flush=True)

    def _drain_out(self):
        with self._proc.stdout as out:
            for line in out:
                text = line.decode("utf-8", "replace").rstrip("\n")
                if text.startswith("ring: ") and self._ring is None:
                    self._ring = json.loads(text[len("ring: "):])
                    self._ring_seen.set()
                else:
                    self._out.append(text)
        self._ring_seen.set()  # the output ended: no ring will come

    def ring(self, timeout):
        """The ring the node announced (a dict with its path), waiting at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self._ring_seen.wait(0.1):
            if time.monotonic() > deadline:
                self.stop()
                raise NodeError(f"the Conveyor node announced no ring within {timeout:g} s{self._tail()}")
        if self._ring is None:
            code = self._proc.wait(timeout=10)
            self._raise_exit(code)
        return self._ring

    def check(self):
        """Raises if the node has exited (called while waiting for a batch)."""
        code = self._proc.poll()
        if code is not None:
            self._raise_exit(code)

    def _raise_exit(self, code):
        if code == _EXIT_USAGE:
            lines = [line for line in self._err if line.strip()]
            raise ValueError(lines[-1] if lines else "bad arguments (exit code 2)")
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
        raise NodeError(f"the Conveyor node (pid {self.pid}) {how}{self._tail()}")

    def _tail(self):
        lines = [line for line in self._err if line.strip()][-8:]
        return (": its last lines:\n  " + "\n  ".join(lines)) if lines else ""

    def output(self):
        """What the node printed on stdout besides the ring (its summary and final cursor, once it ended)."""
        return list(self._out)

    def wait(self, timeout):
        """Waits for the node to exit by itself; its exit code, or None if it still runs."""
        try:
            return self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        """Stops the node: closes its pipe (it exits at once), and kills it if it has not within 5 s."""
        _live.discard(self)
        try:
            self._proc.stdin.close()
        except OSError:
            pass  # the node is gone already: its end of the pipe is closed
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
