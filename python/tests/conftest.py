"""Fixtures: the repository's bin/conveyor, and small datasets made by `conveyor datagen` once per session."""

import os
import signal
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CONVEYOR = os.path.join(REPO, "bin", "conveyor")
sys.path.insert(0, os.path.join(REPO, "python"))

# the node processes these tests start share the machine with each other and live seconds: keep each
# JVM small, and compile with C1 only (C2's compiler threads cost more than they give back here: 111 s
# for the suite against 130 s)
os.environ.setdefault("CONVEYOR_JAVA_OPTS", "-Xmx768m -XX:TieredStopAtLevel=1")


# Every test is bounded: a node that hangs must fail its test, not hold the suite (a blocking
# readline() on a node's stdout waits forever otherwise). A test that needs longer says so with
# @pytest.mark.limit(seconds).
TEST_LIMIT = 300


def pytest_configure(config):
    config.addinivalue_line("markers", "limit(seconds): this test's own time limit (default %d s)" % TEST_LIMIT)


class TestTimeLimit(Exception):
    """A test ran past its time limit."""


@pytest.fixture(autouse=True)
def time_limit(request):
    marker = request.node.get_closest_marker("limit")
    seconds = marker.args[0] if marker else TEST_LIMIT

    def expired(signum, frame):
        raise TestTimeLimit(f"{request.node.name} ran past its limit of {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def conveyor(*args, timeout=300):
    """Runs bin/conveyor with ``args``; its stdout (raises with its output when it fails)."""
    p = subprocess.run([CONVEYOR, *args], capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError(f"conveyor {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p.stdout


def datagen(out, images, videos):
    conveyor("datagen", "--out", "file://" + out, "--images", str(images), "--videos", str(videos),
             "--shard-size", "1MB", "--seed", "7", "--threads", "2")
    shards = sorted(f for f in os.listdir(out) if f.endswith(".tar"))
    return "file://" + out + "/part-{%s..%s}.tar" % (shards[0][5:11], shards[-1][5:11])


@pytest.fixture(scope="session")
def images(tmp_path_factory):
    """A shard pattern of 120 JPEG samples (with json labels) in several shards."""
    return datagen(str(tmp_path_factory.mktemp("images")), 120, 0)


@pytest.fixture(scope="session")
def mixed(tmp_path_factory):
    """A shard pattern of 40 JPEG and 4 MP4 samples."""
    return datagen(str(tmp_path_factory.mktemp("mixed")), 40, 4)


def reference(tmp_path, shards, *flags):
    """``conveyor run`` of the same recipe: its digest lines and key lines, split into fields."""
    digests, keys = tmp_path / "digests.txt", tmp_path / "keys.txt"
    conveyor("run", "--shards", shards, "--digest-out", str(digests), "--keys-out", str(keys), *flags)
    return ([line.split() for line in digests.read_text().splitlines()],
            [line.split() for line in keys.read_text().splitlines()])


def raises_within(seconds, batches, error, match):
    """Drains ``batches``, which must raise ``error`` (its message matching ``match``) within ``seconds``."""
    t0 = time.monotonic()
    with pytest.raises(error, match=match):
        for _ in batches:
            pass
    assert time.monotonic() - t0 < seconds, f"raised after {time.monotonic() - t0:.1f} s"
