package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.store.ReaderMetrics;
import dev.conveyor.streams.store.ShardIndex;
import dev.conveyor.streams.store.ShardStore;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** How {@link ReadAhead} reads a shard's per-sample index: read again while it cannot be parsed, else none. */
final class IndexFetch {
  private static final Logger LOG = LoggerFactory.getLogger(ReadAhead.class);

  private IndexFetch() {}

  /**
   * {@code shard}'s index read through {@code store}, read again (up to {@code reads} in all)
   * while it cannot be parsed; empty when it cannot be read (the shard is then read whole).
   */
  static CompletableFuture<Optional<ShardIndex>> fetch(ShardStore store, URI shard, int reads, Materializer mat) {
    URI sidecar = ShardIndex.sidecar(shard);
    return store.read(sidecar)
        .runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), mat)
        .thenApply(b -> Optional.of(ShardIndex.parse(b.decodeString(StandardCharsets.UTF_8))))
        .toCompletableFuture()
        .handle((index, t) -> {
          if (t == null) {
            return CompletableFuture.completedFuture(index);
          }
          Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
          if (reads > 1 && c instanceof IllegalArgumentException) { // unparseable: changed in transfer, perhaps
            store.metrics().retry(ReaderMetrics.Cause.CORRUPT);
            LOG.warn("{}: reading its index {} again: {}", shard, sidecar, c.getMessage());
            return fetch(store, shard, reads - 1, mat);
          }
          LOG.warn("{}: its index {} cannot be read, the shard is read whole: {}", shard, sidecar, c.getMessage());
          return CompletableFuture.completedFuture(Optional.<ShardIndex>empty());
        })
        .thenCompose(f -> f);
  }
}
