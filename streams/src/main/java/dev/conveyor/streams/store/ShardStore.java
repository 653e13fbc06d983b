package dev.conveyor.streams.store;

import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Where shards live. Reads are back-pressured byte streams that start when materialized; a
 * failure surfaces as a {@link ShardReadException} that names the shard and the reason.
 * Implementations: {@link S3ShardStore} ({@code s3://bucket/key}) and {@link FileShardStore}
 * ({@code file:///path}). A store is thread-safe; closing it releases its clients.
 */
public interface ShardStore extends AutoCloseable {

  /** The whole object. */
  Source<ByteString, NotUsed> read(URI shard);

  /** {@code length} bytes from {@code offset} (fewer if the object ends first). */
  Source<ByteString, NotUsed> read(URI shard, long offset, long length);

  /** The object's size and version tag, without reading it (S3: a HEAD request). */
  CompletionStage<ObjectStat> stat(URI object);

  /** Stores the file {@code from} as {@code target}, replacing any object there. */
  CompletionStage<Done> write(URI target, Path from);

  /** Removes {@code target}; removing what is not there succeeds. */
  CompletionStage<Done> delete(URI target);

  /** The objects directly under {@code dir} (a "folder": a URI ending in {@code /}), sorted by name. */
  CompletionStage<java.util.List<URI>> list(URI dir);

  /** The reader's counters (requests, bytes, retries by cause, breaker, read-ahead). */
  ReaderMetrics metrics();

  @Override
  void close();
}
