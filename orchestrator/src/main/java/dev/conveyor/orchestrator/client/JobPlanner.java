package dev.conveyor.orchestrator.client;

import dev.conveyor.config.ConveyorSettings;
import dev.conveyor.config.JobSettings;
import dev.conveyor.config.Selection;
import dev.conveyor.config.SourceSettings;
import dev.conveyor.config.SettingsException;
import dev.conveyor.config.StageSettings;
import dev.conveyor.orchestrator.checkpoint.CursorStore;
import dev.conveyor.orchestrator.checkpoint.ResumePoint;
import dev.conveyor.streams.decode.SampleMap;
import dev.conveyor.streams.dsl.Pipeline;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.plan.Mix;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.plan.ShardSet;
import dev.conveyor.streams.plan.ShardList;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.store.ShardCheck;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.streams.store.ShardStores;
import dev.conveyor.streams.manifest.Manifest;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.pekko.stream.Materializer;

/**
 * Reads a job's recipe as {@code run} does — the shards named or listed by a manifest, the
 * manifest's checks, a counting pass for shards no manifest lists — and the cursor it resumes
 * from: what a job is planned from, before any node runs it.
 */
public final class JobPlanner {
  private final Materializer mat;
  private final Consumer<String> progress;

  /** {@code progress} receives notices (a counting pass, an elastic resume). */
  public JobPlanner(Materializer mat, Consumer<String> progress) {
    this.mat = mat;
    this.progress = progress;
  }

  /**
   * A job's recipe as {@code run} reads it, with the manifest's checks: what a cluster ships to
   * its nodes; and, for each of its sources whose samples a catalog's query chose, what it chose.
   */
  public record Planned(Recipe recipe, Map<String, ShardCheck> checks, int shards, List<DeadLetter> problems,
                        List<Choice> choices) {}

  /**
   * What a source's {@code where} chose: {@code chosen} of the catalog's {@code rows} samples,
   * {@code bytes} of them, in a dataset of corpus version {@code version}; {@code at} names its settings.
   */
  public record Choice(String at, String where, String version, long chosen, long rows, long bytes) {}

  /**
   * The recipe of {@code settings}' job, read as {@code run} reads it (the manifest found or
   * named, a counting pass for shards no manifest lists), without running it.
   */
  public Planned plan(ConveyorSettings settings) throws InterruptedException {
    if (settings.job().mixed()) {
      return planMix(settings);
    }
    ShardList named = parseShards(settings.job().shards(), JobSettings.PATH + ".shards");
    try (ShardStore store = ShardStores.forScheme(named.scheme(), settings.s3())) {
      Loaded l = load(settings, named, store, settings.job().selection(), JobSettings.PATH);
      return new Planned(l.recipe(), l.checks(), l.recipe().shards().size(), l.problems(), l.choices());
    }
  }

  /**
   * A mix's recipe: each source's shards loaded as a job's are (its manifest, or a counting
   * pass), laid end to end, each source the range of them it named, with its weight and repeat.
   */
  private Planned planMix(ConveyorSettings settings) throws InterruptedException {
    JobSettings job = settings.job();
    List<ShardSet> sets = new ArrayList<>();
    int shards = 0;
    Map<String, ShardCheck> checks = new java.util.HashMap<>();
    List<DeadLetter> problems = new ArrayList<>();
    List<Choice> choices = new ArrayList<>();
    List<Mix.Source> sources = new ArrayList<>();
    Recipe first = null;
    for (int i = 0; i < job.sources().size(); i++) {
      SourceSettings source = job.sources().get(i);
      ShardList named = parseShards(source.shards(), JobSettings.PATH + ".sources[" + i + "].shards");
      try (ShardStore store = ShardStores.forScheme(named.scheme(), settings.s3())) {
        Loaded l = load(settings, named, store, source.selection(), JobSettings.PATH + ".sources[" + i + "]");
        ShardSet set = l.recipe().shards();
        sources.add(new Mix.Source(source.name(), shards, set.size(), source.weight(), source.repeat()));
        sets.add(set);
        shards += set.size();
        checks.putAll(l.checks());
        problems.addAll(l.problems());
        choices.addAll(l.choices());
        first = first == null ? l.recipe() : first;
      }
    }
    Mix mix = new Mix(sources, job.mix() == JobSettings.MixBatching.PER_SOURCE ? Mix.Batching.PER_SOURCE
        : Mix.Batching.STRATIFIED);
    Recipe recipe = new Recipe(ShardSet.concat(sets), first.seed(),
        first.batchSize(), first.dropLast(), first.shuffle(), first.decode(), Optional.of(mix))
        .withFullBatches(first.fullBatches()).withPacking(first.packing()).withBucketing(first.bucketing());
    return new Planned(recipe, checks, shards, problems, choices);
  }

  /** The recipe, its problems and checks (RecipeLoader's), the shards it names, and what a query chose of them. */
  private record Loaded(ShardList shards, Recipe recipe, List<DeadLetter> problems, Map<String, ShardCheck> checks,
                        List<Choice> choices) {}

  /** Loads {@code named}'s shards, narrowed to what {@code selection} (set at {@code at}) chooses by their catalog. */
  private Loaded load(ConveyorSettings settings, ShardList named, ShardStore store, Selection selection, String at)
      throws InterruptedException {
    JobSettings job = settings.job();
    String stages = authorStages(settings);
    Optional<Manifest> listed = namedByManifest(named, store);
    ShardList shards = listed.map(m -> fromManifest(named.shards().get(0), m)).orElse(named);
    String decode = job.decode() == JobSettings.Decode.AUTO ? "auto:" + settings.decode().canonical() + stages
        : "none"; // the author's stages change what is delivered
    RecipeLoader.Loaded l = RecipeLoader.load(job, decode, shards, listed, store, mat, progress);
    if (!selection.chooses()) {
      return new Loaded(shards, l.recipe(), l.problems(), l.checks(), List.of());
    }
    if (listed.isEmpty()) {
      throw new SettingsException(at + ".where", "chooses samples by the dataset's catalog: name the shards by the"
          + " shards.json the catalog lies beside (shards = \"…/shards.json\")");
    }
    CatalogSelection.Chosen chosen = CatalogSelection.choose(selection, at, l.recipe().shards(), named.shards().get(0),
        listed.get(), store, mat, progress);
    return new Loaded(shards, l.recipe().withShards(chosen.shards()), l.problems(), l.checks(), List.of(new Choice(at,
        selection.where(), chosen.version(), chosen.chosen(), chosen.rows(), chosen.bytes())));
  }

  /**
   * The author's stages, checked (their class can be made here; they need decoders), as the
   * recipe's fingerprint names them: {@code ;map=CLASS} or {@code ;pipeline=CLASS[shape]}.
   */
  private static String authorStages(ConveyorSettings settings) {
    StageSettings stages = settings.stages();
    boolean decodes = settings.job().decode() == JobSettings.Decode.AUTO;
    if (stages.mapClass().isPresent()) {
      if (!decodes) {
        throw new SettingsException(StageSettings.MAP + ".class", "maps decoded samples: set decode = auto (or --decode auto)");
      }
      try {
        SampleMap.named(stages.mapClass().get());
      } catch (IllegalArgumentException e) {
        throw new SettingsException(StageSettings.MAP + ".class", e.getMessage());
      }
      return ";map=" + stages.mapClass().get();
    }
    if (stages.pipeline().isPresent()) {
      Pipeline pipeline = PipelineDefinition.load(stages.pipeline().get());
      if (!decodes && !pipeline.signature().isEmpty()) {
        throw new SettingsException(JobSettings.PATH + ".decode", "the pipeline " + stages.pipeline().get()
            + "'s stages run in its decoders: leave decode = auto (no --decode none)");
      }
      Optional<String> pools = PipelineDefinition.poolsMismatch(stages, pipeline);
      if (pools.isPresent()) {
        throw new SettingsException(dev.conveyor.config.PoolSettings.POOLS, pools.get());
      }
      return PipelineDefinition.fingerprint(stages.pipeline().get(), pipeline);
    }
    return "";
  }

  /**
   * The cursor token {@code settings}' job resumes from, checked against {@code recipe} here,
   * before any node runs it ({@code progress} hears of an elastic resume): {@code resume}
   * itself, or for "latest" the newest in the job's checkpoint directory, or for "auto" the newest
   * when there is one and "" (the start) when there is none — read with this process's settings
   * when {@code readLatest}; otherwise "latest" and "auto" are left for the node that keeps the
   * cursors (a cluster's coordinator) to read. Throws {@link SettingsException} naming {@code --resume}.
   */
  public String resumeToken(ConveyorSettings settings, Recipe recipe, String resume, boolean readLatest) {
    JobSettings job = settings.job();
    boolean named = resume.equals("latest") || resume.equals(ResumePoint.AUTO);
    if (named && job.checkpointDir().isEmpty()) {
      throw ResumePoint.noCheckpointDir();
    }
    if (named && !readLatest) {
      return resume;
    }
    Optional<ShardStore> files = job.checkpointDir().isEmpty() ? Optional.empty()
        : Optional.of(ShardStores.forUri(CursorStore.parse(job.checkpointDir()), settings.s3()));
    try {
      Optional<CursorStore> store = files.map(f -> CursorStore.at(job.checkpointDir(), f, job.checkpointKeep()));
      String token = resume.equals("latest") ? store.orElseThrow().latest(mat, progress)
          : resume.equals(ResumePoint.AUTO) ? store.orElseThrow().newest(mat, progress).orElse("") : resume;
      if (token.isEmpty()) {
        progress.accept(ResumePoint.NO_CURSOR_YET);
        return token;
      }
      // checked here, announced by the coordinator (an elastic resume comes back in its Placed notes)
      ResumePoint.of(token, store, recipe.fingerprint(), recipe.shards().selection(), job.epochs(), job.worldSize(), mat, line -> { });
      return token;
    } finally {
      files.ifPresent(ShardStore::close);
    }
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

  private static ShardList parseShards(String pattern, String key) {
    try {
      return ShardList.parse(pattern);
    } catch (IllegalArgumentException e) {
      throw new SettingsException(key, e.getMessage());
    }
  }
}
