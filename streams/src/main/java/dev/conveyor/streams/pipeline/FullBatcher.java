package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.Skipped;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.sample.Expanded;
import dev.conveyor.streams.sample.RawSample;
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
    if (seg.bucketing().isPresent()) {
      return new BucketCutter(seg, progress, this);
    }
    return new FullCutter(seg, progress, this) {
      private List<RawSample> pending = new ArrayList<>();

      /** One place each; a batch may end between two outputs of the slot (its end is then the slot, with the outputs used). */
      @Override
      void take(long at, List<RawSample> samples, long skip, List<RankEvent> events) {
        int n = samples.size();
        for (int j = (int) skip; j < n; j++) {
          pending.add(samples.get(j));
          took();
          if (pending.size() == seg.batch()) {
            emit(pending, j + 1 < n ? at : at + 1, j + 1 < n ? j + 1 : 0, events);
            pending = new ArrayList<>();
          }
        }
      }
    };
  }
}
