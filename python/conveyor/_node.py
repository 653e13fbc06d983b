"""A Conveyor node process started for one trainer: ``conveyor feed``, a child of this process."""

import atexit
import collections
import json
import signal
import subprocess
import sys
import threading
import time
import weakref

from . import _java


class NodeError(RuntimeError):
    """The Conveyor node feeding this trainer failed or went away."""


_EXIT_USAGE = 2
_live = weakref.WeakSet()


@atexit.register
def _stop_all():
    """At interpreter exit: stops every node still running for this process."""
    for child in list(_live):
        child.stop()


class LocalNode:
    """``conveyor feed ARGS`` as a child process (``java -jar conveyor.jar feed ...``, see ``_java``).

    Its standard input is a pipe this process holds: when this process ends, even by SIGKILL,
    the kernel closes it and the child stops at once. Its standard error is kept (the last 200
    lines, for error messages) and echoed when ``echo`` is true. ``announce`` is the prefix of the
    stdout line the node says it is ready with (``ring: {...}`` for one rank, ``share: {...}`` for
    a node shared by the machine's ranks).
    """

    def __init__(self, args, home=None, java_opts=None, echo=False, announce="ring: "):
        try:
            self.command, self._dump = _java.command(["feed", *args], home=home, java_opts=java_opts)
        except _java.JavaNotFound as e:
            raise NodeError(str(e)) from None
        self._proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, start_new_session=True)
        self.pid = self._proc.pid
        self._err = collections.deque(maxlen=200)
        self._out = collections.deque(maxlen=200)
        self._prefix = announce
        self._ring = None
        self._ring_seen = threading.Event()
        self._released = False
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
                if text.startswith(self._prefix) and self._ring is None:
                    self._ring = json.loads(text[len(self._prefix):])
                    self._ring_seen.set()
                else:
                    self._out.append(text)
        self._ring_seen.set()  # the output ended: no ring will come

    def ring(self, timeout):
        """What the node announced (for one rank, a dict with its ring's path), waiting at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self._ring_seen.wait(0.1):
            if time.monotonic() > deadline:
                self.stop()
                raise NodeError(f"the Conveyor node announced no ring within {timeout:g} s{self._tail()}")
        if self._ring is None:
            code = self._proc.wait(timeout=10)
            self._reaped()
            self._raise_exit(code)
        return self._ring

    def check(self):
        """Raises if the node has exited (called while waiting for a batch)."""
        code = self._proc.poll()
        if code is not None:
            self._reaped()
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
            code = self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._reaped()
        return code

    def _reaped(self):
        """The node has exited: the class-data archive it dumped (its first start) goes into place."""
        dump, self._dump = self._dump, None
        _java.archive_done(dump)

    def release(self):
        """Lets go of a node that serves other ranks too: closes the pipe without waiting or killing.

        The node goes on for the others (this rank told it it is done) and ends with the job.
        """
        _live.discard(self)
        self._released = True
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        if self._dump is not None:  # its class-data archive goes into place when it ends, if this process is still here
            threading.Thread(target=self.wait, args=(None,), daemon=True, name="conveyor-node-reaper").start()

    def stop(self):
        """Stops the node: closes its pipe (it exits at once), and kills it if it has not within 5 s."""
        if self._released:
            return
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
        self._reaped()
