package dev.conveyor.streams.dsl;

import java.util.SplittableRandom;

/**
 * A pipeline author's batch-level stage ({@link Pipeline#mapBatches}): given a rank's batch as
 * columns and a random stream seeded by (recipe seed, epoch, rank, batch, the stage's place), it
 * returns the batch it makes of it — the same samples, in the same order. It runs on the trainer
 * host after the batch is cut, before it is delivered (or written by a sink); a batch is the same
 * on every run, so a resumed run sees the same output. A thrown exception fails the rank, naming
 * the stage and the batch.
 */
@FunctionalInterface
public interface BatchMap {
  Batch apply(Batch batch, SplittableRandom random) throws Exception;
}
