#!/usr/bin/python3
"""Benchmarks of the trainer's side: ratios measured in one run, medians of interleaved rounds.

  python/bench/trainer_bench.py [--what handoff,stall] [--corpus DIR] [--rounds N]

handoff: batches of 32 x 256x256x3 uint8 handed to Python through the shared-memory ring (a Java
         writer with nothing before it: `conveyor bench ring-writer`), bytes/s against a numpy copy
         of the same bytes (4 sources into 4 destinations, as slots cycle); and the Python side's
         CPU time per batch in each.
stall:   a trainer step of 20 ms (sleep) over the reference corpus's 4 image shards (256x256, batches
         of 32) for 400 steps: the time the trainer waited for batches after the first / wall time.

Images into a Python loop against the loaders Conveyor replaces: loader_bench.py.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "python"))
CONVEYOR = os.path.join(REPO, "bin", "conveyor")

import numpy as np  # noqa: E402

import conveyor  # noqa: E402
from conveyor._ring import Ring  # noqa: E402

BATCH = 32
SIDE = 256
WARM = 20  # batches left out of the hand-off figure while the writer's JIT warms up


def handoff_ring(batches):
    p = subprocess.Popen([CONVEYOR, "bench", "ring-writer", "--images", str(batches), "--batch-size", str(BATCH)],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    ring = Ring(json.loads(line[len("ring: "):])["path"])
    n = 0
    cpu = 0.0
    t0 = None
    while True:
        c = time.process_time()
        slot = ring.next(timeout=60)
        if slot is None:
            break
        images = slot.fields["images"]
        assert images.shape == (BATCH, SIDE, SIDE, 3)
        n += 1
        if n == WARM:
            t0, cpu = time.perf_counter(), 0.0
        cpu += time.process_time() - c
        del images
    seconds = time.perf_counter() - t0
    ring.close()
    p.wait()
    measured = n - WARM
    return measured * BATCH * SIDE * SIDE * 3 / seconds, cpu / measured


def handoff_copy(batches):
    shape = (BATCH, SIDE, SIDE, 3)
    rng = np.random.default_rng(0)
    sources = [rng.integers(0, 255, shape, dtype=np.uint8) for _ in range(4)]
    slots = [np.empty(shape, np.uint8) for _ in range(4)]
    for i in range(8):
        np.copyto(slots[i % 4], sources[i % 4])  # pages touched once, as the ring's are after its first lap
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(batches - WARM):
        np.copyto(slots[i % 4], sources[(i + 1) % 4])
    seconds = time.perf_counter() - t0
    return (batches - WARM) * BATCH * SIDE * SIDE * 3 / seconds, (time.process_time() - c0) / (batches - WARM)


def handoff(rounds, batches=600):
    ring, copy = [], []
    for _ in range(rounds):
        copy.append(handoff_copy(batches))
        ring.append(handoff_ring(batches))
    r = statistics.median(x[0] for x in ring)
    c = statistics.median(x[0] for x in copy)
    rc = statistics.median(x[1] for x in ring)
    cc = statistics.median(x[1] for x in copy)
    return {"ring_GBps": r / 1e9, "numpy_copy_GBps": c / 1e9, "ratio": r / c,
            "python_cpu_ms_per_batch_ring": rc * 1e3, "python_cpu_ms_per_batch_copy": cc * 1e3}


def stall(corpus, step=0.02, batches=400):
    pattern = "file://" + corpus + "/img-{00000..00003}.tar"
    loader = conveyor.Loader(shards=pattern, batch_size=32, decode="auto", settings={
        "conveyor.decode.image.short-side": 256, "conveyor.decode.image.crop-height": 256,
        "conveyor.decode.image.crop-width": 256})
    for i, _ in enumerate(loader):
        time.sleep(step)
        if i + 1 == batches:
            break
    s = loader.stats()
    loader.close()
    return {"step_ms": step * 1e3, "batches": s["batches"], "stall_s": s["stall_s"], "wall_s": s["wall_s"],
            "stall_pct": s["stall_pct"]}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--what", default="handoff,stall")
    p.add_argument("--corpus", default="/tmp/refcorpus/shards", help="the reference corpus's shards folder")
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()
    what = a.what.split(",")
    result = {}
    if "handoff" in what:
        result["handoff"] = handoff(a.rounds)
        print(json.dumps({"handoff": result["handoff"]}), file=sys.stderr, flush=True)
    if "stall" in what:
        result["stall"] = stall(os.path.abspath(a.corpus))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
