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
  /** Per epoch from the slowest rank's on: where each rank stands in the cursor's last segment. */
  private final TreeMap<Integer, Standing> epochs = new TreeMap<>();
  /** The newest epoch each rank reported. */
  private final int[] epochOf;

  /**
   * Each rank's count of delivered batches and, with full batches, the plan positions they took
   * (-1 where none was reported) and the outputs of the sample there delivered too (a flatMap's).
   */
  private record Standing(long[] counts, long[] positions, long[] offsets) {}

  public CursorTracker(Cursor start, boolean oneRank) {
    this.start = start;
    this.world = start.world();
    this.oneRank = oneRank;
    this.epochOf = new int[world];
    Arrays.fill(epochOf, start.epoch());
    Cursor.Segment now = start.current();
    epochs.put(start.epoch(), new Standing(now.batches(), now.hasPositions() ? now.positions() : unknown(),
        now.offsets().length > 0 ? now.offsets() : new long[world]));
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
    if (epoch < epochs.firstKey()) {
      return; // an epoch every rank has left
    }
    Standing s = epochs.computeIfAbsent(epoch, e -> new Standing(new long[world], unknown(), new long[world]));
    long[] c = s.counts();
    long[] p = s.positions();
    long[] o = s.offsets();
    for (int r = oneRank ? 0 : rank; r < (oneRank ? world : rank + 1); r++) {
      if (index + 1 >= c[r] && ends[r] >= 0) {
        p[r] = ends[r];
        o[r] = subs[r];
      }
      c[r] = Math.max(c[r], index + 1);
      epochOf[r] = Math.max(epochOf[r], epoch);
    }
    int slowest = Arrays.stream(epochOf).min().orElseThrow();
    epochs.headMap(slowest).clear();
  }

  private long[] unknown() {
    long[] u = new long[world];
    Arrays.fill(u, -1);
    return u;
  }

  public Cursor cursor() {
    int epoch = epochs.firstKey();
    Cursor c = epoch == start.epoch() ? start : start.atEpoch(epoch, world);
    Standing s = epochs.get(epoch);
    long[] n = s.counts();
    long[] p = s.positions();
    long[] o = s.offsets();
    for (int r = 0; r < world; r++) {
      c = p[r] >= 0 ? c.withDelivered(r, n[r], p[r], o[r]) : c.withDelivered(r, n[r]);
    }
    return c;
  }
}
