package dev.conveyor.streams.sample;

import dev.conveyor.streams.store.ShardReadException;
import dev.conveyor.streams.tar.TarFormatException;
import java.util.concurrent.CompletionException;

/** Turns a failure while reading a shard into the one-line reason a dead letter carries. */
final class ReadFailures {
  private ReadFailures() {}

  static String describe(Throwable ex) {
    Throwable t = ex;
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof ShardReadException r) {
      return r.reason();
    }
    if (t instanceof TarFormatException) {
      return t.getMessage();
    }
    String msg = t.getMessage();
    return t.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
  }
}
