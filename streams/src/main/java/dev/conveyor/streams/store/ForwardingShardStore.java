package dev.conveyor.streams.store;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * A store that passes everything to another: subclasses change what they need (reads, say)
 * and inherit the rest. Closing it does not close the other store unless a subclass does.
 */
public abstract class ForwardingShardStore implements ShardStore {
  protected final ShardStore inner;

  protected ForwardingShardStore(ShardStore inner) {
    this.inner = inner;
  }

  @Override
  public Source<ByteString, NotUsed> read(URI shard) {
    return inner.read(shard);
  }

  @Override
  public Source<ByteString, NotUsed> read(URI shard, long offset, long length) {
    return inner.read(shard, offset, length);
  }

  @Override
  public CompletionStage<ObjectStat> stat(URI object) {
    return inner.stat(object);
  }

  @Override
  public CompletionStage<Done> write(URI target, Path from) {
    return inner.write(target, from);
  }

  @Override
  public CompletionStage<Done> delete(URI target) {
    return inner.delete(target);
  }

  @Override
  public CompletionStage<List<URI>> list(URI dir) {
    return inner.list(dir);
  }

  @Override
  public ReaderMetrics metrics() {
    return inner.metrics();
  }
}
