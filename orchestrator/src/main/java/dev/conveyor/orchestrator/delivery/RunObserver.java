package dev.conveyor.orchestrator.delivery;

import dev.conveyor.orchestrator.delivery.RankReport.BatchDone;
import dev.conveyor.streams.sample.DeadLetter;

/**
 * Told what a run delivers, in lockstep order, on {@link Delivery}'s thread: a progress bar, a
 * run report's recording. Must not block.
 */
public interface RunObserver {
  /** The batches this run plans to deliver over all its ranks, when known before it starts. */
  default void planned(long batches) {}

  /** A batch a trainer took. */
  void batch(BatchDone b);

  /** A sample or shard skipped as bad. */
  void deadLetter(DeadLetter d);
}
