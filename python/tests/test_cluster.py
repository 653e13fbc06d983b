"""Loader(node=...): a trainer attached to a running node of a cluster, fed by the job `conveyor run --cluster` submits."""

import http.server
import json
import signal
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

import conveyor
from conveyor._attach import AttachedNode
from conftest import CONVEYOR, raises_within, reference


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def node():
    port, http = free_port(), free_port()
    p = subprocess.Popen([CONVEYOR, "node", "--set", f"conveyor.node.port={port}",
                          "--set", f'conveyor.node.seed-nodes=["127.0.0.1:{port}"]',
                          "--set", f"conveyor.node.http.port={http}"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = p.stdout.readline()
        assert " up, " in line, line
        yield p, port, http
    finally:
        p.kill()
        p.wait()


def attached(http, rank, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{http}/status") as r:
            if rank in json.load(r)["trainersAttached"]:
                return
        time.sleep(0.1)
    raise AssertionError(f"rank {rank} never showed as attached")


def submit(port, http, rank, args):
    """Runs `conveyor run --cluster` once the trainer of ``rank`` is attached; its process."""
    attached(http, rank)
    return subprocess.Popen([CONVEYOR, "run", "--cluster", f"127.0.0.1:{port}", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_an_attached_trainer_gets_its_ranks_batches_from_the_clusters_job(node, images, tmp_path):
    _, port, http = node
    args = ["--shards", images, "--batch-size", "8", "--decode", "auto", "--world", "2", "--seed", "5"]
    digests, _ = reference(tmp_path, images, *args[2:])
    cluster_digests = tmp_path / "cluster-digests.txt"
    loader = conveyor.Loader(node=f"127.0.0.1:{http}", rank=1, world=2)
    run = {}
    t = threading.Thread(target=lambda: run.setdefault("p", submit(port, http, 1, args + [
        "--digest-out", str(cluster_digests)])))
    t.start()
    seen = [(b.epoch, b.step, *b.digest()) for b in loader]
    t.join()
    out, err = run["p"].communicate(timeout=120)
    assert run["p"].returncode == 0, out + err
    # the node's /metrics gives the stall the trainer's reader measured
    stall = loader.stats()["stall_s"]
    loader.close()
    with urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics") as r:
        metrics = r.read().decode()
    line = next(m for m in metrics.splitlines()
                if m.startswith("conveyor_feeder_stall_seconds_total") and 'rank="1"' in m)
    assert abs(float(line.split()[-1]) - stall) < 0.05 + 0.05 * stall, (line, stall)
    expected = [(int(e), int(s), b, k) for e, s, r, b, k in (line for line in digests) if r == "1"]
    assert seen == expected
    # the client's record: rank 1's batches from the ring, rank 0's from the node's stand-in trainer
    lines = [line.split() for line in cluster_digests.read_text().splitlines()]
    assert sorted(lines) == sorted(digests)


def test_the_trainer_of_a_killed_node_raises_within_5_s(node, images):
    p, port, http = node
    loader = conveyor.Loader(node=f"127.0.0.1:{http}", rank=0)
    run = {}
    t = threading.Thread(target=lambda: run.setdefault("p", submit(port, http, 0, [
        "--shards", images, "--batch-size", "8", "--decode", "auto", "--epochs", "50"])))
    t.start()
    it = iter(loader)
    next(it)
    t.join()
    p.send_signal(signal.SIGKILL)
    raises_within(5, it, conveyor.NodeError, "closed the trainer's connection")
    loader.close()
    run["p"].kill()
    run["p"].wait()


def test_with_node_the_job_settings_belong_to_the_cluster_run():
    with pytest.raises(ValueError, match="^shards: with node="):
        conveyor.Loader(node="127.0.0.1:7626", shards="file:///x.tar")


class _TokenCheckingNode(http.server.BaseHTTPRequestHandler):
    """A stand-in for a node's HTTP server that requires `Authorization: Bearer secret-token` (and never announces a ring)."""

    seen = []
    protocol_version = "HTTP/1.1"  # as the node: the answer is a chunked stream held open

    def do_GET(self):
        _TokenCheckingNode.seen.append(self.headers.get("Authorization"))
        if self.headers.get("Authorization") != "Bearer secret-token":
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.write(b"1\r\n\n\r\n")  # a blank line, as the node sends every 2 s
        self.wfile.flush()

    def log_message(self, *args):
        pass


def test_a_trainer_sends_the_nodes_http_token_from_its_environment_and_says_so_when_refused(monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TokenCheckingNode)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"127.0.0.1:{server.server_address[1]}"
    try:
        monkeypatch.delenv("CONVEYOR_HTTP_TOKEN", raising=False)
        with pytest.raises(conveyor.NodeError, match="requires its HTTP token: export CONVEYOR_HTTP_TOKEN"):
            AttachedNode(address, 0)
        monkeypatch.setenv("CONVEYOR_HTTP_TOKEN", "not-it")
        with pytest.raises(conveyor.NodeError, match="the one exported is not it"):
            AttachedNode(address, 0)
        monkeypatch.setenv("CONVEYOR_HTTP_TOKEN", "secret-token")
        attached = AttachedNode(address, 0)
        attached.stop()
        assert _TokenCheckingNode.seen == [None, "Bearer not-it", "Bearer secret-token"]
    finally:
        server.shutdown()
