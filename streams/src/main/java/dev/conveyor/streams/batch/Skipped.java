package dev.conveyor.streams.batch;

import static java.util.Objects.requireNonNull;

import dev.conveyor.streams.sample.DeadLetter;

/** A dead letter seen by a rank while it formed batch {@code step} of {@code epoch}. */
public record Skipped(int epoch, int rank, long step, DeadLetter deadLetter) implements RankEvent {
  public Skipped {
    requireNonNull(deadLetter, "deadLetter is null");
  }
}
