"""PyTorch for Conveyor: batches as tensors without a copy, and a Loader as an IterableDataset.

    from torch.utils.data import DataLoader
    from conveyor.torch import ConveyorIterableDataset

    data = ConveyorIterableDataset(conveyor.Loader(shards=..., batch_size=32, decode="auto"))
    for batch in DataLoader(data, batch_size=None):   # Conveyor batches already; no workers needed
        images = batch["images"]                       # torch.uint8 N x H x W x 3, in shared memory
"""

from typing import Any, Dict, Iterator, Mapping

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info


class TorchBatch(dict):
    """A batch whose arrays are tensors sharing the ring's memory (valid until ``release()`` or the next batch)."""

    def __init__(self, fields: Mapping[str, Any], source: Any = None) -> None:
        super().__init__(fields)
        self.cursor = getattr(source, "cursor", None)
        self._source = source

    def release(self) -> None:
        """Gives the ring slot back (the tensors must not be used after this)."""
        if self._source is not None:
            self._source.release()
            self._source = None


def to_torch(batch: Mapping[str, Any]) -> TorchBatch:
    """``batch`` with each numpy array as a tensor over the same memory (``torch.from_numpy``, no copy)."""
    return TorchBatch({k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in batch.items()}, batch)


class ConveyorIterableDataset(IterableDataset):
    """A ``conveyor.Loader`` for ``torch.utils.data.DataLoader(ds, batch_size=None)``: tensor batches.

    Conveyor's node decodes and batches in its own process, so the DataLoader needs no workers
    (``num_workers=0``); ``state_dict()`` and ``load_state_dict()`` are the loader's.
    """

    def __init__(self, loader: Any) -> None:
        super().__init__()
        self.loader = loader

    def __iter__(self) -> Iterator[TorchBatch]:
        if get_worker_info() is not None:
            raise RuntimeError("ConveyorIterableDataset runs in the training process: use DataLoader(ds, "
                               "batch_size=None, num_workers=0); Conveyor's node already loads in parallel")
        for batch in self.loader:
            yield to_torch(batch)

    def state_dict(self) -> Dict[str, Any]:
        return self.loader.state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.loader.load_state_dict(state)
