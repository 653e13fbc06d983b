"""A ring slot as the batch a training loop sees, and the digests that ``conveyor run --digest-out`` writes."""

import hashlib
import json
import struct
from typing import Any, Dict, Optional, Tuple

import numpy as np


class Batch(dict):
    """A batch: a mapping of ``"__keys__"`` (the samples' keys) and its fields.

    Decoded batches hold ``images`` (uint8 N×H×W×3), ``videos`` (uint8 N×T×H×W×3) with
    ``frame_indices``, ``image_row``/``video_row`` (int32: each sample's row, -1 for none),
    ``label`` (int64, -1 for none) when samples carry one, and per text member a list of str
    (``json`` members parsed), and token arrays by name (int32: ``[N, L]`` rows when packed, else
    end to end with ``NAME.offsets``). Raw batches (``decode="none"``) hold per member extension a list
    of uint8 arrays (None where a sample lacks it). Arrays view the ring's shared memory until
    ``release()`` (or the next batch); a batch from ``Loader(copy=True)`` owns its memory. In a
    mix, ``sources`` says what each source gave the batch: ``{"web": {"samples": 6, "filtered":
    0, "bad": 0}, ...}`` (None otherwise).
    """

    cursor: Optional[str]
    epoch: Optional[int]
    step: Optional[int]
    sources: Optional[Dict[str, Dict[str, int]]]
    nbytes: int

    def __init__(self, slot: Any, copy: bool) -> None:
        super().__init__()
        self.cursor = slot.cursor
        self.epoch = slot.meta.get("epoch")
        self.step = slot.meta.get("step")
        self.sources = slot.meta.get("sources")
        self._texts = slot.meta.get("texts")
        self._members = slot.meta.get("members")
        self._tokens = slot.meta.get("tokens") or []
        self._slot = slot
        keys = list(slot.keys)
        fields = slot.fields
        if copy:
            fields = {name: np.array(a) for name, a in fields.items()}
        self["__keys__"] = keys
        if self._members is not None:
            for ext in _in_order(self._members):
                data, offsets = fields["raw." + ext], fields["raw." + ext + ".offsets"]
                self[ext] = [data[offsets[i]:offsets[i + 1]] if ext in m else None
                             for i, m in enumerate(self._members)]
        else:
            for name, array in fields.items():
                self[name] = array
            for ext in _in_order(self._texts):
                values = [t.get(ext) for t in self._texts]
                self[ext] = [_parse(v) for v in values] if ext == "json" else values
        self.nbytes = sum(a.nbytes for a in fields.values())
        if copy:
            slot.release()
            self._slot = None

    def release(self) -> None:
        """Gives the batch's ring slot back to the writer; its arrays must not be used after this."""
        if self._slot is not None:
            self._slot.release()
            self._slot = None

    def digest(self) -> Tuple[str, str]:
        """``(sha256 of the batch's bytes, sha256 of its keys)``, hex: the two last columns of ``--digest-out``."""
        return batch_digest(self)


def _in_order(per_sample):
    seen = {}
    for names in per_sample:
        for name in names:
            seen.setdefault(name, None)
    return list(seen)


def _parse(text):
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None  # not every json member is valid JSON


def _frame(h, kind, *dims):
    h.update(kind.encode())
    for d in dims:
        h.update(struct.pack(">q", d))


def batch_digest(batch: "Batch") -> Tuple[str, str]:
    """The digests ``conveyor run --digest-out`` writes for a batch (see BatchDigest in Java)."""
    h = hashlib.sha256()
    keys = batch["__keys__"]
    for i, key in enumerate(keys):
        h.update(key.encode() + b"\0")
        if batch._members is not None:
            for ext in batch._members[i]:
                data = batch[ext][i]
                h.update(ext.encode() + b"\0" + struct.pack(">q", data.nbytes))
                h.update(memoryview(data))
            continue
        if "images" in batch and batch["image_row"][i] >= 0:
            image = batch["images"][batch["image_row"][i]]
            _frame(h, "image", 1, image.shape[0], image.shape[1])
            h.update(memoryview(np.ascontiguousarray(image)))
        if "videos" in batch and batch["video_row"][i] >= 0:
            row = batch["video_row"][i]
            clip = batch["videos"][row]
            _frame(h, "video", clip.shape[0], clip.shape[1], clip.shape[2])
            for f in batch["frame_indices"][row]:
                h.update(struct.pack(">q", int(f)))
            h.update(memoryview(np.ascontiguousarray(clip)))
        for ext, text in batch._texts[i].items():
            h.update(ext.encode() + b"\0" + text.encode() + b"\0")
        for name in batch._tokens:
            if name + ".offsets" in batch:
                o = batch[name + ".offsets"]
                tokens = batch[name][o[i]:o[i + 1]]
            else:
                tokens = batch[name][i]
            h.update(name.encode() + b"\0" + struct.pack(">q", len(tokens)))
            h.update(np.ascontiguousarray(tokens, dtype=">i4").tobytes())
    return h.hexdigest(), hashlib.sha256("\n".join(keys).encode()).hexdigest()
