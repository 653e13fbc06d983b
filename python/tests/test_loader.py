"""conveyor.Loader against `conveyor run`: the same batches, exact resume, elastic resume, bad input."""

import io
import json
import os
import random
import tarfile

import numpy as np
import pytest

import conveyor
from conftest import REPO, conveyor as conveyor_cli, reference


def drain(loader, limit=None):
    """(epoch, step, bytes digest, keys digest, keys) of each batch handed out, at most ``limit``."""
    seen = []
    for batch in loader:
        d = batch.digest()
        seen.append((batch.epoch, batch.step, d[0], d[1], list(batch["__keys__"])))
        if limit is not None and len(seen) == limit:
            break
    return seen


def as_reference(digests, rank=0):
    return [(int(e), int(s), b, k) for e, s, r, b, k in digests if int(r) == rank]


def test_a_full_epoch_equals_conveyor_run_batch_for_batch(images, mixed, tmp_path):
    """Decoded images and video: every batch's bytes and keys as `conveyor run --digest-out --keys-out` has them."""
    for name, shards in (("images", images), ("mixed", mixed)):
        out = tmp_path / name
        out.mkdir()
        digests, keys = reference(out, shards, "--batch-size", "8", "--decode", "auto", "--seed", "3")
        with conveyor.Loader(shards=shards, batch_size=8, decode="auto", seed=3) as loader:
            seen = drain(loader)
        assert [s[:4] for s in seen] == as_reference(digests), name
        assert [k for s in seen for k in s[4]] == [k for _, _, _, k in keys], name
        assert len(seen) > 3


def test_a_mix_of_two_sources_equals_conveyor_run_of_the_same_job_file(images, mixed, tmp_path):
    """sources=[...]: the batches of `conveyor run` with conveyor.job.sources, stratified and per source."""
    sources = [{"shards": images, "weight": 0.75, "name": "photos"}, {"shards": mixed, "weight": 0.25, "repeat": True}]
    for how in ("stratified", "per-source"):
        job = tmp_path / f"{how}.conf"
        job.write_text("conveyor.job { sources = %s, mix = %s, batch-size = 8, decode = none, world-size = 2 }\n"
                       % (json.dumps(sources), how))
        digests, _ = tmp_path / f"{how}-digests.txt", None
        conveyor_cli("run", str(job), "--digest-out", str(digests))
        want = [line.split() for line in digests.read_text().splitlines()]
        with conveyor.Loader(sources=sources, mix=how, batch_size=8, decode="none", world=2, rank=1) as loader:
            seen, shares = [], []
            for b in loader:
                seen.append((b.epoch, b.step) + b.digest())
                shares.append((b.sources["photos"]["samples"], b.sources["source-1"]["samples"]))
            stats = loader.stats()
        assert seen == as_reference(want, rank=1), how
        assert len(seen) >= 5
        # each batch's counts by source: 6 + 2 stratified; whole batches of one source in turns per source
        assert all(a + b == 8 for a, b in shares), how
        if how == "stratified":
            assert set(shares) == {(6, 2)}
        else:
            assert set(shares) == {(8, 0), (0, 8)}
        assert stats["sources"]["photos"]["samples"] == sum(a for a, _ in shares)
        assert stats["sources"]["source-1"]["samples"] == sum(b for _, b in shares)
    with pytest.raises(ValueError, match=r"sources\[1\]\.weight: a positive number"):
        conveyor.Loader(sources=[{"shards": images}, {"shards": mixed, "weight": 0}])
    with pytest.raises(ValueError, match=r"sources\[0\]\.wieght: not a source setting"):
        conveyor.Loader(sources=[{"shards": images, "wieght": 1}])
    with pytest.raises(ValueError, match="not both"):
        conveyor.Loader(shards=images, sources=[{"shards": mixed}])


def test_raw_batches_equal_conveyor_run_for_one_rank_of_two(images, tmp_path):
    """decode="none", rank 1 of 2: members' bytes as uint8 views, digests as `conveyor run` writes them."""
    digests, _ = reference(tmp_path, images, "--batch-size", "8", "--decode", "none", "--world", "2", "--epochs", "2")
    with conveyor.Loader(shards=images, batch_size=8, decode="none", world=2, rank=1, epochs=2) as loader:
        seen = []
        for batch in loader:
            assert all(a.dtype == np.uint8 for a in batch["jpg"])
            seen.append((batch.epoch, batch.step) + batch.digest())
    assert seen == as_reference(digests, rank=1)
    assert {e for e, *_ in seen} == {0, 1}


def test_resume_at_a_random_step_gives_the_same_remaining_batches(images):
    full = drain(conveyor.Loader(shards=images, batch_size=8, decode="auto", epochs=2))
    stop = random.Random().randrange(1, len(full) - 1)
    first = conveyor.Loader(shards=images, batch_size=8, decode="auto", epochs=2)
    head = drain(first, limit=stop)
    state = first.state_dict()
    first.close()
    second = conveyor.Loader(shards=images, batch_size=8, decode="auto", epochs=2)
    second.load_state_dict(state)
    tail = drain(second)
    second.close()
    assert head + tail == full, f"stopped after {stop} of {len(full)} batches"


def test_elastic_resume_from_two_ranks_to_three_delivers_every_remaining_sample_once(images):
    everything = set()
    for batch in conveyor.Loader(shards=images, batch_size=8, decode="none"):
        everything.update(batch["__keys__"])
    consumed, states = [], []
    for rank in (0, 1):
        loader = conveyor.Loader(shards=images, batch_size=8, decode="none", world=2, rank=rank)
        consumed += [k for s in drain(loader, limit=3) for k in s[4]]
        states.append(loader.state_dict())
        loader.close()
    assert states[0] == states[1], "ranks in lockstep save the same cursor"
    rest = []
    for rank in (0, 1, 2):
        loader = conveyor.Loader(shards=images, batch_size=8, decode="none", world=3, rank=rank)
        loader.load_state_dict(states[0])
        rest += [k for s in drain(loader) for k in s[4]]
        loader.close()
    assert len(consumed) == 48
    assert sorted(consumed + rest) == sorted(everything), "every sample exactly once across the two runs"


def test_load_state_dict_after_iteration_started_is_refused(images):
    with conveyor.Loader(shards=images, batch_size=8, decode="none") as loader:
        next(iter(loader))
        state = loader.state_dict()
        assert state["version"] == 1 and state["cursor"].startswith("cv1.")
        with pytest.raises(RuntimeError, match="after iteration started"):
            loader.load_state_dict(state)


def test_a_corrupt_sample_is_skipped_and_the_loop_goes_on(images, tmp_path):
    src = images[len("file://"):].split("/part-")[0]
    shard = sorted(f for f in os.listdir(src) if f.endswith(".tar"))[0]
    bad = tmp_path / "bad-000000.tar"
    with tarfile.open(os.path.join(src, shard)) as t, tarfile.open(bad, "w", format=tarfile.GNU_FORMAT) as out:
        members = t.getmembers()
        victim = next(m for m in members if m.name.endswith(".jpg")).name
        for m in members:
            data = t.extractfile(m).read()
            if m.name == victim:
                data = data[:200] + b"\0" * (len(data) - 200)  # a JPEG cut short: its header, then nothing
            m.size = len(data)
            out.addfile(m, io.BytesIO(data))
    keys_in_shard = {m.name.split(".")[0] for m in members}
    with conveyor.Loader(shards="file://" + str(bad), batch_size=4, decode="auto",
                         settings={"conveyor.job.manifest": "none", "conveyor.job.max-bad-fraction": 0.5}) as loader:
        got = [k for s in drain(loader) for k in s[4]]
    assert sorted(got) == sorted(keys_in_shard - {victim.split(".")[0]})


def test_full_batches_stay_full_past_a_corrupt_sample_and_resume_exactly(images, tmp_path):
    """full_batches=True: a bad sample's place goes to the next sample, so every batch is whole; a cv2 state resumes."""
    bad = tmp_path / "bad-000000.tar"
    victims = corrupt_copy(images, bad, every=5)
    args = dict(shards="file://" + str(bad), batch_size=4, decode="auto", full_batches=True, epochs=2,
                settings={"conveyor.job.manifest": "none", "conveyor.job.max-bad-fraction": 0.5})
    with conveyor.Loader(**args) as loader:
        full = drain(loader)
        state = loader.state_dict()
    assert full and all(len(s[4]) == 4 for s in full), "every batch whole"
    assert not {k for s in full for k in s[4]} & victims
    assert state["cursor"].startswith("cv2.")
    stop = random.Random().randrange(1, len(full))
    first = conveyor.Loader(**args)
    head = drain(first, limit=stop)
    saved = first.state_dict()
    first.close()
    second = conveyor.Loader(**args)
    second.load_state_dict(saved)
    tail = drain(second)
    second.close()
    assert head + tail == full, f"stopped after {stop} of {len(full)} batches"


def test_packed_token_rows_equal_conveyor_run_and_resume_exactly(images, tmp_path):
    """A pipeline that tokenizes and packs (TokenRows, cli's test classes): int32 rows and their segments, as run has them."""
    classes = os.path.join(REPO, "cli", "target", "test-classes")
    assert os.path.isdir(classes), "cli's test classes (mvn test-compile) hold the pipeline"
    pipeline = "dev.conveyor.cli.pipeline.TokenRows"
    digests = tmp_path / "digests.txt"
    conveyor_cli("run", "--pipeline", pipeline, "--classpath", classes, "--shards", images, "--digest-out", str(digests))
    want = [line.split() for line in digests.read_text().splitlines()]
    args = dict(shards=images, classpath=[classes], settings={"conveyor.job.pipeline": pipeline})
    with conveyor.Loader(**args) as loader:
        full = []
        for b in loader:
            assert b["text"].shape == (4, 32) and b["text"].dtype == np.int32
            assert b["text_segments"].shape == (4, 32) and (b["text_segments"] >= 1).all()
            full.append((b.epoch, b.step) + b.digest())
    assert full == as_reference(want) and len(full) > 3
    stop = random.Random().randrange(1, len(full))
    first = conveyor.Loader(**args)
    head = [(b.epoch, b.step) + b.digest() for _, b in zip(range(stop), first)]
    state = first.state_dict()
    first.close()
    second = conveyor.Loader(**args)
    second.load_state_dict(state)
    tail = [(b.epoch, b.step) + b.digest() for b in second]
    second.close()
    assert head + tail == full, f"stopped after {stop} of {len(full)} batches"


def corrupt_copy(images, out, every):
    """The first shard of ``images`` copied to ``out`` with every ``every``-th JPEG cut short; the keys cut."""
    src = images[len("file://"):].split("/part-")[0]
    shard = sorted(f for f in os.listdir(src) if f.endswith(".tar"))[0]
    victims = set()
    with tarfile.open(os.path.join(src, shard)) as t, tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as o:
        jpegs = 0
        for m in t.getmembers():
            data = t.extractfile(m).read()
            if m.name.endswith(".jpg"):
                jpegs += 1
                if jpegs % every == 0:
                    data = data[:200] + b"\0" * (len(data) - 200)
                    victims.add(m.name.split(".")[0])
            m.size = len(data)
            o.addfile(m, io.BytesIO(data))
    assert victims
    return victims


@pytest.mark.parametrize("kwargs, argument", [
    (dict(rank=2, world=2), "rank"),
    (dict(world=0), "world"),
    (dict(batch_size=0), "batch_size"),
    (dict(batch_size="8"), "batch_size"),
    (dict(epochs=-1), "epochs"),
    (dict(decode="jpeg"), "decode"),
    (dict(settings=["a=b"]), "settings"),
    (dict(node="localhost"), "node"),
    (dict(shards=""), "shards"),
    (dict(full_batches="yes"), "full_batches"),
])
def test_wrong_arguments_raise_value_error_naming_the_argument(images, kwargs, argument):
    args = dict(shards=images)
    args.update(kwargs)
    with pytest.raises(ValueError, match="^" + argument + ":"):
        conveyor.Loader(**args)


def test_a_job_file_that_does_not_exist_is_named():
    with pytest.raises(ValueError, match="^job: no such file"):
        conveyor.Loader("/nonexistent/job.conf")


def test_a_bad_setting_raises_value_error_with_the_nodes_message(images):
    loader = conveyor.Loader(shards=images, batch_size=8, settings={"conveyor.job.on-bad-sample": "explode"})
    with pytest.raises(ValueError, match="on-bad-sample"):
        next(iter(loader))
    loader.close()


def test_a_ring_larger_than_free_shared_memory_fails_at_start_with_the_fix(images, tmp_path):
    free = os.statvfs(str(tmp_path)).f_bavail * os.statvfs(str(tmp_path)).f_frsize
    loader = conveyor.Loader(shards=images, batch_size=8, decode="auto", ring_dir=str(tmp_path),
                             settings={"conveyor.node.trainer-ring.bytes": str(free * 4)})
    with pytest.raises(conveyor.NodeError, match="shm-size"):
        next(iter(loader))
    loader.close()
    assert not [f for f in os.listdir(tmp_path) if f.startswith("conveyor-ring")]


def test_stats_count_what_was_handed_out(images):
    with conveyor.Loader(shards=images, batch_size=8, decode="auto") as loader:
        n = sum(len(b["__keys__"]) for b in loader)
        s = loader.stats()
    assert s["samples"] == n == 120
    assert s["batches"] == 15
    assert s["bytes"] >= 120 * 224 * 224 * 3
    assert 0 <= s["stall_pct"] <= 100 and s["startup_s"] > 0


def test_copies_outlive_their_slot_views_do_not(images):
    with conveyor.Loader(shards=images, batch_size=8, decode="auto", copy=True) as loader:
        kept = [b for b in loader]
    with conveyor.Loader(shards=images, batch_size=8, decode="auto") as loader:
        for b, k in zip(loader, kept):
            assert np.array_equal(b["images"], k["images"])
            assert b["images"].base is not None and k["images"].flags.owndata
