#!/usr/bin/python3
"""A tiny CNN trained on CPU from Conveyor, checkpointed, killed, resumed: the same samples as a run never stopped.

    examples/train_tiny.py [--shards PATTERN] [--steps N] [--kill-at K|random] [--workdir DIR]

Without --shards it makes a small dataset with `bin/conveyor datagen`. It then trains three times:
straight through for --steps steps (the reference); again, checkpointing every step and killed
with SIGKILL right after step --kill-at's checkpoint, or with `--kill-at random` at a random moment
of its third step (a child process, so the kill is real); and once more, resumed from the last
checkpoint (model, optimizer and loader.state_dict() saved together). It prints whether the keys the
two runs trained on, one after the other, are the reference's: a kill between a step's keys and its
checkpoint repeats that one step, never more, and skips none.
"""

import argparse
import json
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

import conveyor  # noqa: E402
from conveyor.torch import ConveyorIterableDataset  # noqa: E402


class TinyCNN(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 5, stride=4), nn.ReLU(), nn.AdaptiveAvgPool2d(4))
        self.head = nn.Linear(8 * 16, classes)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


def train(shards, steps, checkpoint, keys_out, kill_at=None):
    """Trains up to ``steps`` steps, resuming from ``checkpoint`` if it exists; appends each step's keys to ``keys_out``."""
    torch.manual_seed(0)
    model = TinyCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loader = conveyor.Loader(shards=shards, batch_size=8, decode="auto", epochs=10, seed=1,
                             settings={"conveyor.decode.image.short-side": 72, "conveyor.decode.image.crop-height": 64,
                                       "conveyor.decode.image.crop-width": 64})
    step = 0
    if checkpoint and os.path.exists(checkpoint):
        saved = torch.load(checkpoint)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        loader.load_state_dict(saved["data"])
        step = saved["step"]
        print(f"resumed at step {step}", flush=True)
    data = DataLoader(ConveyorIterableDataset(loader), batch_size=None)
    with open(keys_out, "a") as keys:
        for batch in data:
            if step == steps:
                break
            x = batch["images"].permute(0, 3, 1, 2).float().div_(255)  # a new tensor: the slot can be reused
            y = batch["label"].clamp(min=0)
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            keys.write(json.dumps(batch["__keys__"]) + "\n")
            keys.flush()
            if checkpoint:
                tmp = checkpoint + ".tmp"
                torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                            "data": loader.state_dict(), "step": step}, tmp)
                os.replace(tmp, checkpoint)  # a kill never leaves half a checkpoint
            print(f"step {step}: loss {loss.item():.3f}", flush=True)
            if step == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
    loader.close()


def run_echoed(cmd, kill_random=None):
    """Runs ``cmd``, echoing its output; with ``kill_random`` (a random.Random), kills it with SIGKILL at a
    random moment of its third step (after its second, a uniform draw within a step's time, and no later than the
    third step's end: its first step, warming up, can take longer than the next two), wherever it is: computing,
    writing its keys, or saving its checkpoint. Returns the exit code and the lines it printed."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = queue.Queue()
    threading.Thread(target=lambda: [out.put(line) for line in p.stdout] + [out.put(None)], daemon=True).start()
    lines, steps, deadline = [], [], None
    while True:
        try:
            line = out.get(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            line = ""  # the moment drawn came within the third step
        if line is None:
            break
        if line:
            print(line, end="", flush=True)
            lines.append(line.rstrip("\n"))
        if kill_random and deadline is not None and (line == "" or line.startswith("step ")):
            p.send_signal(signal.SIGKILL)  # at the moment drawn, or at the third step's end if that came first
            deadline, kill_random = None, None
        elif kill_random and line.startswith("step "):
            steps.append(time.monotonic())
            if len(steps) == 2:
                deadline = time.monotonic() + kill_random.uniform(0, steps[1] - steps[0])
    return p.wait(), lines


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shards")
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--kill-at", default="5", help="the step after whose checkpoint the run is killed, or 'random'")
    p.add_argument("--seed", type=int, default=0, help="with --kill-at random: the draw of the moment")
    p.add_argument("--workdir")
    p.add_argument("--role", choices=["reference", "interrupted", "resumed"], help=argparse.SUPPRESS)
    a = p.parse_args()
    at_random = a.kill_at == "random"
    work = a.workdir or tempfile.mkdtemp(prefix="train-tiny-")
    if a.role:
        checkpoint = None if a.role == "reference" else os.path.join(work, "checkpoint.pt")
        train(a.shards, a.steps, checkpoint, os.path.join(work, a.role + ".keys"),
              kill_at=int(a.kill_at) if a.role == "interrupted" and not at_random else None)
        return 0
    shards = a.shards
    if shards is None:
        data = os.path.join(work, "data")
        subprocess.run([os.path.join(os.path.dirname(HERE), "bin", "conveyor"), "datagen", "--out", "file://" + data,
                        "--images", "160", "--videos", "0", "--shard-size", "1MB"], check=True,
                       stdout=subprocess.DEVNULL)
        tars = sorted(f for f in os.listdir(data) if f.endswith(".tar"))
        shards = "file://" + data + "/part-{%s..%s}.tar" % (tars[0][5:11], tars[-1][5:11])
    me = [sys.executable, os.path.abspath(__file__), "--shards", shards, "--steps", str(a.steps),
          "--kill-at", a.kill_at, "--workdir", work]
    subprocess.run(me + ["--role", "reference"], check=True)
    code, _ = run_echoed(me + ["--role", "interrupted"], random.Random(a.seed) if at_random else None)
    print(f"interrupted run: {'killed by SIGKILL' if code == -signal.SIGKILL else code}")
    code, lines = run_echoed(me + ["--role", "resumed"])
    if code != 0:
        return code
    resumed_at = next((int(line.split()[-1]) for line in lines if line.startswith("resumed at step")), 0)

    def read(name):
        with open(os.path.join(work, name + ".keys")) as f:
            return [json.loads(line) for line in f]

    reference, interrupted, resumed = read("reference"), read("interrupted"), read("resumed")
    # the resumed run starts at its checkpoint's step; a kill between a step's keys and its checkpoint
    # leaves that one step (the one in flight) trained twice, never more, never a step skipped
    repeated = len(interrupted) - resumed_at
    same = (interrupted == reference[:len(interrupted)] and resumed == reference[resumed_at:]
            and repeated in (0, 1))
    print(f"reference {len(reference)} steps; interrupted {len(interrupted)} + resumed {len(resumed)} steps "
          f"(resumed at step {resumed_at}, {repeated} step(s) in flight repeated): "
          f"sample sequence {'matched' if same else 'DIFFERED'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
