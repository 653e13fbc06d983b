package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.sample.ShardRecord;
import dev.conveyor.streams.sample.ShardSamples;
import dev.conveyor.streams.store.ShardStore;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/** How a window reader gets the samples of a piece of a shard. */
interface Pieces {

  /** Records of a shard, beginning at its sample {@code first} (0: the whole shard from its first byte). */
  record Piece(int first, Source<ShardRecord, NotUsed> records) {}

  /**
   * The records of {@code shard} (of {@code samples} samples) from a sample at or before
   * {@code from}, at least up to sample {@code to} (a reader may stop there): once it is known
   * how the piece will be read. When a catalog's query chose the shard's samples, the plan's
   * sample {@code i} is the shard's {@code chosen[i]} and only chosen samples are records (null:
   * every sample is).
   */
  CompletionStage<Piece> open(URI shard, int from, int to, int samples, int[] chosen, long maxMemberBytes);

  /** Every piece read from the shard's first byte (its chosen samples kept). */
  static Pieces whole(ShardStore store) {
    return (shard, from, to, samples, chosen, max) -> CompletableFuture.completedFuture(
        new Piece(0, ShardSamples.chosen(ShardSamples.read(store, shard, max), chosen)));
  }
}
