"""The ranks of a job on one machine share one node (as under `torchrun --nproc_per_node 2`)."""

import glob
import json
import os
import signal
import subprocess
import sys
import time

from conftest import REPO, reference
from test_crash import alive
from test_loader import as_reference

RANK = """
import json, sys, time, logging
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
sys.path.insert(0, {python!r})
import conveyor
loader = conveyor.Loader(shards={shards!r}, batch_size=8, decode="auto", seed=4, epochs={epochs}, start_timeout=120)
seen = []
try:
    for batch in loader:
        if not seen:
            print(json.dumps({{"rank": loader.rank, "world": loader.world, "node": loader._node.pid}}), flush=True)
        seen.append((batch.epoch, batch.step) + batch.digest())
        time.sleep({pause})
except conveyor.NodeError as e:
    print(json.dumps({{"error": str(e), "at": time.time()}}), flush=True)
    sys.exit(0)
loader.close()
print(json.dumps({{"batches": seen}}), flush=True)
"""


def ranks(shards, ring_dir, run_id, epochs=1, pause=0.0):
    """Two trainer processes of one launch, as torchrun starts them (RANK, WORLD_SIZE, LOCAL_* set)."""
    script = RANK.format(python=os.path.join(REPO, "python"), shards=shards, epochs=epochs, pause=pause)
    procs = []
    for rank in (0, 1):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE="2",
                   TORCHELASTIC_RUN_ID=run_id)
        procs.append(subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, env=env, cwd=ring_dir))
    return procs


def feeds():
    """The pids of `conveyor feed --share` processes running now."""
    out = subprocess.run(["pgrep", "-f", "conveyor.jar feed .*--share"], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


def shm_files():
    return set(glob.glob("/dev/shm/conveyor-ring-*")) | set(glob.glob("/dev/shm/conveyor-share-*"))


def test_two_ranks_share_one_node_and_each_gets_exactly_its_batches(images, tmp_path):
    digests, _ = reference(tmp_path, images, "--batch-size", "8", "--decode", "auto", "--seed", "4", "--world", "2")
    before = feeds()
    procs = ranks(images, str(tmp_path), "shared-exact")
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-3000:] for o in outs]
    lines = [[json.loads(line) for line in out.splitlines()] for out, _ in outs]
    nodes = {first["node"] for first, _ in lines}
    assert len(nodes) == 1, f"each rank started its own node: {nodes}"
    assert nodes.isdisjoint(before)
    for rank, (first, last) in enumerate(lines):
        assert (first["rank"], first["world"]) == (rank, 2)
        assert [tuple(b) for b in last["batches"]] == as_reference(digests, rank=rank), f"rank {rank}"
    for rank, (_, err) in enumerate(outs):
        assert f"rank {rank} of 2 (from the environment: RANK={rank}, WORLD_SIZE=2)" in err, err[-2000:]


def test_sigkill_of_one_rank_makes_the_others_next_batch_raise_within_5_s(images, tmp_path):
    before = feeds()
    procs = ranks(images, str(tmp_path), "shared-kill-one", epochs=200, pause=0.05)
    try:
        firsts = [json.loads(p.stdout.readline()) for p in procs]
        assert firsts[0]["node"] == firsts[1]["node"]
        assert feeds() - before == {firsts[0]["node"]}, "one JVM for both ranks"
        killed_at = time.time()
        procs[1].send_signal(signal.SIGKILL)
        out, err = procs[0].communicate(timeout=30)
        said = json.loads(out.splitlines()[-1])
        assert "error" in said, out[-2000:]
        assert "rank 1" in said["error"] and "went away" in said["error"], said
        assert said["at"] - killed_at < 5, f"raised {said['at'] - killed_at:.1f} s after the kill"
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_sigkill_of_every_rank_leaves_no_node_and_no_shared_memory_file(images, tmp_path):
    before = shm_files()
    procs = ranks(images, str(tmp_path), "shared-kill-all", epochs=200, pause=0.05)
    try:
        node = [json.loads(p.stdout.readline()) for p in procs][0]["node"]
        assert alive(node)
        for p in procs:
            p.send_signal(signal.SIGKILL)
        for p in procs:
            p.wait()
        deadline = time.monotonic() + 5
        while (alive(node) or shm_files() - before) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(node), "the shared node outlived its trainers by 5 s"
        assert not shm_files() - before, f"files left in /dev/shm: {shm_files() - before}"
    finally:
        for p in procs:
            p.kill()
            p.wait()
