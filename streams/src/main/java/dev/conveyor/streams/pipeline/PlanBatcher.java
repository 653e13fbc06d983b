package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.batch.Skipped;
import dev.conveyor.streams.batch.SourceCounts;
import dev.conveyor.streams.plan.Mix;
import dev.conveyor.streams.plan.MixedReads;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.Expanded;
import dev.conveyor.streams.sample.Filtered;
import dev.conveyor.streams.sample.RawSample;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;

/**
 * Cuts a rank's plan-ordered slots into the segment's batches: batch {@code k} is exactly the
 * positions {@code [k*B, min((k+1)*B, size))}; a bad slot leaves its batch shorter and becomes
 * a {@link Skipped}, a filtered one leaves it shorter and is counted in the batch, and one a
 * flatMap made into several gives them all (the batch is then longer). Every one of the segment's batches is emitted, empty ones too, so ranks
 * step in lockstep. A slot out of plan order fails the stream: order is checked, not assumed.
 */
final class PlanBatcher extends GraphStage<FlowShape<ReadEvent, RankEvent>> {
  private final Inlet<ReadEvent> in = Inlet.create("PlanBatcher.in");
  private final Outlet<RankEvent> out = Outlet.create("PlanBatcher.out");
  private final FlowShape<ReadEvent, RankEvent> shape = FlowShape.of(in, out);
  private final RankSegment seg;

  private PlanBatcher(RankSegment seg) {
    this.seg = seg;
  }

  static Flow<ReadEvent, RankEvent, NotUsed> flow(RankSegment seg) {
    return Flow.fromGraph(new PlanBatcher(seg));
  }

  @Override
  public FlowShape<ReadEvent, RankEvent> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new GraphStageLogic(shape) {
      private long k = seg.firstBatch();
      private long expected = seg.batchStart(seg.firstBatch());
      private List<RawSample> pending = new ArrayList<>();
      private int filtered;
      // a mix: which source each position of the batch is (the schedule's shares, source by source)
      private final Optional<Mix.Schedule> schedule = seg.mixed().map(MixedReads::schedule);
      private int[] shares = schedule.map(Mix.Schedule::next).orElse(new int[0]);
      private long[][] counts = new long[3][shares.length]; // samples, filtered, bad

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            List<RankEvent> events = new ArrayList<>(2);
            ReadEvent e = grab(in);
            if (e instanceof ReadEvent.Report r) {
              events.add(skipped(r.deadLetter()));
            } else {
              ReadEvent.Slot s = (ReadEvent.Slot) e;
              if (s.position() != expected) {
                failStage(new IllegalStateException("plan order broken on rank " + seg.rank() + ": position "
                    + s.position() + " arrived where " + expected + " was due"));
                return;
              }
              int kind;
              if (s.record() instanceof RawSample sample) {
                pending.add(sample);
                kind = 0;
              } else if (s.record() instanceof Expanded x) {
                pending.addAll(x.outputs()); // a flatMap's outputs: the batch of fixed positions holds them all
                filtered += x.filtered();
                kind = 0;
              } else if (s.record() instanceof Filtered) {
                filtered++;
                kind = 1;
              } else {
                events.add(skipped((DeadLetter) s.record()));
                kind = 2;
              }
              if (shares.length > 0) {
                counts[kind][sourceAt(s.position() - seg.batchStart(k))]++;
              }
              expected++;
              completeBatches(events);
            }
            if (events.isEmpty()) {
              pull(in);
            } else {
              emitMultiple(out, events.iterator());
            }
          }

          @Override
          public void onUpstreamFinish() {
            if (expected != seg.size()) {
              failStage(new IllegalStateException("rank " + seg.rank() + " read " + expected + " of " + seg.size() + " planned positions"));
              return;
            }
            List<RankEvent> events = new ArrayList<>();
            completeBatches(events);
            emitMultiple(out, events.iterator());
            complete(out);
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            if (!hasBeenPulled(in) && !isClosed(in)) {
              pull(in);
            }
          }
        });
      }

      /** Emits every batch whose last position has arrived, and empty batches that follow. */
      private void completeBatches(List<RankEvent> events) {
        while (k < seg.steps() && seg.batchEnd(k) <= expected) {
          SourceCounts sources = shares.length == 0 ? SourceCounts.NONE : new SourceCounts(counts[0], counts[1], counts[2]);
          events.add(new RawBatch(seg.epoch(), seg.rank(), seg.stepBase() + k, k, pending, filtered, sources));
          pending = new ArrayList<>();
          filtered = 0;
          k++;
          if (shares.length > 0) {
            shares = k < seg.steps() ? schedule.get().next() : shares;
            counts = new long[3][shares.length];
          }
        }
      }

      /** The source of the batch's {@code offset}-th position. */
      private int sourceAt(long offset) {
        long end = 0;
        for (int s = 0; s < shares.length; s++) {
          end += shares[s];
          if (offset < end) {
            return s;
          }
        }
        throw new IllegalStateException("position " + offset + " outside a batch of " + end);
      }

      private Skipped skipped(DeadLetter d) {
        return new Skipped(seg.epoch(), seg.rank(), seg.stepBase() + k, d);
      }
    };
  }
}
