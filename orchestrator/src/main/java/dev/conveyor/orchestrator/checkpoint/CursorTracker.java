package dev.conveyor.orchestrator.checkpoint;

import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.cursor.Cursor;
import java.util.Arrays;
import java.util.TreeMap;

/**
 * Follows delivered batches and knows the cursor after the last one. Ranks need not report in
 * lockstep — on a cluster each rank's batches come from its own stream, and one rank may be
 * into the next epoch while another finishes this one — so the cursor is the epoch the slowest
 * rank is in, with every rank's count in it (a rank already past it counts all it delivered
 * there). Every rank steps the same number of times in an epoch, so a rank that reported a
 * batch of a later epoch has finished the earlier ones. Reports of an epoch the cursor has left
 * and counts lower than one already reported are ignored: a report that arrives twice or late
 * (a coordinator that took over asks the ranks where they are) never moves the cursor back.
 * A process that serves one rank of a lockstep job records that rank's count for every rank.
 * Single-threaded.
 */
public final class CursorTracker {
  private final Cursor start;
  private final int world;
  private final boolean oneRank;
  /** Per epoch from the slowest rank's on: each rank's count of delivered batches in the cursor's last segment. */
  private final TreeMap<Integer, long[]> counts = new TreeMap<>();
  /** The newest epoch each rank reported. */
  private final int[] epochOf;

  public CursorTracker(Cursor start, boolean oneRank) {
    this.start = start;
    this.world = start.world();
    this.oneRank = oneRank;
    this.epochOf = new int[world];
    Arrays.fill(epochOf, start.epoch());
    counts.put(start.epoch(), start.current().batches().clone());
  }

  public void delivered(RawBatch b) {
    delivered(b.rank(), b.epoch(), b.index());
  }

  /** Batch number {@code index} (from 0 in each epoch) of {@code epoch} was delivered to {@code rank}. */
  void delivered(int rank, int epoch, long index) {
    if (epoch < counts.firstKey()) {
      return; // an epoch every rank has left
    }
    long[] c = counts.computeIfAbsent(epoch, e -> new long[world]);
    for (int r = oneRank ? 0 : rank; r < (oneRank ? world : rank + 1); r++) {
      c[r] = Math.max(c[r], index + 1);
      epochOf[r] = Math.max(epochOf[r], epoch);
    }
    int slowest = Arrays.stream(epochOf).min().orElseThrow();
    counts.headMap(slowest).clear();
  }

  public Cursor cursor() {
    int epoch = counts.firstKey();
    Cursor c = epoch == start.epoch() ? start : start.atEpoch(epoch, world);
    long[] n = counts.get(epoch);
    for (int r = 0; r < world; r++) {
      c = c.withDelivered(r, n[r]);
    }
    return c;
  }
}
