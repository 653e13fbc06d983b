"""The examples a newcomer runs, run as they run them (examples/; the examples' jar is built by the reactor first)."""
import os
import subprocess

from conftest import REPO

TEXT = os.path.join(REPO, "examples", "train_text.py")


def test_the_text_example_mixes_tokenizes_packs_trains_and_resumes_exactly(tmp_path):
    """Two corpora mixed 0.7/0.3, tokenized by the Hugging Face tokenizers library with a tokenizer.json made from
    their words, packed into rows of 2,048 tokens; the tiny model's loss falls, and a loader stopped after batch 9 and
    given its state_dict goes on with the uninterrupted run's batches (the script exits 1 if any of it fails)."""
    env = dict(os.environ, DJL_CACHE_DIR=str(tmp_path / "djl"))  # where the tokenizer's native library is unpacked
    r = subprocess.run(["/usr/bin/python3", TEXT, "--steps", "24", "--resume-at", "9", "--docs", "300", "--workdir",
                        str(tmp_path / "work"), "--quiet"], env=env, capture_output=True, text=True, timeout=280)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "24 steps of 4 x 2048 tokens" in r.stdout
    assert "the next 15 batches equal the uninterrupted run's" in r.stdout
    sources = next(line for line in r.stdout.splitlines() if line.startswith("sources: "))
    assert "stories" in sources and "sums" in sources, sources
    assert os.path.isfile(tmp_path / "work" / "tokenizer.json")
