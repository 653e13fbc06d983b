"""One Conveyor node for the ranks of a job on one machine (``torchrun --nproc_per_node N``).

The first rank's process to come starts ``conveyor feed --share SOCKET`` for every rank of the
job; the others attach to it through that Unix socket. Who starts it is settled by a lock that
leaves no file behind: an abstract Unix socket name (Linux), which one process at a time can
bind and which goes with the process. The job's key — what the node is asked to run, and the
launch it belongs to (the parent process, torchrun's agent, with ``TORCHELASTIC_RUN_ID`` and
``MASTER_ADDR:MASTER_PORT`` when set) — names both, so two jobs on one machine never share a node.
"""

import hashlib
import json
import os
import socket
import threading
import time
from typing import List, Optional

from ._node import LocalNode, NodeError


def launch_id() -> str:
    """What the ranks of one launch have in common: the process that started them (torchrun's agent),
    with torchrun's run id and rendezvous address when set (torchrun's run id is "none" unless given)."""
    parts = [f"parent:{os.getppid()}"]
    for name in ("TORCHELASTIC_RUN_ID", "MASTER_ADDR", "MASTER_PORT"):
        if os.environ.get(name):
            parts.append(f"{name}={os.environ[name]}")
    return ";".join(parts)


def job_key(args: List[str]) -> str:
    made_of = json.dumps([os.getuid(), launch_id(), args])
    return hashlib.sha256(made_of.encode()).hexdigest()[:24]


class _Lock:
    """A lock held while one rank starts the node: an abstract socket name only one process can bind."""

    def __init__(self, key: str, timeout: float):
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._sock.bind("\0conveyor-start-" + key)
                return
            except OSError:
                if time.monotonic() > deadline:
                    self._sock.close()
                    raise NodeError(f"another rank held the start of this job's shared node for {timeout:g} s")
                time.sleep(0.02)

    def release(self) -> None:
        self._sock.close()


class SharedNode:
    """This rank's attachment to the machine's shared node; starts the node when no rank has yet.

    ``pid`` is the node's process. ``check()`` raises once the node has failed (another rank's
    process went away) or is gone; ``failure`` is set as soon as the node says so.
    """

    def __init__(self, args: List[str], rank: int, ring_dir: str, start_timeout: float, home=None,
                 java_opts=None, echo=False):
        key = job_key(args)
        self.socket_path = os.path.join(ring_dir, f"conveyor-share-{key}.sock")
        self.rank = rank
        self.started: Optional[LocalNode] = None  # the node process, when this rank started it
        self.failure: Optional[str] = None
        self.pid = None
        self._ring = None
        self._closed = False
        self._done = False
        self._told = threading.Event()
        self._node_seen = threading.Event()
        lock = _Lock(key, start_timeout)
        try:
            self._sock = self._connect()
            if self._sock is None:
                self.started = LocalNode([*args, "--share", self.socket_path], home=home, java_opts=java_opts,
                                         echo=echo, announce="share: ")
                self.started.ring(start_timeout)  # listening
                self._sock = self._connect()
                if self._sock is None:
                    self.started.check()
                    raise NodeError(f"the shared node listens on {self.socket_path} but refuses connections")
        finally:
            lock.release()
        self._sock.sendall(f"attach {rank} {os.getpid()}\n".encode())
        self._lines = self._sock.makefile("r", encoding="utf-8")
        threading.Thread(target=self._read, daemon=True, name="conveyor-shared-node").start()
        if not self._node_seen.wait(30):
            raise NodeError(f"the shared node at {self.socket_path} did not answer rank {rank}")
        if self.failure is not None:
            raise NodeError(self.failure)

    def _connect(self) -> Optional[socket.socket]:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.socket_path)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            return None

    def _read(self) -> None:
        try:
            for line in self._lines:
                text = line.rstrip("\n")
                if text.startswith("node: "):
                    self.pid = json.loads(text[len("node: "):])["pid"]
                    self._node_seen.set()
                elif text.startswith("ring: ") and self._ring is None:
                    self._ring = json.loads(text[len("ring: "):])
                    self._told.set()
                elif text.startswith("failed: ") or text.startswith("refused: "):
                    self.failure = "the shared Conveyor node stopped: " + text.split(": ", 1)[1]
                    self._node_seen.set()
                    self._told.set()
        except (OSError, ValueError):
            pass  # the node went, or stop() closed the socket
        self._closed = True
        self._node_seen.set()
        self._told.set()

    def ring(self, timeout: float) -> dict:
        """The ring of this rank, once the node has made it (a dict with its path)."""
        deadline = time.monotonic() + timeout
        while not self._told.wait(0.1):
            if self.started is not None:
                self.started.check()
            if time.monotonic() > deadline:
                self.stop()
                raise NodeError(f"the shared Conveyor node made no ring for rank {self.rank} within {timeout:g} s")
        self.check()
        return self._ring

    def check(self) -> None:
        """Raises once the node has failed or gone."""
        if self.failure is not None:
            raise NodeError(self.failure)
        if self._closed and not self._done:
            if self.started is not None:
                self.started.check()
            raise NodeError(f"the shared Conveyor node (pid {self.pid}) closed rank {self.rank}'s connection: "
                            "it stopped or died")

    def done(self) -> None:
        """This rank's iteration ended: the node goes on for the others and ends with the job."""
        if not self._done:
            self._done = True
            try:
                self._sock.sendall(b"done\n")
            except OSError:
                pass  # the node has ended already

    def stop(self) -> None:
        """Detaches. Before ``done()``, the node takes it as this rank's leaving and stops every rank."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        if self.started is not None:
            if self._done:
                self.started.release()
            else:
                self.started.stop()
