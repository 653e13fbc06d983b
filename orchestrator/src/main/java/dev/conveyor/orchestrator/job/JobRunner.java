package dev.conveyor.orchestrator.job;

import dev.conveyor.config.ConveyorSettings;
import dev.conveyor.config.JobSettings;
import dev.conveyor.config.SettingsException;
import dev.conveyor.config.StageSettings;
import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.Skipped;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.decode.HwAccel;
import dev.conveyor.streams.decode.SampleMap;
import dev.conveyor.streams.pipeline.DecoderStage;
import dev.conveyor.streams.pipeline.RankPipeline;
import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.plan.ShardList;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.streams.store.ShardStores;
import dev.conveyor.streams.synth.Manifest;
import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import dev.conveyor.streams.store.ShardCheck;
import dev.conveyor.streams.sample.DeadLetter;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Runs a job in this process: the recipe's {@link DataPlan}, one stream per served rank, merged
 * in lockstep order (epoch, step, rank) so that the record files are the same on every run, and
 * consumed here, where batches are counted, recorded and the cursor advanced and saved.
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

  /** {@code progress} receives notices and, every few seconds while a run lasts, a one-line report. */
  public JobRunner(Materializer mat, Consumer<String> progress) {
    this.mat = mat;
    this.progress = progress;
  }

  /**
   * Runs {@code settings}' job to its end (or {@code max-steps}), resuming from {@code resume}
   * (a cursor token, or "latest") when given. Throws {@link SettingsException} for a bad recipe
   * or cursor and {@link BadSampleException} when a bad sample meets {@code on-bad-sample = fail}.
   */
  public JobSummary run(ConveyorSettings settings, JobOutputs outputs, Optional<String> resume) throws InterruptedException {
    JobSettings job = settings.job();
    ShardList named = parseShards(job.shards());
    try (ShardStore store = ShardStores.forScheme(named.scheme(), settings.s3());
         ShardStore cursorFiles = cursorFiles(job, settings)) {
      Optional<CursorStore> checkpoints = cursorFiles == null ? Optional.empty()
          : Optional.of(new CursorStore(CursorStore.parse(job.checkpointDir()), cursorFiles, job.checkpointKeep()));
      boolean decoding = job.decode() == JobSettings.Decode.AUTO;
      Loaded loaded = load(settings, named, store);
      ShardList shards = loaded.shards();
      Recipe recipe = loaded.recipe();
      DataPlan plan = new DataPlan(recipe);
      Cursor start = resume.map(token -> resumeFrom(token, checkpoints, recipe.fingerprint(), job.epochs(),
              job.worldSize(), mat, progress))
          .orElse(Cursor.start(recipe.fingerprint(), job.worldSize()));

      List<Integer> ranks = servedRanks(job);
      AtomicLong dropped = new AtomicLong();
      DecoderStage decoder = decoding ? new DecoderStage(settings.decode(), job.seed(), job.stageParallelism(),
          settings.stages().mapClass().map(SampleMap::named)) : null;
      if (decoding) {
        HwAccel.check(settings.decode(), progress);
      }
      Source<RankEvent, NotUsed> merged = merged(job, store, plan, start, ranks, dropped,
          decoder == null ? RankPipeline::identity : decoder::apply, loaded.checks());

      long t0 = System.nanoTime();
      Tally tally = new Tally(new CursorTracker(start, job.rank().isPresent()), outputs,
          job.onBadSample() == JobSettings.OnBadSample.FAIL, job.maxBadFraction(), t0, progress, checkpoints,
          job.checkpointEvery(), ranks.get(ranks.size() - 1));
      try {
        if (resume.isEmpty()) {
          loaded.problems().forEach(tally::problem); // found while counting; a resumed run reported them already
        }
        merged.runWith(Sink.foreach(tally::accept), mat).toCompletableFuture().get();
        tally.checkBound(true);
      } catch (ExecutionException e) {
        throw unwrap(e);
      } finally {
        checkpoints.ifPresent(c -> c.save(tally.cursors.cursor(), tally.lastStep));
        if (decoder != null) {
          decoder.close();
        }
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      return new JobSummary(ranks.size(), shards.shards().size(), tally.samples, tally.batches, tally.bytes,
          tally.bad, dropped.get(), seconds, tally.cursors.cursor().encode(), store.metrics().snapshot());
    }
  }

  /** A job's recipe as {@code run} reads it, with the manifest's checks: what a cluster ships to its nodes. */
  public record Planned(Recipe recipe, Map<String, ShardCheck> checks, int shards) {}

  /**
   * The recipe of {@code settings}' job, read as {@code run} reads it (the manifest found or
   * named, a counting pass for shards no manifest lists), without running it.
   */
  public Planned plan(ConveyorSettings settings) throws InterruptedException {
    ShardList named = parseShards(settings.job().shards());
    try (ShardStore store = ShardStores.forScheme(named.scheme(), settings.s3())) {
      Loaded l = load(settings, named, store);
      return new Planned(l.recipe(), l.checks(), l.shards().shards().size());
    }
  }

  /** The recipe, its problems and checks (RecipeLoader's), and the shards it names. */
  private record Loaded(ShardList shards, Recipe recipe, List<DeadLetter> problems, Map<String, ShardCheck> checks) {}

  private Loaded load(ConveyorSettings settings, ShardList named, ShardStore store) throws InterruptedException {
    JobSettings job = settings.job();
    if (settings.stages().mapClass().isPresent()) {
      if (job.decode() != JobSettings.Decode.AUTO) {
        throw new SettingsException(StageSettings.MAP + ".class", "maps decoded samples: set decode = auto (or --decode auto)");
      }
      try {
        SampleMap.named(settings.stages().mapClass().get());
      } catch (IllegalArgumentException e) {
        throw new SettingsException(StageSettings.MAP + ".class", e.getMessage());
      }
    }
    Optional<Manifest> listed = namedByManifest(named, store);
    ShardList shards = listed.map(m -> fromManifest(named.shards().get(0), m)).orElse(named);
    String decode = job.decode() == JobSettings.Decode.AUTO ? "auto:" + settings.decode().canonical()
        + settings.stages().mapClass().map(c -> ";map=" + c).orElse("") : "none"; // the map changes what is delivered
    RecipeLoader.Loaded l = RecipeLoader.load(job, decode, shards, listed, store, mat, progress);
    return new Loaded(shards, l.recipe(), l.problems(), l.checks());
  }

  private static List<Integer> servedRanks(JobSettings job) {
    List<Integer> ranks = new ArrayList<>();
    job.rank().ifPresentOrElse(ranks::add, () -> {
      for (int r = 0; r < job.worldSize(); r++) {
        ranks.add(r);
      }
    });
    return ranks;
  }

  /**
   * The served ranks' streams from {@code start} to the last epoch, merged in lockstep order;
   * {@code dropped} collects the drop-last remainders of the segments that start in this run.
   */
  private static Source<RankEvent, NotUsed> merged(JobSettings job, ShardStore store, DataPlan plan, Cursor start,
      List<Integer> ranks, AtomicLong dropped, BiFunction<Integer, ReadEvent, CompletionStage<ReadEvent>> stage,
      Map<String, ShardCheck> checks) {
    // each served rank reads ahead within its own share of the budget
    RankPipeline.Settings pipeline = new RankPipeline.Settings(job.readerParallelism(), job.stageParallelism(),
        job.maxMemberBytes(), stage, job.readAheadBytes() / ranks.size(), checks);
    Source<RankEvent, NotUsed> merged = null;
    for (int r : ranks) {
      boolean reportsDrops = r == ranks.get(0);
      Source<RankEvent, NotUsed> rank = Source.range(start.epoch(), job.epochs() - 1)
          .flatMapConcat(e -> {
            RankSegment seg = plan.rank(e == start.epoch() ? start : start.atEpoch(e, job.worldSize()), job.worldSize(), r);
            if (reportsDrops && seg.firstBatch() == 0) {
              dropped.addAndGet(seg.dropped());
            }
            return RankPipeline.events(store, plan, seg, pipeline);
          })
          .via(RankPipeline.limitBatches(job.maxSteps()));
      merged = merged == null ? rank : merged.mergeSorted(rank, LOCKSTEP);
    }
    return merged;
  }

  /** The store that holds the cursor directory, if one is configured. */
  private static ShardStore cursorFiles(JobSettings job, ConveyorSettings settings) {
    if (job.checkpointDir().isEmpty()) {
      return null;
    }
    URI dir = CursorStore.parse(job.checkpointDir());
    return ShardStores.forUri(dir, settings.s3());
  }

  /**
   * The cursor a run resumes from: {@code token} is a cursor token, or "latest" for the newest in
   * {@code checkpoints}; it must belong to the recipe with {@code fingerprint} and lie within
   * {@code epochs}. A cursor saved at another world size is re-split ({@code progress} says so).
   * Throws {@link SettingsException} naming {@code --resume} otherwise.
   */
  public static Cursor resumeFrom(String token, Optional<CursorStore> checkpoints, String fingerprint, int epochs,
                                  int world, Materializer mat, Consumer<String> progress) {
    String t = token;
    if (token.equals("latest")) {
      t = checkpoints.orElseThrow(() -> new SettingsException("--resume",
          "\"latest\" needs a checkpoint directory: give --checkpoint-dir (or checkpoint-dir in the job file)")).latest(mat);
    }
    Cursor c;
    try {
      c = Cursor.decode(t);
    } catch (IllegalArgumentException e) {
      throw new SettingsException("--resume", e.getMessage());
    }
    if (!c.fingerprint().equals(fingerprint)) {
      throw new SettingsException("--resume", "the cursor belongs to another recipe (fingerprint " + c.fingerprint()
          + ", this job's is " + fingerprint + "): shards, sample counts, seed, batch size, drop-last, shuffle"
          + " and decode settings must match the run that saved it");
    }
    if (c.epoch() >= epochs) {
      throw new SettingsException("--resume", "the cursor is in epoch " + c.epoch() + " but the job has only "
          + epochs + " epoch(s): raise epochs to go on");
    }
    if (c.world() != world) {
      progress.accept(String.format(Locale.ROOT, "elastic resume: the cursor was saved at world size %d, this run has %d;"
          + " the rest of epoch %d is re-split among %d ranks", c.world(), world, c.epoch(), world));
    }
    return c.resumedAt(world);
  }

  /** {@code shards = "…/shards.json"} names the shards by a manifest: its entries, beside it. */
  private Optional<Manifest> namedByManifest(ShardList named, ShardStore store) {
    if (named.shards().size() != 1 || !named.shards().get(0).getPath().endsWith(".json")) {
      return Optional.empty();
    }
    Manifest m = ManifestLoader.read(named.shards().get(0), store, mat, JobSettings.PATH + ".shards", false).orElseThrow();
    if (m.shards().isEmpty()) {
      throw new SettingsException(JobSettings.PATH + ".shards", named.shards().get(0) + " lists no shards");
    }
    return Optional.of(m);
  }

  private static ShardList fromManifest(URI manifest, Manifest m) {
    List<URI> uris = new ArrayList<>(m.shards().size());
    m.shards().forEach(s -> uris.add(manifest.resolve(s.name())));
    return new ShardList(manifest.getScheme(), uris);
  }

  private static ShardList parseShards(String pattern) {
    try {
      return ShardList.parse(pattern);
    } catch (IllegalArgumentException e) {
      throw new SettingsException(JobSettings.PATH + ".shards", e.getMessage());
    }
  }

  private static RuntimeException unwrap(ExecutionException e) {
    Throwable t = e.getCause();
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t instanceof RuntimeException re ? re : new IllegalStateException(t);
  }
}
