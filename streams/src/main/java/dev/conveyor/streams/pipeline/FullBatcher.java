package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.batch.Skipped;
import dev.conveyor.streams.batch.SourceCounts;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.Expanded;
import dev.conveyor.streams.sample.Filtered;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.ShardRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a rank's plan-ordered slots into full batches: each batch is the next {@code batch} kept
 * samples from the segment's first position on, with the filtered ones met on the way counted in
 * it and the bad ones reported as {@link Skipped} before it; its {@code end} is the position
 * after its last slot. A sample a flatMap made into several ({@link Expanded}) gives its outputs
 * in order, and a batch may end between two of them: its end is then that sample's position and
 * the outputs it delivered ({@code endOffset}); the segment's skips say which outputs a resumed
 * part delivered before. Kept samples left when the part runs out fill no batch. Each batch made,
 * and the part's end, are told to {@code gate} as they happen — not when the batch is pulled —
 * so the ranks can agree how many batches the epoch has.
 */
final class FullBatcher extends SlotBatcher {
  /** What a batcher tells as it goes. */
  interface Progress {
    /** Batch {@code index} was made; the rank's position after it is {@code end} (and {@code offset} outputs of it). */
    void made(long index, long end, long offset);

    /** The part ran out after {@code batches} batches (counted from the epoch's first). */
    void ranOut(long batches);
  }

  private final Progress progress;

  FullBatcher(RankSegment seg, Progress progress) {
    super(seg, "FullBatcher");
    if (!seg.full()) {
      throw new IllegalArgumentException("a segment of fixed batches: use PlanBatcher");
    }
    this.progress = progress;
  }

  @Override
  Cutter cutter() {
    if (seg.packing().isPresent()) {
      return new TokenPacker(seg, progress, this);
    }
    return new Cutter() {
      private long k = seg.firstBatch();
      private List<RawSample> pending = new ArrayList<>();
      private int filtered;

      @Override
      public void slot(long at, ShardRecord record, List<RankEvent> events) {
        if (record instanceof RawSample sample) {
          add(sample, at, 0, 1, events);
        } else if (record instanceof Expanded x) {
          long skip = seg.skip(at);
          if (skip == 0) {
            filtered += x.filtered(); // counted once, with the batch its first output goes to
          }
          for (int j = (int) skip; j < x.outputs().size(); j++) {
            add(x.outputs().get(j), at, j, x.outputs().size(), events);
          }
        } else if (record instanceof Filtered) {
          filtered++;
        } else {
          events.add(skipped((DeadLetter) record, k));
        }
      }

      @Override
      public long batch() {
        return k;
      }

      @Override
      public void finish(List<RankEvent> events) {
        progress.ranOut(k);
      }

      /** Output {@code j} of the {@code n} of the sample at {@code at} into the batch; the batch out when full. */
      private void add(RawSample sample, long at, int j, int n, List<RankEvent> events) {
        pending.add(sample);
        if (pending.size() == seg.batch()) {
          long end = j + 1 < n ? at : at + 1;
          long offset = j + 1 < n ? j + 1 : 0;
          events.add(new RawBatch(seg.epoch(), seg.rank(), seg.stepBase() + k, k, pending, filtered,
              SourceCounts.NONE, end, offset, new long[0], new long[0]));
          progress.made(k, end, offset);
          pending = new ArrayList<>();
          filtered = 0;
          k++;
        }
      }
    };
  }
}
