"""Crashes leave nothing behind: no ring file, no orphan node; a dead node is an error, never a hang."""

import glob
import json
import os
import signal
import subprocess
import sys
import time

import conveyor
from conftest import REPO, raises_within

TRAINER = """
import json, sys, time
sys.path.insert(0, {python!r})
import conveyor
loader = conveyor.Loader(shards={shards!r}, batch_size=8, decode="auto", ring_dir={ring_dir!r})
it = iter(loader)
next(it)
print(json.dumps({{"node": loader._node.pid}}), flush=True)
time.sleep(600)
"""


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"  # a zombie has exited


def test_sigkill_of_the_trainer_leaves_no_ring_file_and_no_node(images, tmp_path):
    ring_dir = "/dev/shm" if os.path.isdir("/dev/shm") else str(tmp_path)
    script = TRAINER.format(python=os.path.join(REPO, "python"), shards=images, ring_dir=ring_dir)
    before = set(glob.glob(os.path.join(ring_dir, "conveyor-ring-*")))
    trainer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        node = json.loads(trainer.stdout.readline())["node"]
        assert alive(node)
        trainer.send_signal(signal.SIGKILL)
        trainer.wait()
        deadline = time.monotonic() + 5
        while alive(node) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(node), "the node outlived its trainer by 5 s"
        left = set(glob.glob(os.path.join(ring_dir, "conveyor-ring-*"))) - before
        assert not left, f"ring files left behind: {left}"
    finally:
        trainer.kill()


def test_sigkill_of_the_node_raises_a_clear_error_within_5_s(images):
    loader = conveyor.Loader(shards=images, batch_size=8, decode="auto", epochs=50)
    it = iter(loader)
    next(it)
    os.kill(loader._node.pid, signal.SIGKILL)
    raises_within(5, it, conveyor.NodeError, "killed by SIGKILL")
    loader.close()


def test_close_stops_the_node_and_garbage_collection_too(images):
    loader = conveyor.Loader(shards=images, batch_size=8, decode="auto", epochs=50)
    next(iter(loader))
    pid = loader._node.pid
    loader.close()
    assert not alive(pid)
    loader = conveyor.Loader(shards=images, batch_size=8, decode="auto", epochs=50)
    next(iter(loader))
    pid = loader._node.pid
    del loader
    import gc
    gc.collect()
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(pid)
