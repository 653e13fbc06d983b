package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.plan.Bucketing;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.sample.RawSample;
import java.util.ArrayList;
import java.util.List;

/**
 * Full batches of length buckets ({@link Bucketing}), a pool at a time: the pool's kept samples
 * (its next {@code pool}, whole slots; or, at a unit the plan marked, exactly the unit's
 * positions) are held, and when it closes they go to their buckets in plan order, a batch made
 * each time a bucket fills, in that order; what the buckets still hold is left out. A batch's end
 * is the pool's first position with the pool's mark, or — its last batch — the position after
 * the pool. A pool marked as partly delivered is read again quietly: its first batches are not
 * made again, its left-out and bad samples not counted again. A sample without the token field is
 * a dead letter.
 */
final class BucketCutter extends FullCutter {
  private final Bucketing buckets;
  private final List<RawSample> held = new ArrayList<>();
  /** Each held sample's bucket. */
  private final List<Integer> bucketOf = new ArrayList<>();
  /** The open pool's first position, -1 when none is open. */
  private long poolStart = -1;
  /** Where a marked pool (a unit) ends, -1 for a pool closed by its count. */
  private long poolEnd = -1;
  /** Batches of the open pool delivered before this segment. */
  private long delivered;

  BucketCutter(RankSegment seg, FullBatcher.Progress progress, SlotBatcher batcher) {
    super(seg, progress, batcher);
    this.buckets = seg.bucketing().orElseThrow();
  }

  @Override
  void before(long at, List<RankEvent> events) {
    if (poolStart >= 0 && poolEnd >= 0 && at >= poolEnd) {
      close(poolEnd, events);
    }
    if (poolStart < 0) {
      long mark = seg.skip(at);
      poolStart = at;
      poolEnd = mark > 0 ? at + Bucketing.lengthOf(mark) : -1;
      delivered = mark > 0 ? Bucketing.batchesOf(mark) : 0;
      muted = delivered > 0;
    }
  }

  @Override
  void take(long at, List<RawSample> samples, long skip, List<RankEvent> events) {
    for (RawSample s : samples) {
      int[] t = tokens(s, buckets.field());
      if (t == null) {
        noTokens(s, buckets.field(), "bucket by", events);
      } else {
        held.add(s);
        bucketOf.add(buckets.bucketOf(t.length));
      }
    }
    if (poolEnd < 0 && held.size() >= buckets.pool()) {
      close(at + 1, events);
    }
  }

  @Override
  void closing(List<RankEvent> events) {
    if (poolStart >= 0) {
      close(poolEnd >= 0 ? poolEnd : seg.size(), events);
    }
  }

  /** The open pool, ending before {@code end}, into its batches. */
  private void close(long end, List<RankEvent> events) {
    int[] sizes = buckets.batchSizes();
    List<List<RawSample>> filling = new ArrayList<>(sizes.length);
    for (int i = 0; i < sizes.length; i++) {
      filling.add(new ArrayList<>());
    }
    List<List<RawSample>> made = new ArrayList<>();
    for (int j = 0; j < held.size(); j++) {
      int b = bucketOf.get(j);
      filling.get(b).add(held.get(j));
      if (filling.get(b).size() == sizes[b]) {
        made.add(filling.get(b));
        filling.set(b, new ArrayList<>());
      }
    }
    for (List<RawSample> rest : filling) {
      rest.forEach(s -> leftOut());
    }
    muted = false;
    for (int i = (int) delivered; i < made.size(); i++) {
      boolean lastOfPool = i == made.size() - 1;
      emit(made.get(i), lastOfPool ? end : poolStart, lastOfPool ? 0 : Bucketing.mark(i + 1, end - poolStart), events);
    }
    held.clear();
    bucketOf.clear();
    poolStart = -1;
    poolEnd = -1;
    delivered = 0;
  }
}
