package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.batch.Batcher;
import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.sample.ShardSamples;
import dev.conveyor.streams.store.ShardStore;
import java.net.URI;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Function;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The stream graph of one rank: for each epoch, its shards read in order, grouped into samples
 * and batched. Pure: nothing runs until the caller materializes it.
 */
public final class RankPipeline {
  /** Records buffered between shard reading and batching: lets the next shard start early. */
  static final int READ_AHEAD_RECORDS = 64;

  private RankPipeline() {}

  /** What one rank reads. {@code expected} gives a shard's manifest sample count, if known. */
  public record Spec(
      int rank,
      List<URI> shards,
      int epochs,
      int batchSize,
      long maxMemberBytes,
      Function<URI, OptionalLong> expected) {
    public Spec {
      shards = List.copyOf(shards);
    }
  }

  /**
   * The rank's events over all epochs, starting after {@code skipBatches} batches of
   * {@code startEpoch} (a resumed run), with everything before that dropped.
   */
  public static Source<RankEvent, NotUsed> events(ShardStore store, Spec spec, int startEpoch, long skipBatches) {
    return Source.range(startEpoch, spec.epochs() - 1)
        .flatMapConcat(epoch -> epoch(store, spec, epoch).via(dropBefore(epoch == startEpoch ? skipBatches : 0)));
  }

  private static Source<RankEvent, NotUsed> epoch(ShardStore store, Spec spec, int epoch) {
    return Source.from(spec.shards())
        .flatMapConcat(shard -> ShardSamples.read(store, shard, spec.expected().apply(shard), spec.maxMemberBytes()))
        .buffer(READ_AHEAD_RECORDS, org.apache.pekko.stream.OverflowStrategy.backpressure())
        .via(Batcher.flow(epoch, spec.rank(), spec.batchSize()));
  }

  /** Drops the events of steps before {@code step}: those a resumed run already delivered. */
  static Flow<RankEvent, RankEvent, NotUsed> dropBefore(long step) {
    return Flow.<RankEvent>create().filter(e -> e.step() >= step);
  }

  /**
   * Ends the stream once {@code maxBatches} batches have passed; 0 means no limit. Events after
   * the last batch (skips the next batch would have covered) are not delivered.
   */
  public static Flow<RankEvent, RankEvent, NotUsed> limitBatches(long maxBatches) {
    if (maxBatches <= 0) {
      return Flow.create();
    }
    // the counter is made per materialization, so the flow can be reused
    return Flow.<RankEvent, RankEvent, NotUsed>fromMaterializer((mat, attrs) -> {
      long[] delivered = {0};
      return Flow.<RankEvent>create().takeWhile(e -> {
        if (delivered[0] >= maxBatches) {
          return false;
        }
        if (e instanceof RawBatch) {
          delivered[0]++;
        }
        return true;
      });
    }).mapMaterializedValue(f -> NotUsed.getInstance());
  }
}
