package dev.conveyor.workers.sink;

import dev.conveyor.config.SinkSettings;
import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.sample.Decoded;
import dev.conveyor.streams.sample.Member;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.ShardIndexer;
import dev.conveyor.streams.store.ShardIndex;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.streams.tar.ShardWriter;
import dev.conveyor.workers.feeder.RankFeeder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.FileIO;

/**
 * One rank of a batch job, writing instead of training: it takes the rank's batches as a trainer
 * would and writes their samples, in order, into WebDataset tar shards (reproducible headers).
 * Once a shard holds {@code shard-size} bytes at a batch's end — or its epoch or the rank ends —
 * it is committed: its per-sample index is made, the shard and then the index are written to the
 * store under their final names (a store writes each object whole: S3's PUT, a file's atomic
 * rename), and only then are its batches reported delivered, moving the job's cursor. So the
 * cursor only ever stands at a committed shard's end, and a job resumed from it rewrites nothing
 * committed and starts its next shard where an uninterrupted run would (the cuts follow from the
 * bytes after the last one, and the cursor moves a whole shard at a time); a shard written but
 * not yet reported is written again, byte for byte, under its own name. A shard without its index is not committed ({@code shards.json} lists
 * the indexed ones).
 */
public final class ShardSink {
  /**
   * Where the shards go: {@code sink}'s folder through {@code store}, named with {@code recipeId};
   * each made in {@code scratch} first; indexed with {@code mat}. {@code moveCursor} runs once
   * a shard's batches are reported: it moves the job's cursor to the last of them in one step,
   * so that no cursor saved meanwhile stands inside a shard.
   */
  public record Target(SinkSettings sink, String recipeId, ShardStore store, Materializer mat, Path scratch,
                       Runnable moveCursor) {}

  private final int rank;
  private final RankFeeder feeder;
  private final Target target;
  private final Duration patience;
  /** The reports of the batches (and skips) in the open shard, run when it is committed. */
  private final List<Runnable> pending = new ArrayList<>();
  private ShardWriter open;
  private int openEpoch;

  private ShardSink(int rank, RankFeeder feeder, Target target, Duration patience) {
    this.rank = rank;
    this.feeder = feeder;
    this.target = target;
    this.patience = patience;
  }

  /**
   * Starts {@code rank}'s writer, a daemon thread named {@code name}, on {@code feeder}; at the end
   * {@code ended} hears why it failed, or empty when every batch of the rank is committed. A batch
   * not there within {@code patience} fails it.
   */
  public static void start(String name, int rank, RankFeeder feeder, Target target, Duration patience,
                           Consumer<Optional<String>> ended) {
    ShardSink sink = new ShardSink(rank, feeder, target, patience);
    Thread t = new Thread(() -> ended.accept(sink.run()), name);
    t.setDaemon(true);
    t.start();
  }

  private Optional<String> run() {
    try {
      while (true) {
        Optional<RankEvent> e = feeder.take(patience);
        if (e.isEmpty()) {
          commit();
          return Optional.empty();
        }
        if (e.get() instanceof RawBatch b) {
          if (open != null && b.epoch() != openEpoch) {
            commit();
          }
          if (open == null) {
            openEpoch = b.epoch();
            String name = SinkNames.shard(target.recipeId(), b.epoch(), rank, b.index());
            open = new ShardWriter(name, Files.createTempFile(target.scratch(), "sink-", ".tar"));
          }
          for (RawSample s : b.samples()) {
            write(s);
          }
        }
        pending.add(feeder.reportOf(e.get()));
        if (open != null && open.bytesWritten() >= target.sink().shardSize()) {
          commit();
        }
      }
    } catch (TimeoutException e) {
      return Optional.of("no batch for " + patience.toMinutes() + " min");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted");
    } catch (IllegalStateException e) {
      return Optional.of(String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e.getMessage()));
    } catch (IOException | RuntimeException e) {
      return Optional.of("the sink could not write to " + target.sink().to() + ": " + e);
    } finally {
      discard();
    }
  }

  /** A sample's members as they are, then each text field that is not a member as {@code NAME.txt}, sorted. */
  private void write(RawSample s) throws IOException {
    Set<String> exts = new java.util.HashSet<>();
    for (Member m : s.members()) {
      open.member(s.key() + "." + m.ext(), m.data().toArray());
      exts.add(m.ext());
    }
    Decoded d = s.decoded().orElse(null);
    if (d != null) {
      for (var t : new TreeMap<>(d.text()).entrySet()) {
        if (!exts.contains(t.getKey())) {
          open.member(s.key() + "." + t.getKey() + ".txt", t.getValue().getBytes(StandardCharsets.UTF_8));
        }
      }
    }
    open.endSample();
  }

  /** Commits the open shard (if any), then reports its batches. */
  private void commit() throws IOException, InterruptedException {
    if (open != null) {
      ShardWriter w = open;
      String name = w.finish().name();
      Path file = w.file();
      ShardIndex index = join(ShardIndexer.index(name,
          () -> FileIO.fromPath(file).mapMaterializedValue(m -> NotUsed.getInstance()), Long.MAX_VALUE, target.mat()));
      Path idx = Files.writeString(Files.createTempFile(target.scratch(), "sink-", ".idx.json"), index.toJson());
      try {
        join(target.store().write(SinkNames.child(target.sink(), name), file));
        join(target.store().write(SinkNames.child(target.sink(), name + ShardIndex.SUFFIX), idx));
      } finally {
        Files.deleteIfExists(idx);
        Files.deleteIfExists(file);
      }
      open = null;
    }
    pending.forEach(Runnable::run);
    pending.clear();
    target.moveCursor().run();
  }

  private void discard() {
    if (open != null) {
      try {
        open.close();
        Files.deleteIfExists(open.file());
      } catch (IOException ignored) {
        // a scratch file: the folder is the system's temporary one
      }
    }
  }

  private static <T> T join(java.util.concurrent.CompletionStage<T> stage) throws IOException, InterruptedException {
    try {
      return stage.toCompletableFuture().get(10, TimeUnit.MINUTES);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IOException(e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new IOException("a write took longer than 10 min");
    }
  }
}
