package dev.conveyor.orchestrator.job;

import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.cursor.Cursor;

/**
 * Follows delivered batches and knows the cursor after the last one. A process that serves one
 * rank of a lockstep job records that rank's count for every rank. Single-threaded.
 */
final class CursorTracker {
  private final int world;
  private final boolean oneRank;
  private Cursor cursor;

  CursorTracker(Cursor start, boolean oneRank) {
    this.cursor = start;
    this.world = start.world();
    this.oneRank = oneRank;
  }

  void delivered(RawBatch b) {
    delivered(b.rank(), b.epoch(), b.index());
  }

  /** Batch number {@code index} (from 0 in each epoch) of {@code epoch} was delivered to {@code rank}. */
  void delivered(int rank, int epoch, long index) {
    if (epoch > cursor.epoch()) {
      cursor = cursor.atEpoch(epoch, world);
    }
    if (oneRank) {
      for (int r = 0; r < world; r++) {
        cursor = cursor.withDelivered(r, index + 1);
      }
    } else {
      cursor = cursor.withDelivered(rank, index + 1);
    }
  }

  Cursor cursor() {
    return cursor;
  }
}
