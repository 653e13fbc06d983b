package dev.conveyor.orchestrator.job;

import dev.conveyor.config.ConveyorSettings;
import dev.conveyor.config.JobSettings;
import dev.conveyor.config.SettingsException;
import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.batch.Skipped;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.pipeline.RankPipeline;
import dev.conveyor.streams.plan.ShardAssignment;
import dev.conveyor.streams.plan.ShardList;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.streams.store.ShardStores;
import dev.conveyor.streams.synth.Manifest;
import dev.conveyor.streams.synth.ShardInfo;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Runs a job in this process: one stream per served rank, merged in lockstep order
 * (epoch, step, rank) so that the record files are the same on every run, then consumed here,
 * where batches are counted, recorded and the cursor advanced.
 */
public final class JobRunner {
  /** Orders the ranks' events as a lockstep trainer would take them; skips precede their step's batch. */
  static final Comparator<RankEvent> LOCKSTEP = Comparator.<RankEvent>comparingInt(RankEvent::epoch)
      .thenComparingLong(RankEvent::step)
      .thenComparingInt(RankEvent::rank)
      .thenComparingInt(e -> e instanceof Skipped ? 0 : 1);

  /** How often a long run reports progress. */
  static final long PROGRESS_INTERVAL_NANOS = 5_000_000_000L;

  private final Materializer mat;
  private final Consumer<String> progress;

  /** {@code progress} receives a one-line report every few seconds while a run lasts. */
  public JobRunner(Materializer mat, Consumer<String> progress) {
    this.mat = mat;
    this.progress = progress;
  }

  /**
   * Runs {@code settings}' job to its end (or {@code max-steps}), resuming from {@code resume}
   * when given. Throws {@link SettingsException} for a bad recipe or cursor and
   * {@link BadSampleException} when a bad sample meets {@code on-bad-sample = fail}.
   */
  public JobSummary run(ConveyorSettings settings, JobOutputs outputs, Optional<String> resume) throws InterruptedException {
    JobSettings job = settings.job();
    ShardList shards = parseShards(job.shards());
    String fingerprint = fingerprint(shards, job);
    Cursor start = resume.map(token -> checkCursor(token, fingerprint, job)).orElse(Cursor.start(fingerprint, job.worldSize()));
    Optional<CheckpointDir> checkpoints = job.checkpointDir().isEmpty() ? Optional.empty() : Optional.of(CheckpointDir.of(job.checkpointDir()));

    try (ShardStore store = ShardStores.forScheme(shards.scheme(), settings.s3())) {
      Optional<Manifest> manifest = ManifestLoader.load(job.manifest(), shards, store, mat);
      Map<String, ShardInfo> byName = manifest.map(Manifest::byName).orElse(Map.of());
      List<Integer> ranks = new ArrayList<>();
      job.rank().ifPresentOrElse(ranks::add, () -> {
        for (int r = 0; r < job.worldSize(); r++) {
          ranks.add(r);
        }
      });
      Source<RankEvent, NotUsed> merged = null;
      for (int r : ranks) {
        RankPipeline.Spec spec = new RankPipeline.Spec(r, ShardAssignment.forRank(shards.shards(), job.worldSize(), r),
            job.epochs(), job.batchSize(), job.maxMemberBytes(), uri -> expected(byName, uri));
        Source<RankEvent, NotUsed> rank = RankPipeline.events(store, spec, start.epoch(), start.batchesDelivered(r))
            .via(RankPipeline.limitBatches(job.maxSteps()));
        merged = merged == null ? rank : merged.mergeSorted(rank, LOCKSTEP);
      }

      long t0 = System.nanoTime();
      Tally tally = new Tally(new CursorTracker(start), outputs, job.onBadSample() == JobSettings.OnBadSample.FAIL, t0, progress);
      try {
        merged.runWith(Sink.foreach(tally::accept), mat).toCompletableFuture().get();
      } catch (ExecutionException e) {
        throw unwrap(e);
      } finally {
        checkpoints.ifPresent(c -> c.save(tally.cursors.cursor()));
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      return new JobSummary(ranks.size(), shards.shards().size(), tally.samples, tally.batches, tally.bytes,
          tally.bad, seconds, tally.cursors.cursor().encode());
    }
  }

  private static ShardList parseShards(String pattern) {
    try {
      return ShardList.parse(pattern);
    } catch (IllegalArgumentException e) {
      throw new SettingsException(JobSettings.PATH + ".shards", e.getMessage());
    }
  }

  private static OptionalLong expected(Map<String, ShardInfo> byName, URI shard) {
    ShardInfo info = byName.get(ShardList.name(shard));
    return info == null ? OptionalLong.empty() : OptionalLong.of(info.samples());
  }

  private static Cursor checkCursor(String token, String fingerprint, JobSettings job) {
    Cursor c;
    try {
      c = Cursor.decode(token);
    } catch (IllegalArgumentException e) {
      throw new SettingsException("--resume", e.getMessage());
    }
    if (!c.fingerprint().equals(fingerprint)) {
      throw new SettingsException("--resume", "the cursor belongs to another recipe (fingerprint " + c.fingerprint()
          + ", this job's is " + fingerprint + "): shards, seed, batch size and decode must match the run that saved it");
    }
    if (c.worldSize() != job.worldSize()) {
      throw new SettingsException("--resume", "the cursor was saved at world size " + c.worldSize() + " and this job has "
          + job.worldSize() + ": resuming at another world size is not supported by cursor version cv0");
    }
    if (c.epoch() >= job.epochs()) {
      throw new SettingsException("--resume", "the cursor is in epoch " + c.epoch() + " but the job has only " + job.epochs() + " epochs");
    }
    return c;
  }

  /** A fingerprint of what determines the batches: the shard list, seed, batch size and decoding. */
  static String fingerprint(ShardList shards, JobSettings job) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (URI s : shards.shards()) {
        sha.update((s + "\n").getBytes(StandardCharsets.UTF_8));
      }
      sha.update(("seed=" + job.seed() + ";batch=" + job.batchSize() + ";decode=" + job.decode()).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(sha.digest(), 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  private static RuntimeException unwrap(ExecutionException e) {
    Throwable t = e.getCause();
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t instanceof RuntimeException re ? re : new IllegalStateException(t);
  }

  /** Counts and records what the merged stream delivers; runs on one thread at a time. */
  private static final class Tally {
    final CursorTracker cursors;
    final JobOutputs outputs;
    final boolean failOnBad;
    final long t0;
    final Consumer<String> progress;
    long nextReport;
    long samples;
    long batches;
    long bytes;
    long bad;

    Tally(CursorTracker cursors, JobOutputs outputs, boolean failOnBad, long t0, Consumer<String> progress) {
      this.cursors = cursors;
      this.outputs = outputs;
      this.failOnBad = failOnBad;
      this.t0 = t0;
      this.progress = progress;
      this.nextReport = t0 + PROGRESS_INTERVAL_NANOS;
    }

    private void report() {
      long now = System.nanoTime();
      if (now >= nextReport) {
        nextReport = now + PROGRESS_INTERVAL_NANOS;
        double s = (now - t0) / 1e9;
        progress.accept(String.format(java.util.Locale.ROOT, "%,d samples, %,d batches, %.1f MB, %,d bad, %,.0f samples/s after %.0f s",
            samples, batches, bytes / 1e6, bad, samples / s, s));
      }
    }

    void accept(RankEvent e) {
      if (e instanceof Skipped s) {
        bad++;
        outputs.deadLetter(s.deadLetter());
        if (failOnBad) {
          throw new BadSampleException(s.deadLetter());
        }
      } else if (e instanceof RawBatch b) {
        batches++;
        samples += b.samples().size();
        bytes += b.bytes();
        outputs.batch(b);
        cursors.delivered(b);
        report();
      }
    }
  }
}
