package dev.conveyor.streams.plan;

import java.util.ArrayList;
import java.util.List;

/**
 * Which whole shards each rank reads: shard {@code i} goes to rank {@code i mod world}, in
 * list order, the same every epoch. A pure function of the shard list and world size, so two
 * runs read identically; the seeded, balanced plan of DESIGN.md replaces it.
 */
public final class ShardAssignment {
  private ShardAssignment() {}

  public static <T> List<T> forRank(List<T> shards, int worldSize, int rank) {
    if (worldSize < 1 || rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException("rank " + rank + " outside world of " + worldSize);
    }
    List<T> mine = new ArrayList<>((shards.size() + worldSize - 1) / worldSize);
    for (int i = rank; i < shards.size(); i += worldSize) {
      mine.add(shards.get(i));
    }
    return mine;
  }
}
