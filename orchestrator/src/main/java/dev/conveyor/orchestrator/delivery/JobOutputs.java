package dev.conveyor.orchestrator.delivery;

import dev.conveyor.orchestrator.delivery.RankReport.BatchDone;
import dev.conveyor.streams.sample.DeadLetter;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The per-batch and per-sample record files of a run, each optional: digests
 * ({@code epoch step rank sha256(batch bytes) sha256(sample keys)}), keys
 * ({@code epoch rank step key}) and dead letters ({@code shard key reason}). Written in lockstep
 * order by {@link Delivery}, on one thread; and the {@link RunObserver}s told of the same.
 */
public final class JobOutputs implements AutoCloseable {
  private final Writer digests;
  private final Writer keys;
  private final Writer deadLetters;
  private final java.util.List<RunObserver> observers = new java.util.concurrent.CopyOnWriteArrayList<>();

  public JobOutputs(Optional<Path> digestOut, Optional<Path> keysOut, Optional<Path> deadLetterOut) {
    this.digests = open(digestOut);
    this.keys = open(keysOut);
    this.deadLetters = open(deadLetterOut);
  }

  /** {@code o} is told of every batch and dead letter from now on. */
  public JobOutputs observe(RunObserver o) {
    observers.add(o);
    return this;
  }

  /** The batches the run plans to deliver (observers that show progress want it). */
  public void planned(long batches) {
    observers.forEach(o -> o.planned(batches));
  }

  /** Whether batch reports must carry their digests, and their keys. */
  public boolean wantsDigests() {
    return digests != null;
  }

  public boolean wantsKeys() {
    return keys != null;
  }

  void batch(BatchDone b) {
    observers.forEach(o -> o.batch(b));
    try {
      if (digests != null) {
        digests.write(b.epoch() + " " + b.step() + " " + b.rank() + " " + b.bytesSha256() + " " + b.keysSha256() + "\n");
      }
      if (keys != null) {
        for (String k : b.keys()) {
          keys.write(b.epoch() + " " + b.rank() + " " + b.step() + " " + k + "\n");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void deadLetter(DeadLetter d) {
    observers.forEach(o -> o.deadLetter(d));
    if (deadLetters != null) {
      try {
        deadLetters.write(d.line() + "\n");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  @Override
  public void close() throws IOException {
    for (Writer w : new Writer[] {digests, keys, deadLetters}) {
      if (w != null) {
        w.close();
      }
    }
  }

  private static Writer open(Optional<Path> path) {
    if (path.isEmpty()) {
      return null;
    }
    try {
      Path p = path.get().toAbsolutePath();
      Files.createDirectories(p.getParent());
      return new BufferedWriter(Files.newBufferedWriter(p, StandardCharsets.UTF_8), 1 << 16);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + path.get() + ": " + e.getMessage(), e);
    }
  }
}
