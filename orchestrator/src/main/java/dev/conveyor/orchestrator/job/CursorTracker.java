package dev.conveyor.orchestrator.job;

import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.cursor.Cursor;

/** Follows delivered batches and knows the cursor after the last one. Single-threaded. */
final class CursorTracker {
  private final String fingerprint;
  private final int worldSize;
  private int epoch;
  private long[] delivered;

  CursorTracker(Cursor start) {
    this.fingerprint = start.fingerprint();
    this.worldSize = start.worldSize();
    this.epoch = start.epoch();
    this.delivered = start.batchesDelivered();
  }

  void delivered(RawBatch b) {
    if (b.epoch() > epoch) {
      epoch = b.epoch();
      delivered = new long[worldSize];
    }
    delivered[b.rank()] = b.step() + 1;
  }

  Cursor cursor() {
    return new Cursor(fingerprint, epoch, worldSize, delivered);
  }
}
