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
  /** Likewise, the plan positions those batches took (full batches; -1 where none was reported). */
  private final TreeMap<Integer, long[]> positions = new TreeMap<>();
  /** And the outputs of the sample at each position delivered too (a flatMap's). */
  private final TreeMap<Integer, long[]> offsets = new TreeMap<>();
  /** The newest epoch each rank reported. */
  private final int[] epochOf;

  public CursorTracker(Cursor start, boolean oneRank) {
    this.start = start;
    this.world = start.world();
    this.oneRank = oneRank;
    this.epochOf = new int[world];
    Arrays.fill(epochOf, start.epoch());
    counts.put(start.epoch(), start.current().batches().clone());
    positions.put(start.epoch(), start.current().hasPositions() ? start.current().positions() : unknown());
    offsets.put(start.epoch(), start.current().offsets().length > 0 ? start.current().offsets() : new long[world]);
  }

  /**
   * A batch was delivered. With full batches it carries every rank's position after it, which
   * a process serving one rank records for all of them.
   */
  public void delivered(RawBatch b) {
    long[] ends = b.ends();
    delivered(b.rank(), b.epoch(), b.index(), ends.length == 0 ? unknown() : ends,
        ends.length == 0 ? new long[world] : b.endOffsets());
  }

  /** Batch number {@code index} (from 0 in each epoch) of {@code epoch} was delivered to {@code rank}. */
  void delivered(int rank, int epoch, long index) {
    delivered(rank, epoch, index, -1, 0);
  }

  /**
   * The same, and the rank's plan position after it ({@code end}; -1 for fixed batches), with
   * {@code offset} outputs of the sample there delivered.
   */
  void delivered(int rank, int epoch, long index, long end, long offset) {
    long[] ends = unknown();
    ends[rank] = end;
    long[] subs = new long[world];
    subs[rank] = offset;
    delivered(rank, epoch, index, ends, subs);
  }

  /**
   * The same, with the plan positions after the batch: {@code ends[r]} for rank {@code r}, -1
   * where it is not known (fixed batches; another rank's, on a node that knows only its own).
   */
  void delivered(int rank, int epoch, long index, long[] ends, long[] subs) {
    if (epoch < counts.firstKey()) {
      return; // an epoch every rank has left
    }
    long[] c = counts.computeIfAbsent(epoch, e -> new long[world]);
    long[] p = positions.computeIfAbsent(epoch, e -> unknown());
    long[] o = offsets.computeIfAbsent(epoch, e -> new long[world]);
    for (int r = oneRank ? 0 : rank; r < (oneRank ? world : rank + 1); r++) {
      if (index + 1 >= c[r] && ends[r] >= 0) {
        p[r] = ends[r];
        o[r] = subs[r];
      }
      c[r] = Math.max(c[r], index + 1);
      epochOf[r] = Math.max(epochOf[r], epoch);
    }
    int slowest = Arrays.stream(epochOf).min().orElseThrow();
    counts.headMap(slowest).clear();
    positions.headMap(slowest).clear();
    offsets.headMap(slowest).clear();
  }

  private long[] unknown() {
    long[] u = new long[world];
    Arrays.fill(u, -1);
    return u;
  }

  public Cursor cursor() {
    int epoch = counts.firstKey();
    Cursor c = epoch == start.epoch() ? start : start.atEpoch(epoch, world);
    long[] n = counts.get(epoch);
    long[] p = positions.get(epoch);
    long[] o = offsets.get(epoch);
    for (int r = 0; r < world; r++) {
      c = p[r] >= 0 ? c.withDelivered(r, n[r], p[r], o[r]) : c.withDelivered(r, n[r]);
    }
    return c;
  }
}
