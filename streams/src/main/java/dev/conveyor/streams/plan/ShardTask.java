package dev.conveyor.streams.plan;

/** Samples {@code [from, to)} (in shard order) of shard {@code shard}: one contiguous read. */
public record ShardTask(int shard, int from, int to) {
  public int size() {
    return to - from;
  }
}
