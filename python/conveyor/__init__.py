"""Conveyor for Python trainers: batches from a Conveyor node through shared memory.

This far the package holds the reader's side of the shared-memory ring (``conveyor._ring``);
the ``Loader`` that starts or attaches to a node and reads its rank's ring comes next.
"""

__version__ = "0.1.0"
