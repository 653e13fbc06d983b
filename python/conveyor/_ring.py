"""The reader's side of Conveyor's shared-memory ring of batch slots.

The Java writer (``dev.conveyor.workers.feeder.ShmRing``) fills a free slot with batch ``w``,
notes which in the header's slot table, and then publishes ``w + 1`` as the write sequence;
this reader hands the slot's batch out as numpy arrays that view the mapped memory (no copy),
says so in the handed sequence, and releases the slot by publishing its own count as the read
sequence. Two 8-byte sequence numbers are the only synchronization: each
side writes one and reads the other, as single aligned 64-bit stores and loads (ordered on
x86-64, whose stores are not reordered with other stores nor loads with other loads).

Layout (little-endian): see ShmRing's documentation and docs/formats.md, "The ring".
"""

import json
import mmap
import os
import struct
import time

import numpy as np

MAGIC = b"CVYRING1"
VERSION = 1
HEADER_BYTES = 8192
_TABLE = 4096
_TABLE_SIZE = 1024
_STATE = 24
_ATTACHED = 28
_WRITE_WORD = 64 // 8
_READ_WORD = 128 // 8
_HANDED_WORD = 136 // 8
_STALL_WORD = 144 // 8
_MESSAGE = 192
_SLOT_PREFIX = 12


class RingFailed(RuntimeError):
    """The writer's stream failed; the message is its reason."""


class Slot:
    """One published slot: its header (cursor, keys, meta) and its fields as numpy arrays viewing it.

    The arrays are valid until the slot is released: by the next ``Ring.next()``, or ``release()``.
    """

    def __init__(self, fields, header, sequence, on_release):
        self.fields = fields
        self.keys = header["keys"]
        self.cursor = header["cursor"]
        self.meta = header.get("meta", {})
        self.sequence = sequence
        self._on_release = on_release

    def release(self):
        """Gives the slot back to the writer; the arrays must not be used after this."""
        if self._on_release is not None:
            self._on_release(self)
            self._on_release = None


class Ring:
    """Maps the ring file at ``path`` and reads its batches in order."""

    def __init__(self, path):
        fd = os.open(path, os.O_RDWR)
        try:
            size = os.fstat(fd).st_size
            if size < HEADER_BYTES:
                raise ValueError(f"{path} is not a Conveyor ring: {size} bytes")
            self._mm = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        if self._mm[0:8] != MAGIC:
            raise ValueError(f"{path} is not a Conveyor ring (magic {self._mm[0:8]!r})")
        version, self.slots, self.slot_size = struct.unpack_from("<IIQ", self._mm, 8)
        if version != VERSION:
            raise ValueError(f"{path} is a version {version} ring; this package reads version {VERSION}")
        self._words = np.frombuffer(self._mm, dtype="<u8", count=_TABLE // 8)
        self._ints = np.frombuffer(self._mm, dtype="<u4", count=HEADER_BYTES // 4)
        self._read = int(self._words[_READ_WORD])
        self._held = None
        self.stall_seconds = 0.0  # waiting for published batches, from the second on
        self.startup_seconds = None  # the wait for the first
        self._ints[_ATTACHED // 4] = 1  # the writer may now remove the file's name

    def _state(self):
        return int(self._ints[_STATE // 4])

    def _failure(self):
        (n,) = struct.unpack_from("<I", self._mm, _MESSAGE)
        return bytes(self._mm[_MESSAGE + 4:_MESSAGE + 4 + n]).decode("utf-8", "replace")

    def _release(self, slot):
        if self._held is slot:
            self._held = None
            self._read += 1
            self._words[_READ_WORD] = self._read

    def _waited(self, seconds):
        if self.startup_seconds is None:
            self.startup_seconds = seconds
        else:
            self.stall_seconds += seconds
            self._words[_STALL_WORD] = int(self.stall_seconds * 1e9)

    def next(self, timeout=None, alive=None):
        """The next slot, or None once the writer has ended and every batch was read.

        Releases the slot handed out before. Waits for the writer at most ``timeout`` seconds
        (None: no limit), and every 0.1 s asks ``alive()`` (if given) whether the writer is
        still there, raising what it raises. Raises RingFailed if the writer failed.
        """
        if self._held is not None:
            self._held.release()
        start = time.perf_counter()
        nap = 20e-6
        checked = start
        while int(self._words[_WRITE_WORD]) <= self._read:
            state = self._state()
            if int(self._words[_WRITE_WORD]) > self._read:
                break  # published between the two loads
            if state == 1:
                return None
            if state == 2:
                raise RingFailed(self._failure())
            now = time.perf_counter()
            if timeout is not None and now - start > timeout:
                raise TimeoutError(f"no batch from the writer for {timeout:g} s")
            if alive is not None and now - checked > 0.1:
                alive()
                checked = now
            time.sleep(nap)
            nap = min(nap * 2, 1e-3)
        self._waited(time.perf_counter() - start)
        slot_index = int(self._ints[(_TABLE + (self._read % _TABLE_SIZE) * 4) // 4])
        base = HEADER_BYTES + slot_index * self.slot_size
        sequence, length = struct.unpack_from("<QI", self._mm, base)
        if sequence != self._read:
            raise RuntimeError(f"ring slot holds batch {sequence}, {self._read} expected")
        header = json.loads(bytes(self._mm[base + _SLOT_PREFIX:base + _SLOT_PREFIX + length]))
        fields = {}
        for f in header["fields"]:
            dtype = np.dtype(f["dtype"]).newbyteorder("<")
            count = f["length"] // dtype.itemsize
            array = np.frombuffer(self._mm, dtype=dtype, count=count, offset=base + f["offset"])
            fields[f["name"]] = array.reshape(f["shape"])
        slot = Slot(fields, header, sequence, self._release)
        self._held = slot
        self._words[_HANDED_WORD] = self._read + 1  # handed to the caller: the writer counts it delivered
        return slot

    def close(self):
        """Unmaps the ring (every array viewing it must be gone)."""
        if self._held is not None:
            self._held.release()
        self._words = None
        self._ints = None
        try:
            self._mm.close()
        except BufferError as e:
            raise BufferError("a batch's arrays still view the ring: drop them, or use copies "
                              "(Loader(copy=True)), before close()") from e
