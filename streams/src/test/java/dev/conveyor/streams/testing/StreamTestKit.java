package dev.conveyor.streams.testing;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/** An actor system for stream tests, and helpers that run a source to a bounded result. */
public final class StreamTestKit implements AutoCloseable {
  public static final Duration TIMEOUT = Duration.ofSeconds(60);

  public final ActorSystem system = ActorSystem.create("test");
  public final Materializer mat = Materializer.createMaterializer(system);

  public <T> List<T> collect(Source<T, ?> source) {
    try {
      return source.runWith(Sink.seq(), mat).toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public ByteString concat(Source<ByteString, ?> source) {
    return collect(source).stream().reduce(ByteString.emptyByteString(), ByteString::concat);
  }

  @Override
  public void close() {
    system.terminate();
  }
}
