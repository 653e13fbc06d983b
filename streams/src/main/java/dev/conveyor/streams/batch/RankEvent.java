package dev.conveyor.streams.batch;

/**
 * What one rank's stream delivers, in order: batches, and skipped samples at the point where
 * they were skipped. {@code step} of a skip is the step of the batch it would have joined.
 */
public sealed interface RankEvent permits RawBatch, Skipped {
  int epoch();

  int rank();

  long step();
}
