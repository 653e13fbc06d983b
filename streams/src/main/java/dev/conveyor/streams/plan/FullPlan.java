package dev.conveyor.streams.plan;

import dev.conveyor.streams.cursor.Cursor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The plan of a recipe of full batches for one rank: the epoch's sequence is split into one
 * contiguous part per rank, as evenly as can be (sizes differ by at most one position), and a
 * rank's batch is its next {@code batch} kept samples — filtered and bad samples take positions
 * but no place in a batch. How many batches an epoch has is decided as it is read: as many as
 * the rank with the fewest kept samples fills; what every rank holds after that is left over.
 *
 * <p>The cursor records each rank's positions consumed — and, when a flatMap made the sample
 * there into several, its outputs delivered — so a resume at the same world goes on at them.
 * After an elastic resume what no rank had consumed — the rest of each old rank's part, old rank
 * by old rank — is the sequence split among the new ranks, each partly delivered sample with the
 * outputs to skip.
 */
final class FullPlan {
  private FullPlan() {}

  static RankSegment rank(DataPlan plan, Cursor cursor, int world, int rank) {
    int epoch = cursor.epoch();
    List<Cursor.Segment> segs = cursor.segments();
    int w0 = segs.get(0).world();
    long total = plan.order(epoch).total();
    List<List<WindowSlice>> seqs = new ArrayList<>(w0);
    // per rank: samples of its part a flatMap made into several, some outputs of which were delivered
    List<Map<Long, Long>> skips = new ArrayList<>(w0);
    for (int r = 0; r < w0; r++) {
      seqs.add(plan.windows(epoch, start(total, w0, r), size(total, w0, r)));
      skips.add(Map.of());
    }
    long stepBase = 0;
    for (int j = 0; ; j++) {
      Cursor.Segment seg = segs.get(j);
      check(seg, seqs);
      boolean last = j == segs.size() - 1;
      if (last && seg.world() == world) {
        // the part keeps its numbering: what is left of its skips from its position on, where they were
        return segment(plan, epoch, rank, world, seqs.get(rank), seg.batches(rank), seg.position(rank), stepBase,
            left(skips.get(rank), seg, rank, seg.position(rank)));
      }
      List<WindowSlice> remaining = new ArrayList<>();
      TreeMap<Long, Long> remainingSkips = new TreeMap<>();
      long done = 0;
      for (int r = 0; r < seg.world(); r++) {
        remainingSkips.putAll(left(skips.get(r), seg, r, Sequences.length(remaining)));
        remaining.addAll(Sequences.drop(seqs.get(r), seg.position(r)));
        done = Math.max(done, seg.batches(r));
      }
      stepBase += done;
      int next = last ? world : segs.get(j + 1).world();
      long left = Sequences.length(remaining);
      seqs = new ArrayList<>(next);
      skips = new ArrayList<>(next);
      for (int r = 0; r < next; r++) {
        long from = start(left, next, r);
        long n = size(left, next, r);
        seqs.add(Sequences.cut(remaining, from, n));
        Map<Long, Long> mine = new TreeMap<>();
        remainingSkips.subMap(from, from + n).forEach((at, k) -> mine.put(at - from, k));
        skips.add(mine);
      }
      if (last) {
        return segment(plan, epoch, rank, world, seqs.get(rank), 0, 0, stepBase, skips.get(rank));
      }
    }
  }

  /**
   * The skips of rank {@code r}'s part still ahead of the segment's position for it — the sample
   * there with the outputs the cursor says were delivered — numbered from {@code base} at that
   * position.
   */
  private static Map<Long, Long> left(Map<Long, Long> skips, Cursor.Segment seg, int r, long base) {
    Map<Long, Long> out = new TreeMap<>();
    long at = seg.position(r);
    skips.forEach((p, k) -> {
      if (p >= at) {
        out.put(base + p - at, k);
      }
    });
    if (seg.offset(r) > 0) {
      out.put(base, seg.offset(r));
    }
    return out;
  }

  static RankSegment segment(DataPlan plan, int epoch, int rank, int world, List<WindowSlice> part,
                                     long firstBatch, long firstPosition, long stepBase, Map<Long, Long> skips) {
    long size = Sequences.length(part);
    int b = plan.recipe().batchSize();
    int smallest = plan.recipe().bucketing().map(Bucketing::smallest).orElse(b); // the most batches a part can give
    return new RankSegment(epoch, rank, world, part, size, size / smallest, firstBatch, stepBase, b, 0,
        java.util.Optional.empty(), firstPosition, true, skips, plan.recipe().shape());
  }

  /** A cursor of full batches records positions within each rank's part once a batch is delivered. */
  static void check(Cursor.Segment seg, List<List<WindowSlice>> seqs) {
    check(seg, r -> Sequences.length(seqs.get(r)));
  }

  /**
   * The same, rank {@code r}'s part holding {@code size.applyAsLong(r)} positions (a mix's: its
   * stream's).
   */
  static void check(Cursor.Segment seg, java.util.function.IntToLongFunction size) {
    for (int r = 0; r < seg.world(); r++) {
      if (seg.batches(r) > 0 && !seg.hasPositions()) {
        throw new IllegalArgumentException("the cursor counts batches but records no plan positions, which a recipe of full"
            + " batches needs: it was not written for this recipe");
      }
      if (seg.position(r) > size.applyAsLong(r)) {
        throw new IllegalArgumentException("the cursor puts rank " + r + " at position " + seg.position(r) + " of a part of "
            + size.applyAsLong(r) + ": it was not written for this recipe");
      }
    }
  }

  /** Rank {@code r}'s share of {@code n} positions split among {@code w} ranks: lower ranks take one more. */
  static long size(long n, int w, int r) {
    return n / w + (r < n % w ? 1 : 0);
  }

  static long start(long n, int w, int r) {
    return r * (n / w) + Math.min(r, n % w);
  }
}
