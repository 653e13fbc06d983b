package dev.conveyor.streams.dsl;

import static java.util.Objects.requireNonNull;

import com.typesafe.config.Config;
import dev.conveyor.config.PoolSettings;
import dev.conveyor.streams.decode.AuthorSteps;
import dev.conveyor.streams.decode.SampleFilter;
import dev.conveyor.streams.decode.SampleFlatMap;
import dev.conveyor.streams.decode.SampleMap;
import dev.conveyor.streams.sample.RawSample;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * A job as a stream graph, in Java:
 * <pre>{@code
 * Pipeline.from(Shards.of("s3://bucket/train/part-{000000..000099}.tar"))
 *     .filter(s -> s.member("jpg").isPresent())                 // before decoding: nothing decoded for nothing
 *     .decode(Decode.images(224, 224).randomCrop())
 *     .map(Stage.of(RandomErase::apply).resources(cpus(0.5)))  // after decoding, with a seeded random stream
 *     .batch(64);
 * }</pre>
 * It compiles to what a job file says ({@link #settings}: shards, decoding, batch size, the
 * stages' resources), so the plan, cursors, resume and the cluster run it as they run any job,
 * and to the stages every decoder runs ({@link #steps}). Filters are deterministic: a sample left
 * out is counted, not delivered, and keeps its place in the plan (its batch is one shorter), so a
 * cursor counts exactly and a resume leaves out the same samples. Immutable; an author's
 * {@link PipelineDefinition} builds one, on the machine that starts the job and on every node.
 */
public final class Pipeline {
  /** A stage and whether it runs before decoding. */
  record Placed(Stage stage, boolean beforeDecode) {}

  private final List<Source> sources; // one, unnamed, for a pipeline reading shards; a mix's otherwise
  private final boolean mixes;
  private final List<Placed> stages;
  private final Optional<Decode> decode;
  private final Map<String, Object> job;
  /** The batch-level stages, in order, by name ({@link #mapBatches}). */
  private final List<Map.Entry<String, BatchMap>> batchStages;

  private Pipeline(List<Source> sources, boolean mixes, List<Placed> stages, Optional<Decode> decode,
                   Map<String, Object> job, List<Map.Entry<String, BatchMap>> batchStages) {
    this.sources = List.copyOf(sources);
    this.mixes = mixes;
    this.stages = List.copyOf(stages);
    this.decode = decode;
    this.job = Map.copyOf(job);
    this.batchStages = List.copyOf(batchStages);
  }

  /** A pipeline reading {@code shards}, samples delivered as read until stages are added. */
  public static Pipeline from(Shards shards) {
    return new Pipeline(List.of(Source.of(requireNonNull(shards, "shards is null"))), false, List.of(), Optional.empty(),
        Map.of(), List.of());
  }

  /**
   * A pipeline mixing {@code sources} by weight: every batch holds each source's share within
   * one sample ({@link #perSourceBatches} for whole batches from one source at a time). An epoch
   * ends when a source that does not {@link Source#repeat} cannot fill its share of the next
   * batch on every rank.
   */
  public static Pipeline mix(Source... sources) {
    if (sources.length == 0) {
      throw new IllegalArgumentException("mix(...) takes at least one source");
    }
    if (java.util.Arrays.stream(sources).allMatch(Source::repeats)) {
      throw new IllegalArgumentException("every source repeats, so nothing would end an epoch: leave one without"
          + " repeat()");
    }
    return new Pipeline(List.of(sources), true, List.of(), Optional.empty(), Map.of(), List.of());
  }

  /** A mix's batches each from one source, the sources taking turns by weight (not stratified). */
  public Pipeline perSourceBatches() {
    if (!mixes) {
      throw new IllegalArgumentException("perSourceBatches() is for a mix: start with Pipeline.mix(...)");
    }
    return withJob("mix", "per-source");
  }

  /** Keeps the samples {@code keep} accepts; the rest are counted as filtered. */
  public Pipeline filter(Predicate<RawSample> keep) {
    return filter(Stage.filter(keep));
  }

  /** Keeps the samples {@code keep} accepts, given a seeded random stream. */
  public Pipeline filter(SampleFilter keep) {
    return filter(Stage.filter(keep));
  }

  /** A filter stage, with its resources. */
  public Pipeline filter(Stage filter) {
    if (!filter.isFilter()) {
      String kind = filter.isFlatMap() ? "flatMap" : "map";
      throw new IllegalArgumentException("filter(...) takes a Stage.filter(...), got a " + kind + " stage: use " + kind
          + "(...)");
    }
    return add(filter);
  }

  /** Maps each sample with {@code fn}, given a seeded random stream. */
  public Pipeline map(SampleMap fn) {
    return map(Stage.of(fn));
  }

  /**
   * A map stage, with its resources: fused in the decoders ({@code Stage.of}), or run by a pool
   * of actors ({@code Stage.actor}, after {@link #decode}), the stages after it in its actors.
   */
  public Pipeline map(Stage map) {
    if (map.isFilter() || map.isFlatMap()) {
      String kind = map.isFilter() ? "filter" : "flatMap";
      throw new IllegalArgumentException("map(...) takes a Stage.of(...), got a " + kind + " stage: use " + kind + "(...)");
    }
    if (map.isActor() && decode.isEmpty()) {
      throw new IllegalArgumentException("an actor stage (" + map.name() + ") runs on decoded samples: call"
          + " .decode(...) before it");
    }
    return add(map);
  }

  /**
   * Makes each sample into the samples {@code fn} returns (a video into its clips, a document
   * into its chunks), given a seeded random stream; each goes on as a sample of its own. With
   * {@link #fullBatches} a batch may end between two outputs of one sample, and a resume goes on
   * at the next.
   */
  public Pipeline flatMap(SampleFlatMap fn) {
    return flatMap(Stage.flatMap(fn));
  }

  /** A flatMap stage, with its resources. */
  public Pipeline flatMap(Stage flatMap) {
    if (!flatMap.isFlatMap()) {
      String kind = flatMap.isFilter() ? "filter" : "map";
      throw new IllegalArgumentException("flatMap(...) takes a Stage.flatMap(...), got a " + kind + " stage: use " + kind
          + "(...)");
    }
    return add(flatMap);
  }

  /** Decodes media as {@code d} says; stages before this see raw members, stages after it tensors. */
  public Pipeline decode(Decode d) {
    requireNonNull(d, "decode is null");
    if (decode.isPresent()) {
      throw new IllegalArgumentException("a pipeline decodes once: decode(...) was already given");
    }
    return new Pipeline(sources, mixes, stages, Optional.of(d), job, batchStages);
  }

  /**
   * Batches of {@code n} samples per rank (filtered and bad samples leave a batch shorter,
   * unless {@link #fullBatches}).
   */
  public Pipeline batch(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("a batch holds at least 1 sample, got " + n);
    }
    return withJob("batch-size", n);
  }

  /**
   * Every batch full: a rank's batch is its next {@code n} kept samples, however many plan
   * positions that takes; an epoch has as many as the rank with the fewest kept samples fills
   * (the rest is left over, and reported); the ranks agree on it as they read. In a mix, the
   * sources' shares are of the planned positions a batch's samples are taken from.
   */
  public Pipeline fullBatches() {
    return withJob("full-batches", true);
  }

  /**
   * Token packing: batches of rows of exactly {@code length} tokens of the samples' int arrays
   * {@code field} (a stage before sets them: {@code Decoded.withTokens}), first fit, a sample
   * split where no row has room for all of it, and {@code field_segments} numbering each token's
   * piece in its row; a sample longer than a row split too, or with {@code dropLong} left out.
   * Makes batches full; resumable inside a sample.
   */
  public Pipeline packTokens(String field, int length, boolean dropLong) {
    if (field == null || field.isBlank() || length < 1) {
      throw new IllegalArgumentException("packTokens(field, length): a token field and a length of at least 1");
    }
    return fullBatches().withJob("pack.field", field).withJob("pack.length", length)
        .withJob("pack.long-samples", dropLong ? "drop" : "split");
  }

  /** The same, a sample longer than a row split across rows. */
  public Pipeline packTokens(String field, int length) {
    return packTokens(field, length, false);
  }

  /**
   * Length buckets: a sample whose token array {@code field} holds {@code n} tokens goes to the
   * bucket of the {@code boundaries} at or below {@code n}, and a batch is that bucket's
   * {@code batchSizes} entry of samples (one more entry than boundaries) — batches of similar
   * length, a token budget per bucket. A rank fills its buckets {@code pool} kept samples at a
   * time; what a pool leaves in them is left out (counted). Makes batches full; a resume reads at
   * most one pool again.
   */
  public Pipeline bucketBy(String field, int[] boundaries, int[] batchSizes, int pool) {
    if (mixes) {
      throw new IllegalArgumentException("bucketBy(...) is not yet supported for a mix");
    }
    // checked now, where the author wrote it, as the job's settings will be
    new dev.conveyor.streams.plan.Bucketing(field == null ? "" : field, boundaries, batchSizes, pool);
    return fullBatches().withJob("bucket.field", field)
        .withJob("bucket.boundaries", java.util.Arrays.stream(boundaries).boxed().toList())
        .withJob("bucket.batch-sizes", java.util.Arrays.stream(batchSizes).boxed().toList())
        .withJob("bucket.pool", pool);
  }

  /** The same, a pool of 1,024 kept samples (or the largest batch size, if larger). */
  public Pipeline bucketBy(String field, int[] boundaries, int[] batchSizes) {
    return bucketBy(field, boundaries, batchSizes, Math.max(1024, java.util.Arrays.stream(batchSizes).max().orElse(1)));
  }

  /**
   * A batch job: the samples are written to {@code out} as a new dataset (WebDataset tar shards,
   * their per-sample indexes and {@code shards.json}) instead of being fed to trainers — each
   * sample's members as they leave the last stage, and each text field a stage set that is not a
   * member ({@code Decoded#text}) as a member {@code NAME.txt}. Exactly once: each rank's shards
   * are committed whole, named by the recipe and their place in it, and a resumed or repeated
   * job goes on after the last one committed.
   */
  public Pipeline write(Shards.Out out) {
    requireNonNull(out, "out is null");
    return withJob("sink.to", out.uri()).withJob("sink.shard-size", out.shardSize());
  }

  /**
   * A batch-level stage, named {@code name}: {@code fn} sees each of a rank's batches as columns
   * ({@link Batch}: keys, the pictures as one array, token arrays and text by name) and returns
   * the batch it makes of them, with a random stream seeded by (recipe seed, epoch, rank, batch,
   * the stage's place). It runs on the trainer host once the batch is cut, before delivery (or a
   * sink), in the order written, on threads of its own; batches and cursors are those of the
   * same pipeline without it, so a resume is exact.
   */
  public Pipeline mapBatches(String name, BatchMap fn) {
    requireNonNull(fn, "fn is null");
    if (name == null || !name.matches("[A-Za-z0-9_.:-]+")) {
      throw new IllegalArgumentException("a stage name is letters, digits and _.:-, got \"" + name + "\"");
    }
    List<Map.Entry<String, BatchMap>> b = new ArrayList<>(batchStages);
    b.add(Map.entry(name + "#b" + batchStages.size(), fn));
    return new Pipeline(sources, mixes, stages, decode, job, b);
  }

  /** The same, named {@code mapBatches}. */
  public Pipeline mapBatches(BatchMap fn) {
    return mapBatches("mapBatches", fn);
  }

  /** Whether the pipeline has batch-level stages. */
  public boolean hasBatchStages() {
    return !batchStages.isEmpty();
  }

  /** Passes over the data. */
  public Pipeline epochs(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("a job runs at least 1 epoch, got " + n);
    }
    return withJob("epochs", n);
  }

  /** The recipe seed (shuffling, crops, every stage's random stream). */
  public Pipeline seed(long seed) {
    return withJob("seed", seed);
  }

  /**
   * What this pipeline sets, as a job file would: {@code conveyor.job.shards} (or a mix's
   * {@code sources} and {@code mix}), batch size,
   * epochs and seed if given, {@code decode = auto} and the decode settings, the decoders' and
   * stages' resources, and {@code conveyor.job.pipeline = className}.
   */
  public Config settings(String className) {
    return StageGraph.settings(className, mixes ? sources : List.of(), sources.get(0), job, decode, stages);
  }


  /**
   * The stages as every decoder runs them: those before the first actor stage (fresh instances
   * each time a definition is asked).
   */
  public AuthorSteps steps() {
    return AuthorSteps.from(0, StageGraph.steps(stages, 0, StageGraph.nextActor(stages, 0)));
  }

  /**
   * The actor pools, in order: each one's stage name ({@code name#i}), what one actor asks (the
   * fused stages after it, which run in its actors, adding their cpus) and its concurrency.
   */
  public List<PoolSettings.Pool> pools() {
    return StageGraph.pools(stages);
  }

  /**
   * What one actor of the pool running stage {@code name#i} runs: a new instance of its class
   * (its constructor runs now), then the fused stages written after it, numbered as in the whole
   * pipeline so that each draws the random stream it would draw fused.
   */
  public AuthorSteps actorSteps(String pool) {
    return StageGraph.actorSteps(stages, pool);
  }

  /** The stages in order, as {@code conveyor explain} shows them. */
  public List<StageView> describe() {
    return StageGraph.describe(stages);
  }

  /**
   * {@code b} through the batch-level stages (the batch unchanged without any): its columns made
   * once, each stage given the last one's batch, the samples' pictures, tokens and text set from
   * the result. Throws {@link IllegalStateException} naming the stage and the batch when a stage
   * throws or returns other samples.
   */
  public dev.conveyor.streams.batch.RawBatch applyBatchStages(long seed, dev.conveyor.streams.batch.RawBatch b) {
    return StageGraph.applyBatchStages(batchStages, seed, b);
  }

  /** The graph's shape, for the recipe's fingerprint: e.g. {@code filter#0|decode|map#1}. */
  public String signature() {
    return StageGraph.signature(stages, decode.isPresent(), batchStages);
  }

  private Pipeline add(Stage stage) {
    List<Placed> s = new ArrayList<>(stages);
    s.add(new Placed(stage, decode.isEmpty()));
    return new Pipeline(sources, mixes, s, decode, job, batchStages);
  }

  private Pipeline withJob(String key, Object value) {
    Map<String, Object> j = new LinkedHashMap<>(job);
    j.put(key, value);
    return new Pipeline(sources, mixes, stages, decode, j, batchStages);
  }
}
