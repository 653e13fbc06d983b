#!/usr/bin/python3
"""A tiny language model trained on CPU from two mixed text corpora, tokenized and packed by Conveyor.

    examples/train_text.py [--steps N] [--workdir DIR] [--resume-at K] [--quiet]

It makes two corpora of short documents (seeded, so every run makes the same bytes): "stories",
sentences about people and animals, and "sums", lines of arithmetic in words. `bin/conveyor pack`
packs each into WebDataset shards, and a word-level tokenizer.json (the Hugging Face format) is
built from the corpora's own words. Then conveyor.Loader runs the TextMix pipeline
(examples/src/main/java/dev/conveyor/examples/TextMix.java, in examples/target/conveyor-examples.jar):
the corpora mixed 0.7 / 0.3, each document tokenized by the Hugging Face tokenizers library in the
JVM, packed into rows of exactly 2,048 tokens, 4 rows a batch. A tiny causal model (an embedding,
a causal convolution, a linear head) learns to predict each next token within a document, the
rows' `text_segments` keeping documents apart, and the loss is printed as it falls.

With --resume-at K it also proves the packing exact on resume: a second loader is stopped after K
batches, its state_dict() given to a third, and the batches the third hands out must be the
uninterrupted run's from batch K on, digest for digest, though batch K starts inside a document.
It exits 1 if any check fails (rows not whole, the loss not falling, a resumed batch that differs).
"""

import argparse
import collections
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import conveyor  # noqa: E402

JAR = os.path.join(HERE, "target", "conveyor-examples.jar")
PIPELINE = "dev.conveyor.examples.TextMix"
ROW = 2048
ROWS = 4
END = "[EOS]"
# the tokenizers library's Whitespace pre-tokenizer: runs of word characters, runs of other non-space characters
WORDS = re.compile(r"\w+|[^\w\s]+")

NAMES = ["Ada", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kai", "Lu"]
ANIMALS = ["cat", "dog", "fox", "owl", "hen", "cow", "pig", "eel", "bat", "yak"]
PLACES = ["barn", "river", "hill", "road", "wood", "lake", "field", "town"]
VERBS = ["saw", "fed", "met", "chased", "found", "lost", "drew", "liked"]
ADJECTIVES = ["small", "big", "red", "old", "quiet", "quick", "brown", "happy"]
NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
           "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen"]


def story(rng):
    """A document of sentences about people and animals; a few run to thousands of words (split across rows)."""
    n = rng.choice([3, 5, 8, 12, 20, 40, 400])
    out = []
    for _ in range(n):
        who, animal, place = rng.choice(NAMES), rng.choice(ANIMALS), rng.choice(PLACES)
        out.append(f"{who} {rng.choice(VERBS)} a {rng.choice(ADJECTIVES)} {animal} by the {place}.")
        if rng.random() < 0.3:
            out.append(f"The {animal} ran to the {rng.choice(PLACES)}, and {who} went home.")
    return " ".join(out)


def sums(rng):
    """A document of sums in words: "three plus four is seven." — learnable, next to the stories."""
    lines = []
    for _ in range(rng.randint(4, 30)):
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        lines.append(f"{NUMBERS[a]} plus {NUMBERS[b]} is {NUMBERS[a + b]}.")
    return "\n".join(lines)


def make_corpora(workdir, docs):
    """Writes the two corpora's documents as .txt files, packs each into shards; returns the sources and the texts."""
    texts = []
    sources = []
    for name, weight, make, count in (("stories", 0.7, story, docs), ("sums", 0.3, sums, docs // 2)):
        rng = random.Random(f"{name}-corpus")
        folder = os.path.join(workdir, "text", name)
        os.makedirs(folder, exist_ok=True)
        for i in range(count):
            text = make(rng)
            texts.append(text)
            with open(os.path.join(folder, f"{i:06d}.txt"), "w") as f:
                f.write(text)
        out = os.path.join(workdir, "shards", name)
        subprocess.run([os.path.join(ROOT, "bin", "conveyor"), "pack", "--in", folder, "--out", "file://" + out,
                        "--shard-size", "256KB", "--quiet"], check=True)
        sources.append({"shards": "file://" + os.path.join(out, "shards.json"), "weight": weight, "name": name})
    return sources, texts


def make_tokenizer(texts, path):
    """A word-level tokenizer.json of every word of ``texts``, most frequent first, after [UNK] and the end token."""
    counts = collections.Counter(w for t in texts for w in WORDS.findall(t))
    words = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    vocab = {"[UNK]": 0, END: 1}
    for w in words:
        vocab.setdefault(w, len(vocab))

    def special(i, content):
        return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": False, "special": True}

    spec = {"version": "1.0", "truncation": None, "padding": None,
            "added_tokens": [special(0, "[UNK]"), special(1, END)],
            "normalizer": None, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": None, "decoder": None,
            "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"}}
    with open(path, "w") as f:
        json.dump(spec, f)
    return len(vocab)


class TinyLM(nn.Module):
    """Next-token logits from the last four tokens: an embedding, a causal convolution, a linear head."""

    def __init__(self, vocab, width=64, context=4):
        super().__init__()
        self.context = context
        self.embed = nn.Embedding(vocab, width)
        self.conv = nn.Conv1d(width, width, context)
        self.head = nn.Linear(width, vocab)

    def forward(self, ids):
        x = self.embed(ids).transpose(1, 2)                        # [B, W, L]
        x = nn.functional.pad(x, (self.context - 1, 0))            # causal: position t sees t-3..t
        return self.head(torch.relu(self.conv(x)).transpose(1, 2))  # [B, L, V]


def loss_of(model, ids, segments):
    """Cross-entropy of each next token within its document piece (a row's segments keep documents apart)."""
    logits = model(ids[:, :-1])
    same = segments[:, 1:] == segments[:, :-1]
    return nn.functional.cross_entropy(logits[same], ids[:, 1:][same])


def loader(sources, epochs, seed):
    return conveyor.Loader(sources=sources, classpath=[JAR], epochs=epochs, seed=seed,
                           settings={"conveyor.job.pipeline": PIPELINE}, timeout=120)


def check_rows(batch, vocab):
    """Every batch is ROWS rows of exactly ROW tokens, each token in the vocabulary and in some document piece."""
    text, segments = np.asarray(batch["text"]), np.asarray(batch["text_segments"])
    problems = []
    if text.shape != (ROWS, ROW) or segments.shape != (ROWS, ROW) or text.dtype != np.int32:
        problems.append(f"rows {text.shape} {text.dtype}, segments {segments.shape}: not {ROWS} x {ROW} int32")
    elif text.min() < 0 or text.max() >= vocab or segments.min() < 1:
        problems.append("a token outside the vocabulary, or outside every document piece")
    return problems


def train(sources, vocab, steps, quiet):
    """Trains ``steps`` steps; returns the batches' digests, the losses, the per-source counts and the problems seen."""
    torch.manual_seed(0)
    model = TinyLM(vocab)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    digests, losses, problems = [], [], []
    data = loader(sources, epochs=1000, seed=7)
    started = time.monotonic()
    try:
        for step, batch in enumerate(data):
            if step == steps:
                break
            problems += check_rows(batch, vocab)
            digests.append(conveyor.batch_digest(batch))
            ids = torch.from_numpy(np.array(batch["text"], dtype=np.int64))
            segments = torch.from_numpy(np.array(batch["text_segments"]))
            batch.release()
            loss = loss_of(model, ids, segments)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if not quiet and (step % 10 == 0 or step == steps - 1):
                print(f"step {step:4d}  loss {loss.item():.3f}  ({time.monotonic() - started:.1f} s)", flush=True)
        counts = data.stats().get("sources") or {}
    finally:
        data.close()
    return digests, losses, counts, problems


def resumed(sources, at, count):
    """The digests of ``count`` batches from batch ``at`` on, by a loader given the state_dict of one stopped at ``at``."""
    first = loader(sources, epochs=1000, seed=7)
    try:
        for step, batch in enumerate(first):
            batch.release()
            if step == at - 1:
                break
        state = first.state_dict()
    finally:
        first.close()
    second = loader(sources, epochs=1000, seed=7)
    second.load_state_dict(state)
    digests = []
    try:
        for batch in second:
            digests.append(conveyor.batch_digest(batch))
            batch.release()
            if len(digests) == count:
                break
    finally:
        second.close()
    return state, digests


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--docs", type=int, default=600, help="stories (and half as many sums) to make")
    parser.add_argument("--workdir", help="where corpora, shards and the tokenizer go (default: a temporary folder)")
    parser.add_argument("--resume-at", type=int, help="also stop a loader after this many batches and resume it")
    parser.add_argument("--quiet", action="store_true", help="only the summary")
    args = parser.parse_args()
    if not os.path.isfile(JAR):
        sys.exit(f"{JAR} is missing: build it with `mvn -B -DskipTests -pl examples -am package`")
    if args.resume_at is not None and not 0 < args.resume_at < args.steps:
        sys.exit(f"--resume-at: between 1 and --steps - 1 ({args.steps - 1}), got {args.resume_at}")
    workdir = args.workdir or tempfile.mkdtemp(prefix="conveyor-text-")
    sources, texts = make_corpora(workdir, args.docs)
    tokenizer = os.path.join(workdir, "tokenizer.json")
    vocab = make_tokenizer(texts, tokenizer)
    os.environ["CONVEYOR_TOKENIZER"] = tokenizer  # the node this process starts runs the tokenizing stage
    print(f"corpora: {len(texts)} documents, {sum(len(WORDS.findall(t)) + 1 for t in texts)} tokens; "
          f"vocabulary {vocab} words ({tokenizer})", flush=True)
    digests, losses, counts, problems = train(sources, vocab, args.steps, args.quiet)
    head, tail = np.mean(losses[:5]), np.mean(losses[-5:])
    print(f"{len(losses)} steps of {ROWS} x {ROW} tokens: loss {head:.3f} over the first 5, {tail:.3f} over the last 5")
    print("sources: " + ", ".join(f"{name} {c['samples']} documents" for name, c in counts.items()))
    if len(losses) < args.steps:
        problems.append(f"the loader ended after {len(losses)} of {args.steps} steps")
    if not tail < head:
        problems.append(f"the loss did not fall ({head:.3f} -> {tail:.3f})")
    if args.resume_at is not None:
        state, after = resumed(sources, args.resume_at, len(digests) - args.resume_at)
        same = after == digests[args.resume_at:]
        print(f"resume after batch {args.resume_at} (cursor {state['cursor'][:24]}...): the next {len(after)} batches "
              f"{'equal' if same else 'DIFFER from'} the uninterrupted run's")
        if not same:
            problems.append("a resumed batch differs from the uninterrupted run's")
    for p in problems:
        print("FAILED: " + p, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
