"""A trainer attached to a running trainer-host node of a cluster (``Loader(node="HOST:PORT")``)."""

import http.client
import json
import os
import threading
import time

from ._node import NodeError

_SILENCE = 10.0  # the node sends a line every 2 s; this long without one, it is gone


class AttachedNode:
    """Holds ``GET /trainer?rank=R`` open on the node's HTTP server: the node announces the ring on it.

    The connection is the attachment: while it is open the node feeds this rank through a ring
    when a job runs the rank there; when it closes (this process ends or ``stop()``), the node
    detaches it. The node must run on this machine: the ring is a file in its shared memory.
    """

    def __init__(self, address, rank):
        host, _, port = address.rpartition(":")
        try:
            port = int(port)
        except ValueError:
            raise ValueError(f"node: 'HOST:PORT' of a trainer-host node's HTTP server, got {address!r}") from None
        self.address = address
        self.pid = None
        self._conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            token = os.environ.get("CONVEYOR_HTTP_TOKEN", "")
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            self._conn.request("GET", f"/trainer?rank={rank}", headers=headers)
            response = self._conn.getresponse()
        except OSError as e:
            raise NodeError(f"cannot attach to the node at {address}: {e}") from e
        if response.status == 401:
            self._conn.close()
            raise NodeError(f"the node at {address} requires its HTTP token: export CONVEYOR_HTTP_TOKEN "
                            "(the node's conveyor.node.http.token) in the trainer's environment"
                            + (" (the one exported is not it)" if os.environ.get("CONVEYOR_HTTP_TOKEN") else ""))
        if response.status != 200:
            body = response.read().decode("utf-8", "replace").strip()
            self._conn.close()
            raise NodeError(f"the node at {address} refused rank {rank}: {response.status} {body}")
        self._conn.sock.settimeout(None)
        self._response = response
        self._ring = None
        self._closed = False
        self._last_line = time.monotonic()
        self._announced = threading.Event()
        threading.Thread(target=self._read, daemon=True, name="conveyor-node-attach").start()

    def _read(self):
        try:
            while True:
                line = self._response.readline()
                if not line:
                    break
                self._last_line = time.monotonic()
                text = line.decode("utf-8", "replace").strip()
                if text.startswith("ring: ") and self._ring is None:
                    self._ring = json.loads(text[len("ring: "):])
                    self._announced.set()
        except (OSError, ValueError, http.client.HTTPException, AttributeError):
            pass  # the node went, or stop() closed the connection under this read (http.client then trips on its own None)
        self._closed = True
        self._announced.set()

    def ring(self, timeout):
        """The ring the node announces once a job runs this rank there, waiting at most ``timeout`` seconds."""
        if not self._announced.wait(timeout):
            self.stop()
            raise NodeError(f"no job ran this rank on the node at {self.address} within {timeout:g} s "
                            "(submit it with `conveyor run JOB.conf --cluster HOST:PORT`)")
        if self._ring is None:
            raise NodeError(f"the node at {self.address} closed the trainer's connection before a job came")
        return self._ring

    def check(self):
        """Raises once the node has gone (its connection closed, or silent for 10 s)."""
        if self._closed:
            raise NodeError(f"the node at {self.address} closed the trainer's connection: it stopped or died")
        if time.monotonic() - self._last_line > _SILENCE:
            raise NodeError(f"the node at {self.address} has sent nothing for {_SILENCE:g} s: it is gone")

    def stop(self):
        """Detaches: closes the connection (the node stops feeding this rank)."""
        self._closed = True
        try:
            self._conn.sock and self._conn.sock.shutdown(2)
        except OSError:
            pass
        self._conn.close()
