package dev.conveyor.streams.batch;

import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.ShardRecord;
import java.util.ArrayList;
import java.util.List;
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
 * Forms one rank's batches for one epoch by sample count, in arrival order. Dead letters pass
 * through as {@link Skipped} events at the place they occurred. The last batch of the epoch
 * may be short (it is delivered, not dropped). Holds at most one batch.
 */
public final class Batcher extends GraphStage<FlowShape<ShardRecord, RankEvent>> {
  private final Inlet<ShardRecord> in = Inlet.create("Batcher.in");
  private final Outlet<RankEvent> out = Outlet.create("Batcher.out");
  private final FlowShape<ShardRecord, RankEvent> shape = FlowShape.of(in, out);
  private final int epoch;
  private final int rank;
  private final int batchSize;

  private Batcher(int epoch, int rank, int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
    }
    this.epoch = epoch;
    this.rank = rank;
    this.batchSize = batchSize;
  }

  public static Flow<ShardRecord, RankEvent, NotUsed> flow(int epoch, int rank, int batchSize) {
    return Flow.fromGraph(new Batcher(epoch, rank, batchSize));
  }

  @Override
  public FlowShape<ShardRecord, RankEvent> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new GraphStageLogic(shape) {
      private List<RawSample> pending = new ArrayList<>(batchSize);
      private long step;

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            ShardRecord r = grab(in);
            if (r instanceof DeadLetter d) {
              push(out, new Skipped(epoch, rank, step, d));
              return;
            }
            pending.add((RawSample) r);
            if (pending.size() == batchSize) {
              push(out, takeBatch());
            } else {
              pull(in);
            }
          }

          @Override
          public void onUpstreamFinish() {
            if (!pending.isEmpty()) {
              emit(out, takeBatch());
            }
            complete(out);
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            pull(in);
          }
        });
      }

      private RawBatch takeBatch() {
        RawBatch b = new RawBatch(epoch, rank, step++, pending);
        pending = new ArrayList<>(batchSize);
        return b;
      }
    };
  }
}
