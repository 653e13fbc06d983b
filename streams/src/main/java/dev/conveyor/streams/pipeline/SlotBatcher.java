package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.Skipped;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.ShardRecord;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;

/**
 * What a rank's batchers share: slots taken in plan order from the segment's first position —
 * one out of order fails the stream (order is checked, not assumed) — and one short of the
 * segment's size at the end fails it too; a report of something that held no planned sample
 * becomes a {@link Skipped} of the batch being filled. How slots make batches is a
 * {@link Cutter}'s, one per materialization.
 */
abstract class SlotBatcher extends GraphStage<FlowShape<ReadEvent, RankEvent>> {
  private final Inlet<ReadEvent> in;
  private final Outlet<RankEvent> out;
  private final FlowShape<ReadEvent, RankEvent> shape;
  final RankSegment seg;

  SlotBatcher(RankSegment seg, String name) {
    this.seg = seg;
    this.in = Inlet.create(name + ".in");
    this.out = Outlet.create(name + ".out");
    this.shape = FlowShape.of(in, out);
  }

  /** How one materialization cuts slots into batches. */
  interface Cutter {
    /** The record at plan position {@code position} (in order): the batches and skips it completes go to {@code events}. */
    void slot(long position, ShardRecord record, List<RankEvent> events);

    /** The batch being filled, as the segment numbers it. */
    long batch();

    /** Every position was read: what is left to emit goes to {@code events}. */
    void finish(List<RankEvent> events);
  }

  /** A new cutter, for one materialization. */
  abstract Cutter cutter();

  /** A skip of {@code d} in batch {@code k} of the segment. */
  final Skipped skipped(DeadLetter d, long k) {
    return new Skipped(seg.epoch(), seg.rank(), seg.stepBase() + k, d);
  }

  @Override
  public FlowShape<ReadEvent, RankEvent> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    Cutter cutter = cutter();
    return new GraphStageLogic(shape) {
      private long expected = seg.firstPosition();

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            List<RankEvent> events = new ArrayList<>(2);
            ReadEvent e = grab(in);
            if (e instanceof ReadEvent.Report r) {
              events.add(skipped(r.deadLetter(), cutter.batch()));
            } else {
              ReadEvent.Slot s = (ReadEvent.Slot) e;
              if (s.position() != expected) {
                failStage(new IllegalStateException("plan order broken on rank " + seg.rank() + ": position "
                    + s.position() + " arrived where " + expected + " was due"));
                return;
              }
              cutter.slot(expected++, s.record(), events);
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
              failStage(new IllegalStateException("rank " + seg.rank() + " read " + expected + " of " + seg.size()
                  + " planned positions"));
              return;
            }
            List<RankEvent> events = new ArrayList<>();
            cutter.finish(events);
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
    };
  }
}
