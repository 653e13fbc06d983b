#!/usr/bin/python3
"""The loaders Conveyor's Python door is measured against, written here (Debian packages only:
python3-torch, python3-pil, python3-numpy).

  peers.py torch WORKERS SHARD...   a torch DataLoader over an IterableDataset whose workers do what
                                    WebDataset(shards).decode("rgb8").to_tuple("jpg", "json").batched(32)
                                    does: tar streamed, members grouped by WebDataset's key rule, each
                                    JPEG decoded by Pillow, 32 pictures stacked; shards dealt to the
                                    workers; batches handed to this process (batch_size=None)
  peers.py plain PROCS SHARD...     the same loop in PROCS processes that each count their own batches:
                                    nothing is handed to a trainer (the ceiling of the loop itself);
                                    "batch" is its other name (`conveyor bench pipeline --peer` calls it so)

Prints one JSON line: samples, seconds (from the loader's creation to the last batch, worker start
included; imports not timed), samples_per_s, first_batch_s, steady_per_s (after the first batch).
"""

import io
import json
import re
import sys
import tarfile
import time

import numpy as np
from PIL import Image

BATCH = 32
# WebDataset's rule: the key is the path up to the first dot of the file name, the rest its extension
KEY = re.compile(r"^((?:.*/)?[^./]+)\.(.*)$")


def samples(path):
    """The samples of one tar, streamed: dicts of extension -> bytes, with "__key__"."""
    with tarfile.open(path, mode="r|") as tar:
        sample, key = None, None
        for member in tar:
            if not member.isfile():
                continue
            m = KEY.match(member.name)
            if m is None:
                continue
            data = tar.extractfile(member).read()
            if m.group(1) != key:
                if sample is not None:
                    yield sample
                sample, key = {"__key__": m.group(1)}, m.group(1)
            sample[m.group(2)] = data
        if sample is not None:
            yield sample


def batches(shards):
    """Batches of BATCH decoded pictures (uint8 N x H x W x 3) with their parsed json, over ``shards``."""
    pictures, metas = [], []
    for path in shards:
        for s in samples(path):
            pictures.append(np.asarray(Image.open(io.BytesIO(s["jpg"])).convert("RGB")))
            metas.append(json.loads(s["json"]))
            if len(pictures) == BATCH:
                yield np.stack(pictures), metas
                pictures, metas = [], []
    if pictures:
        yield np.stack(pictures), metas


def torch_peer(workers, shards):
    import torch.utils.data as tud

    class Shards(tud.IterableDataset):
        def __iter__(self):
            info = tud.get_worker_info()
            mine = shards if info is None else shards[info.id::info.num_workers]
            yield from batches(mine)

    t0 = time.perf_counter()
    loader = tud.DataLoader(Shards(), batch_size=None, num_workers=workers)
    n, first = 0, None
    for images, _ in loader:
        if first is None:
            first = time.perf_counter() - t0
        n += images.shape[0]
    return n, time.perf_counter() - t0, first


def _count(shards):
    n, first, t0 = 0, None, time.perf_counter()
    for images, _ in batches(shards):
        if first is None:
            first = time.perf_counter() - t0
        n += images.shape[0]
    return n, first


def plain_peer(procs, shards):
    import multiprocessing

    t0 = time.perf_counter()
    if procs == 1:
        results = [_count(shards)]
    else:
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            results = pool.map(_count, [shards[i::procs] for i in range(procs)])
    seconds = time.perf_counter() - t0
    return sum(r[0] for r in results), seconds, min(r[1] for r in results if r[1] is not None)


def main(argv):
    if len(argv) < 3 or argv[0] not in ("torch", "plain", "batch"):
        sys.exit(__doc__)
    which, count, shards = argv[0].replace("batch", "plain"), int(argv[1]), argv[2:]
    n, seconds, first = (torch_peer if which == "torch" else plain_peer)(count, shards)
    print(json.dumps({"peer": which, "workers": count, "samples": n, "seconds": round(seconds, 3),
                      "samples_per_s": round(n / seconds, 1), "first_batch_s": round(first, 3),
                      "steady_per_s": round(n / (seconds - first), 1)}))


if __name__ == "__main__":
    main(sys.argv[1:])
