package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.ShardRecord;

/** What reading a rank's windows yields, in plan order. */
public sealed interface ReadEvent permits ReadEvent.Slot, ReadEvent.Report {

  /**
   * Plan position {@code position} of the rank's segment, filled: a {@link dev.conveyor.streams.sample.RawSample},
   * or a {@link DeadLetter} saying why that sample could not be delivered.
   */
  record Slot(long position, ShardRecord record) implements ReadEvent {}

  /** Something skipped that held no planned sample (a stray member, a broken shard's description). */
  record Report(DeadLetter deadLetter) implements ReadEvent {}
}
