package dev.conveyor.streams.plan;

import dev.conveyor.streams.cursor.Cursor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The plan of a recipe with length buckets ({@link Bucketing}) for one rank: one contiguous part
 * per rank, as {@link FullPlan}'s, whose batches are made a pool at a time. The cursor records at
 * each rank a pool's first position and, until the pool's last batch is delivered, its
 * {@link Bucketing#mark} there; a resume at the same world reads that pool again.
 *
 * <p>After an elastic resume, each old rank's partly delivered pool is a unit: positions of a
 * known length with the batches of them delivered. The units go whole to the new ranks in turn,
 * each at the start of its part with its mark, and what no rank consumed of the old parts beside
 * them is split evenly after them. A unit is read again as the pool it was (it closes where it
 * ends) and its delivered batches skipped; a unit a later resume finds unread is carried the same
 * way.
 */
final class BucketPlan {
  private BucketPlan() {}

  /** Positions of an old part read as one pool, with the mark of what was delivered of it. */
  private record Unit(List<WindowSlice> windows, long mark) {}

  static RankSegment rank(DataPlan plan, Cursor cursor, int world, int rank) {
    int epoch = cursor.epoch();
    List<Cursor.Segment> segs = cursor.segments();
    int w0 = segs.get(0).world();
    long total = plan.order(epoch).total();
    List<List<WindowSlice>> seqs = new ArrayList<>(w0);
    List<TreeMap<Long, Long>> units = new ArrayList<>(w0); // per rank: its units' first positions -> marks
    for (int r = 0; r < w0; r++) {
      seqs.add(plan.windows(epoch, FullPlan.start(total, w0, r), FullPlan.size(total, w0, r)));
      units.add(new TreeMap<>());
    }
    long stepBase = 0;
    for (int j = 0; ; j++) {
      Cursor.Segment seg = segs.get(j);
      FullPlan.check(seg, seqs);
      boolean last = j == segs.size() - 1;
      if (last && seg.world() == world) {
        return FullPlan.segment(plan, epoch, rank, world, seqs.get(rank), seg.batches(rank), seg.position(rank),
            stepBase, ahead(units.get(rank), seg, rank));
      }
      List<Unit> pending = new ArrayList<>();
      List<WindowSlice> free = new ArrayList<>();
      long done = 0;
      for (int r = 0; r < seg.world(); r++) {
        long at = seg.position(r);
        for (Map.Entry<Long, Long> u : ahead(units.get(r), seg, r).entrySet()) {
          long length = Bucketing.lengthOf(u.getValue());
          free.addAll(Sequences.cut(seqs.get(r), at, u.getKey() - at));
          pending.add(new Unit(Sequences.cut(seqs.get(r), u.getKey(), length), u.getValue()));
          at = u.getKey() + length;
        }
        free.addAll(Sequences.drop(seqs.get(r), at));
        done = Math.max(done, seg.batches(r));
      }
      stepBase += done;
      int next = last ? world : segs.get(j + 1).world();
      long left = Sequences.length(free);
      seqs = new ArrayList<>(next);
      units = new ArrayList<>(next);
      for (int r = 0; r < next; r++) {
        List<WindowSlice> part = new ArrayList<>();
        TreeMap<Long, Long> mine = new TreeMap<>();
        for (int i = r; i < pending.size(); i += next) {
          mine.put(Sequences.length(part), pending.get(i).mark());
          part.addAll(pending.get(i).windows());
        }
        part.addAll(Sequences.cut(free, FullPlan.start(left, next, r), FullPlan.size(left, next, r)));
        seqs.add(part);
        units.add(mine);
      }
      if (last) {
        return FullPlan.segment(plan, epoch, rank, world, seqs.get(rank), 0, 0, stepBase, units.get(rank));
      }
    }
  }

  /** Rank {@code r}'s units from its position on: those carried, and the pool it was in the middle of. */
  private static TreeMap<Long, Long> ahead(TreeMap<Long, Long> units, Cursor.Segment seg, int r) {
    TreeMap<Long, Long> out = new TreeMap<>(units.tailMap(seg.position(r), true));
    if (seg.offset(r) > 0) {
      out.put(seg.position(r), seg.offset(r));
    }
    return out;
  }
}
