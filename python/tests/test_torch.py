"""conveyor.torch: tensors over the ring's memory through a DataLoader, and the example training loop."""

import os
import re
import subprocess
import sys

import ctypes

import pytest
import torch

import conveyor
from conveyor.torch import ConveyorIterableDataset, to_torch
from conftest import REPO


def test_a_dataloader_yields_tensors_that_share_the_rings_memory(images):
    loader = conveyor.Loader(shards=images, batch_size=8, decode="auto")
    data = torch.utils.data.DataLoader(ConveyorIterableDataset(loader), batch_size=None)
    n = 0
    for batch in data:
        ring = loader._ring._mm
        images_t = batch["images"]
        assert isinstance(images_t, torch.Tensor) and images_t.dtype == torch.uint8
        assert tuple(images_t.shape) == (8, 224, 224, 3)
        # the tensor's storage lies inside the mapped ring: no copy was made
        base = ctypes.addressof(ctypes.c_char.from_buffer(ring))
        assert base <= images_t.data_ptr() < base + len(ring)
        assert batch["label"].dtype == torch.int64
        n += 1
    assert n == 15
    loader.close()


def test_to_torch_keeps_keys_and_texts_and_shares_memory(images):
    with conveyor.Loader(shards=images, batch_size=8, decode="auto") as loader:
        batch = next(iter(loader))
        t = to_torch(batch)
        assert t["__keys__"] == batch["__keys__"] and t["json"] == batch["json"]
        t["images"][0, 0, 0, 0] = 7
        assert batch["images"][0, 0, 0, 0] == 7
        assert t.cursor == batch.cursor
        del t, batch


def test_the_dataset_carries_the_loaders_state(images):
    first = ConveyorIterableDataset(conveyor.Loader(shards=images, batch_size=8, decode="none"))
    it = iter(torch.utils.data.DataLoader(first, batch_size=None))
    next(it)
    state = first.state_dict()
    first.loader.close()
    second = ConveyorIterableDataset(conveyor.Loader(shards=images, batch_size=8, decode="none"))
    second.load_state_dict(state)
    assert second.loader.state_dict() == state
    second.loader.close()


@pytest.mark.limit(660)
def test_the_tiny_training_example_resumes_with_the_same_samples(tmp_path):
    p = subprocess.run([sys.executable, os.path.join(REPO, "examples", "train_tiny.py"), "--steps", "8",
                        "--kill-at", "3", "--workdir", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "interrupted run: killed by SIGKILL" in p.stdout
    assert "interrupted 3 + resumed 5 steps (resumed at step 3, 0 step(s) in flight repeated): sample sequence matched" \
        in p.stdout


@pytest.mark.limit(660)
def test_the_tiny_training_example_killed_at_a_random_moment_repeats_at_most_the_step_in_flight(tmp_path):
    p = subprocess.run([sys.executable, os.path.join(REPO, "examples", "train_tiny.py"), "--steps", "8",
                        "--kill-at", "random", "--seed", "11", "--workdir", str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "interrupted run: killed by SIGKILL" in p.stdout
    # killed within its third step: resumed after step 2 (the kill came before step 3's checkpoint) or
    # step 3 (after it); the keys of the step in flight, if written, are trained again, and say so
    assert re.search(r"interrupted [23] \+ resumed [56] steps \(resumed at step [23], [01] step\(s\) in flight "
                     r"repeated\): sample sequence matched", p.stdout), p.stdout
