#!/usr/bin/python3
"""conveyor.Loader against the loaders it replaces, as a trainer sees it: images into a Python loop.

  python/bench/loader_bench.py --corpus DIR [--rounds 3] [--cores 1,2] [--check-peers DIR] [--json FILE]

DIR holds the reference corpus's image shards (img-00000.tar .. img-00003.tar: 16,000 JPEGs); it
is indexed first if it has no shards.json (`conveyor index`, as a user does once for a dataset).
Each figure is a whole run, as a user sees it: from the loader's creation (DataLoader(), Pool(),
Loader()) to its last batch, start-up included, imports not timed; the page cache is warm. For
each number of cores (taskset), the loaders run in interleaved rounds, the order rotating, and
the medians are printed:

  conveyor     conveyor.Loader, 256 x 256 RGB batches of 32, into this loop
  torch        python/bench/peers.py torch: a torch DataLoader, WebDataset-style workers, one per core
  plain        python/bench/peers.py plain: the same loop in one process per core, nothing handed on
  2 ranks      two Loader processes of one job sharing one node (as torchrun --nproc_per_node 2), summed

and, once, the ceiling: libjpeg-turbo's own C loop over the same JPEGs on one core (jpeg_ceiling.c,
built here with gcc). --check-peers DIR also runs DIR/torch_peer.py and DIR/py_peer.py in the same
rounds, to check this repository's peers against them.
"""

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3"

LOADER = """
import json, os, sys, threading, time
sys.path.insert(0, {python!r})
import conveyor
peak = [0]
threads = {{}}
def thread_cpu(pid):
    # CPU seconds of each of the node's threads so far, by thread name (their numbers dropped)
    tick = os.sysconf("SC_CLK_TCK")
    out = {{}}
    for t in os.listdir(f"/proc/{{pid}}/task"):
        try:
            with open(f"/proc/{{pid}}/task/{{t}}/comm") as f:
                name = f.read().strip().rstrip("0123456789#-")
            with open(f"/proc/{{pid}}/task/{{t}}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[name] = out.get(name, 0) + (int(fields[11]) + int(fields[12])) / tick
    return out
def watch(loader):
    while True:
        node = loader._node
        try:
            with open(f"/proc/{{node.pid}}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak[0] = max(peak[0], int(line.split()[1]) * 1024)
        except (OSError, AttributeError, TypeError):
            pass
        time.sleep(0.2)
t0, began = time.perf_counter(), time.time()
loader = conveyor.Loader(shards={shards!r}, batch_size=32, decode="auto", settings={{
    "conveyor.decode.image.short-side": 256, "conveyor.decode.image.crop-height": 256,
    "conveyor.decode.image.crop-width": 256}})
n, first = 0, None
for batch in loader:
    if first is None:
        first = time.perf_counter() - t0
        threading.Thread(target=watch, args=(loader,), daemon=True).start()
    n += batch["images"].shape[0]
    if {profile} and n % 640 == 0:
        threads = thread_cpu(loader._node.pid)
seconds = time.perf_counter() - t0
python_cpu = time.process_time()
loader.close()
print(json.dumps({{"samples": n, "seconds": seconds, "samples_per_s": n / seconds, "first_batch_s": first,
                  "steady_per_s": n / (seconds - first), "node_peak_rss": peak[0], "began": began,
                  "ended": began + seconds, "threads": threads, "python_cpu": python_cpu}}))
"""


def taskset(cores):
    return ["taskset", "-c", "0" if cores == 1 else f"0-{cores - 1}"]


def run_json(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"loader_bench: {' '.join(cmd[:6])} ... failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def conveyor_run(cores, pattern, profile=False):
    script = LOADER.format(python=os.path.join(REPO, "python"), shards=pattern, profile=profile)
    return run_json(taskset(cores) + [PY, "-c", script])


def two_ranks(pattern, run):
    """Two Loader processes of one job on 2 cores sharing a node: the images of both over the time from the
    first Loader's creation to the last batch of either (imports not timed, as for one rank)."""
    script = LOADER.format(python=os.path.join(REPO, "python"), shards=pattern, profile=False)
    procs = []
    for rank in (0, 1):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE="2",
                   TORCHELASTIC_RUN_ID=f"loader-bench-{os.getpid()}-{run}")
        procs.append(subprocess.Popen(taskset(2) + [PY, "-c", script], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env=env))
    outs = [p.communicate() for p in procs]
    if any(p.returncode for p in procs):
        sys.exit("loader_bench: a rank failed:\n" + "\n".join(o[1][-2000:] for o in outs))
    got = [json.loads(o[0].strip().splitlines()[-1]) for o in outs]
    n = sum(g["samples"] for g in got)
    seconds = max(g["ended"] for g in got) - min(g["began"] for g in got)
    return {"samples": n, "seconds": seconds, "samples_per_s": n / seconds,
            "first_batch_s": max(g["first_batch_s"] for g in got), "node_peak_rss": max(g["node_peak_rss"] for g in got)}


def ceiling(shards):
    with tempfile.TemporaryDirectory() as d:
        binary = os.path.join(d, "jpeg_ceiling")
        subprocess.run(["gcc", "-O2", "-o", binary, os.path.join(HERE, "jpeg_ceiling.c"), "-ljpeg"], check=True)
        runs = [run_json(taskset(1) + [binary, *shards]) for _ in range(3)]
    return statistics.median(r["images_per_s"] for r in runs)


def prepare(corpus):
    shards = [os.path.join(corpus, f"img-0000{i}.tar") for i in range(4)]
    missing = [s for s in shards if not os.path.isfile(s)]
    if missing:
        sys.exit(f"loader_bench: {missing[0]} is missing: --corpus is the reference corpus's shards folder")
    if not os.path.isfile(os.path.join(corpus, "shards.json")):
        print(f"loader_bench: indexing {corpus} once (shards.json and per-sample indexes)", file=sys.stderr)
        subprocess.run([os.path.join(REPO, "bin", "conveyor"), "index", "--in", "file://" + corpus, "--quiet"],
                       check=True)
    return shards, "file://" + corpus + "/img-{00000..00003}.tar"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", required=True, help="the reference corpus's shards folder")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--cores", default="1,2")
    p.add_argument("--check-peers", metavar="DIR", help="a folder with torch_peer.py and py_peer.py to check against")
    p.add_argument("--json", metavar="FILE", help="write the medians and every round here")
    p.add_argument("--profile", action="store_true", help="only where the CPU goes, per image, by thread of the node")
    a = p.parse_args()
    corpus = os.path.abspath(a.corpus)
    shards, pattern = prepare(corpus)
    if a.profile:
        profile(pattern, shards, [int(c) for c in a.cores.split(",")])
        return
    peers = os.path.join(HERE, "peers.py")
    conveyor_run(2, pattern)  # warm-up: the page cache, and the node's class-data archive (made at its first exit)
    ceiling_per_core = ceiling(shards)
    print(f"libjpeg-turbo C loop, 1 core: {ceiling_per_core:,.0f} images/s", file=sys.stderr)
    result = {"ceiling_images_per_s_per_core": ceiling_per_core, "cores": {}}
    for cores in [int(c) for c in a.cores.split(",")]:
        loaders = {
            "conveyor": lambda c=cores: conveyor_run(c, pattern),
            "torch": lambda c=cores: run_json(taskset(c) + [PY, peers, "torch", str(c), *shards]),
            "plain": lambda c=cores: run_json(taskset(c) + [PY, peers, "plain", str(c), *shards]),
        }
        if cores == 2:
            runs = itertools.count()  # each round a launch of its own
            loaders["2 ranks"] = lambda: two_ranks(pattern, next(runs))
        if a.check_peers:
            loaders["torch_peer.py"] = lambda c=cores: run_json(
                taskset(c) + [PY, os.path.join(a.check_peers, "torch_peer.py"), str(c), *shards])
            loaders["py_peer.py"] = lambda c=cores: run_json(
                taskset(c) + [PY, os.path.join(a.check_peers, "py_peer.py"), "batch", str(c), *shards])
        rounds = {name: [] for name in loaders}
        names = list(loaders)
        for r in range(a.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                rounds[name].append(loaders[name]())
                got = rounds[name][-1]
                print(f"  {cores} core(s) round {r + 1}: {name:14} {got['samples_per_s']:8,.0f} images/s"
                      + (f", first batch {got['first_batch_s']:.2f} s" if "first_batch_s" in got else ""),
                      file=sys.stderr, flush=True)
        result["cores"][cores] = summarize(rounds, cores, ceiling_per_core)
    print_table(result)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)


# thread names as Linux keeps them: their first 15 characters
GROUPS = [("decoders: libjpeg-turbo and the Java around it", ("conveyor-convey",)),
          ("stream stages: reading, tar, grouping, batching", ("conveyor-pekko.", "conveyor-schedu")),
          ("ring writer: the batch into its slot", ("trainer-",)),
          ("JIT compiler (C1)", ("C1 ",)), ("garbage collector", ("GC Thread", "G1 ")),
          ("main thread: start-up (classes, configuration, the cluster of one, the plan)", ("java",))]


def profile(pattern, shards, cores_list):
    """CPU per image by the node's threads (from /proc, at the last reading before its end) and the trainer's loop."""
    ceiling_per_core = ceiling(shards)
    conveyor_run(2, pattern)  # warm-up
    print(f"C loop: {1e6 / ceiling_per_core:.0f} us of CPU per image")
    for cores in cores_list:
        got = conveyor_run(cores, pattern, profile=True)
        n = got["samples"]
        print(f"{cores} core(s): {got['samples_per_s']:,.0f} images/s, first batch {got['first_batch_s']:.2f} s; "
              "CPU per image (us), node threads at their last reading:")
        threads, left = dict(got["threads"]), 0.0
        for label, prefix in GROUPS:  # str.startswith takes a tuple
            cpu = sum(v for k, v in threads.items() if k.startswith(prefix))
            threads = {k: v for k, v in threads.items() if not k.startswith(prefix)}
            print(f"  {1e6 * cpu / n:7.1f}  {label}")
        left = sum(threads.values())
        print(f"  {1e6 * left / n:7.1f}  other node threads ({', '.join(sorted(k for k, v in threads.items() if v))})")
        print(f"  {1e6 * got['python_cpu'] / n:7.1f}  the trainer's Python process (imports included)")
        print(f"  {1e6 * cores * got['seconds'] / n:7.1f}  wall x cores")


def summarize(rounds, cores, ceiling_per_core):
    med = {name: {k: statistics.median(r[k] for r in runs) for k in runs[0] if isinstance(runs[0][k], (int, float))}
           for name, runs in rounds.items()}
    c = med["conveyor"]
    out = {"medians": med, "rounds": rounds,
           "conveyor_vs_torch": c["samples_per_s"] / med["torch"]["samples_per_s"],
           "conveyor_vs_plain": c["samples_per_s"] / med["plain"]["samples_per_s"],
           "steady_vs_ceiling": c["steady_per_s"] / (ceiling_per_core * cores)}
    if "2 ranks" in med:
        out["two_ranks_vs_one"] = med["2 ranks"]["samples_per_s"] / c["samples_per_s"]
    if "torch_peer.py" in med:
        out["torch_vs_torch_peer_py"] = med["torch"]["samples_per_s"] / med["torch_peer.py"]["samples_per_s"]
        out["plain_vs_py_peer_py"] = med["plain"]["samples_per_s"] / med["py_peer.py"]["samples_per_s"]
    return out


def print_table(result):
    ceiling_per_core = result["ceiling_images_per_s_per_core"]
    print(f"{'cores':>5} {'loader':>14} {'images/s':>9} {'first batch s':>13} {'after it':>9}  ratio")
    for cores, r in result["cores"].items():
        for name, m in r["medians"].items():
            ratio = m["samples_per_s"] / r["medians"]["torch"]["samples_per_s"]
            print(f"{cores:>5} {name:>14} {m['samples_per_s']:9,.0f} {m.get('first_batch_s', float('nan')):13.2f} "
                  f"{m.get('steady_per_s', float('nan')):9,.0f}  {ratio:.2f}x torch")
        print(f"{cores:>5} {'C ceiling':>14} {ceiling_per_core * cores:9,.0f}  (libjpeg-turbo's loop x cores; "
              f"conveyor after its first batch: {r['steady_vs_ceiling']:.2f}x)")
        print(f"{cores:>5} conveyor: {r['conveyor_vs_torch']:.2f}x torch, {r['conveyor_vs_plain']:.2f}x plain"
              + (f"; 2 ranks sharing a node {r['two_ranks_vs_one']:.2f}x one rank" if "two_ranks_vs_one" in r else "")
              + (f"; node peak RSS {r['medians']['conveyor']['node_peak_rss'] / 2**30:.2f} GiB"))
        if "torch_vs_torch_peer_py" in r:
            print(f"{cores:>5} peers check: torch {r['torch_vs_torch_peer_py']:.3f}x torch_peer.py, "
                  f"plain {r['plain_vs_py_peer_py']:.3f}x py_peer.py")


if __name__ == "__main__":
    main()
