"""Conveyor for Python trainers: a rank's batches from a Conveyor node through shared memory.

    import conveyor
    loader = conveyor.Loader(shards="s3://bucket/train-{000..099}.tar", batch_size=32,
                             decode="auto", settings={"conveyor.s3.endpoint": "http://127.0.0.1:9000"})
    for batch in loader:
        images = batch["images"]        # uint8 N x H x W x 3, viewing shared memory (no copy)
        ...
    checkpoint["data"] = loader.state_dict()   # resume: Loader(...).load_state_dict(checkpoint["data"])

``rank`` and ``world`` come from ``RANK`` and ``WORLD_SIZE`` under ``torchrun``; the ranks of a
job on one machine share one node. ``conveyor.torch`` turns batches into tensors without a copy and wraps a Loader as an
IterableDataset.
"""

from ._batch import Batch, batch_digest
from ._node import NodeError
from ._ring import RingFailed
from .loader import Loader

__version__ = "0.1.0"
__all__ = ["Loader", "Batch", "batch_digest", "NodeError", "RingFailed"]
