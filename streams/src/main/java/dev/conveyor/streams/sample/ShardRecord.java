package dev.conveyor.streams.sample;

/** What reading a shard yields, in shard order: samples, and dead letters for what could not be read (and, after a pipeline's filter, the samples it left out). */
public sealed interface ShardRecord permits RawSample, DeadLetter, Filtered, Expanded {

  /** The shard this record came from, as its URI string. */
  String shard();
}
