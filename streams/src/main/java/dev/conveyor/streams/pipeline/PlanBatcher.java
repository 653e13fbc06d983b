package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.batch.Skipped;
import dev.conveyor.streams.batch.SourceCounts;
import dev.conveyor.streams.plan.MixPositions;
import dev.conveyor.streams.plan.MixedReads;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.Expanded;
import dev.conveyor.streams.sample.Filtered;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.ShardRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Flow;

/**
 * Cuts a rank's plan-ordered slots into the segment's batches: batch {@code k} is exactly the
 * positions {@code [k*B, min((k+1)*B, size))}; a bad slot leaves its batch shorter and becomes
 * a {@link Skipped}, a filtered one leaves it shorter and is counted in the batch, and one a
 * flatMap made into several gives them all (the batch is then longer). Every one of the
 * segment's batches is emitted, empty ones too, so ranks step in lockstep. In a mix, each batch
 * says what each of its sources gave it.
 */
final class PlanBatcher extends SlotBatcher {
  private PlanBatcher(RankSegment seg) {
    super(seg, "PlanBatcher");
  }

  static Flow<ReadEvent, RankEvent, NotUsed> flow(RankSegment seg) {
    return Flow.fromGraph(new PlanBatcher(seg));
  }

  @Override
  Cutter cutter() {
    return new Cutter() {
      private long k = seg.firstBatch();
      private long expected = seg.firstPosition();
      private List<RawSample> pending = new ArrayList<>();
      private int filtered;
      // a mix: which source each position is, and what each source gave the batch
      private final Optional<MixPositions.Walk> walk = seg.mixed().map(MixedReads::walk);
      private long[][] counts = new long[3][seg.mixed().map(m -> m.sequences().size()).orElse(0)]; // samples, filtered, bad

      @Override
      public void slot(long position, ShardRecord record, List<RankEvent> events) {
        int kind;
        int n = 1;
        int outsFiltered = 0;
        if (record instanceof RawSample sample) {
          pending.add(sample);
          kind = 0;
        } else if (record instanceof Expanded x) {
          pending.addAll(x.outputs()); // a flatMap's outputs: the batch of fixed positions holds them all
          filtered += x.filtered();
          kind = 0;
          n = x.outputs().size();
          outsFiltered = x.filtered();
        } else if (record instanceof Filtered) {
          filtered++;
          kind = 1;
        } else {
          events.add(skipped((DeadLetter) record, k));
          kind = 2;
        }
        if (walk.isPresent()) {
          int source = walk.get().sourceAt(position);
          counts[kind][source] += n;
          counts[1][source] += outsFiltered;
        }
        expected = position + 1;
        completeBatches(events);
      }

      @Override
      public long batch() {
        return k;
      }

      @Override
      public void finish(List<RankEvent> events) {
        completeBatches(events);
      }

      /** Emits every batch whose last position has arrived, and empty batches that follow. */
      private void completeBatches(List<RankEvent> events) {
        while (k < seg.steps() && seg.batchEnd(k) <= expected) {
          SourceCounts sources = walk.isEmpty() ? SourceCounts.NONE : new SourceCounts(counts[0], counts[1], counts[2]);
          events.add(new RawBatch(seg.epoch(), seg.rank(), seg.stepBase() + k, k, pending, filtered, sources));
          pending = new ArrayList<>();
          filtered = 0;
          k++;
          counts = new long[3][counts[0].length];
        }
      }
    };
  }
}
