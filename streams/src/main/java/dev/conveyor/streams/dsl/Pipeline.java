package dev.conveyor.streams.dsl;

import static java.util.Objects.requireNonNull;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.JobSettings;
import dev.conveyor.config.PoolSettings;
import dev.conveyor.config.Resources;
import dev.conveyor.config.StageSettings;
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
  private record Placed(Stage stage, boolean beforeDecode) {}

  private final List<Source> sources; // one, unnamed, for a pipeline reading shards; a mix's otherwise
  private final boolean mixes;
  private final List<Placed> stages;
  private final Optional<Decode> decode;
  private final Map<String, Object> job;

  private Pipeline(List<Source> sources, boolean mixes, List<Placed> stages, Optional<Decode> decode,
                   Map<String, Object> job) {
    this.sources = List.copyOf(sources);
    this.mixes = mixes;
    this.stages = List.copyOf(stages);
    this.decode = decode;
    this.job = Map.copyOf(job);
  }

  /** A pipeline reading {@code shards}, samples delivered as read until stages are added. */
  public static Pipeline from(Shards shards) {
    return new Pipeline(List.of(Source.of(requireNonNull(shards, "shards is null"))), false, List.of(), Optional.empty(),
        Map.of());
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
    return new Pipeline(List.of(sources), true, List.of(), Optional.empty(), Map.of());
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
    return new Pipeline(sources, mixes, stages, Optional.of(d), job);
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
    Map<String, Object> s = new LinkedHashMap<>();
    String j = JobSettings.PATH + ".";
    if (mixes) {
      s.put(j + "sources", sources.stream().map(Source::settings).toList());
    } else {
      s.put(j + "shards", sources.get(0).shards().pattern());
    }
    job.forEach((k, v) -> s.put(j + k, v));
    s.put(StageSettings.PIPELINE, className);
    if (decode.isPresent()) {
      Decode d = decode.get();
      s.put(j + "decode", "auto");
      s.putAll(d.settings());
      s.put(StageSettings.DECODERS + ".cpus", d.cpus());
      int pool = d.concurrency();
      List<Placed> fused = stages.subList(0, firstActor());
      for (Placed p : fused) {
        if (p.stage().concurrency() > 0) {
          pool = pool == 0 ? p.stage().concurrency() : Math.min(pool, p.stage().concurrency());
        }
      }
      s.put(StageSettings.DECODERS + ".pool", pool);
      s.put(StageSettings.MAP + ".cpus", fused.stream().mapToDouble(p -> p.stage().cpus()).sum());
      s.put(PoolSettings.POOLS, pools().stream().map(PoolSettings.Pool::settings).toList());
    } else if (!stages.isEmpty()) {
      throw new IllegalArgumentException("a pipeline's stages run in its decoders: add .decode(Decode.images(…)),"
          + " .decode(Decode.clips(…)) or .decode(Decode.auto())");
    } else {
      s.put(j + "decode", "none");
    }
    return ConfigFactory.parseMap(s, "pipeline " + className);
  }

  /**
   * The stages as every decoder runs them: those before the first actor stage (fresh instances
   * each time a definition is asked).
   */
  public AuthorSteps steps() {
    return AuthorSteps.from(0, steps(0, firstActor()));
  }

  /**
   * The actor pools, in order: each one's stage name ({@code name#i}), what one actor asks (the
   * fused stages after it, which run in its actors, adding their cpus) and its concurrency.
   */
  public List<PoolSettings.Pool> pools() {
    List<PoolSettings.Pool> pools = new ArrayList<>();
    for (int i = 0; i < stages.size(); i++) {
      Stage a = stages.get(i).stage();
      if (a.isActor()) {
        Resources ask = a.resources();
        for (Placed p : stages.subList(i + 1, nextActor(i + 1))) {
          ask = ask.plus(Resources.cpus(p.stage().cpus()));
        }
        pools.add(new PoolSettings.Pool(a.name() + "#" + i, ask, a.minActors(), a.concurrency()));
      }
    }
    return pools;
  }

  /**
   * What one actor of the pool running stage {@code name#i} runs: a new instance of its class
   * (its constructor runs now), then the fused stages written after it, numbered as in the whole
   * pipeline so that each draws the random stream it would draw fused.
   */
  public AuthorSteps actorSteps(String pool) {
    for (int i = 0; i < stages.size(); i++) {
      Stage a = stages.get(i).stage();
      if (a.isActor() && pool.equals(a.name() + "#" + i)) {
        SampleMap instance = java.util.Objects.requireNonNull(a.actor().orElseThrow().get(), "the stage " + pool
            + "'s constructor gave null");
        List<AuthorSteps.Step> steps = new ArrayList<>();
        steps.add(new AuthorSteps.Map(pool, instance, false));
        steps.addAll(steps(i + 1, nextActor(i + 1)));
        return AuthorSteps.from(i, steps);
      }
    }
    throw new IllegalArgumentException("the pipeline has no actor stage " + pool + " (its pools: "
        + pools().stream().map(PoolSettings.Pool::stage).toList() + ")");
  }

  /** The fused stages {@code from} (inclusive) to {@code to} (exclusive) as steps. */
  private List<AuthorSteps.Step> steps(int from, int to) {
    List<AuthorSteps.Step> steps = new ArrayList<>(to - from);
    for (int i = from; i < to; i++) {
      Placed p = stages.get(i);
      String name = p.stage().name() + "#" + i;
      steps.add(p.stage().isFilter()
          ? new AuthorSteps.Filter(name, p.stage().filter().orElseThrow(), p.beforeDecode())
          : p.stage().isFlatMap() ? new AuthorSteps.FlatMap(name, p.stage().flatMap().orElseThrow(), p.beforeDecode())
          : new AuthorSteps.Map(name, p.stage().map().orElseThrow(), p.beforeDecode()));
    }
    return steps;
  }

  /**
   * One stage as {@code conveyor explain} shows it: its name in the pipeline ({@code name#i}),
   * its kind ({@code map}, {@code filter}, {@code flatMap} or {@code actor}), where it runs
   * ({@code before-decode}, {@code decoders}, or {@code pool NAME#I}: an actor stage's pool, or
   * the pool whose actors run a fused stage written after it), what one instance asks, and its
   * concurrency (an actor pool's [min, max]; a fused stage's cap on decoders, or 0).
   */
  public record Described(String name, String kind, String runs, Resources resources, int min, int max) {}

  /** The stages in order, as {@link Described}. */
  public List<Described> describe() {
    List<Described> out = new ArrayList<>();
    String pool = "";
    for (int i = 0; i < stages.size(); i++) {
      Placed p = stages.get(i);
      Stage st = p.stage();
      String name = st.name() + "#" + i;
      String kind = st.isActor() ? "actor" : st.isFilter() ? "filter" : st.isFlatMap() ? "flatMap" : "map";
      if (st.isActor()) {
        pool = name;
      }
      String runs = p.beforeDecode() ? "before-decode" : pool.isEmpty() ? "decoders" : "pool " + pool;
      out.add(new Described(name, kind, runs, st.resources(), st.minActors(), st.concurrency()));
    }
    return out;
  }

  /** The number of the first actor stage, or the number of stages if there is none. */
  private int firstActor() {
    return nextActor(0);
  }

  private int nextActor(int from) {
    for (int i = from; i < stages.size(); i++) {
      if (stages.get(i).stage().isActor()) {
        return i;
      }
    }
    return stages.size();
  }

  /** The graph's shape, for the recipe's fingerprint: e.g. {@code filter#0|decode|map#1}. */
  public String signature() {
    StringBuilder b = new StringBuilder();
    boolean decoded = false;
    for (int i = 0; i < stages.size(); i++) {
      Placed p = stages.get(i);
      if (!p.beforeDecode() && !decoded) {
        b.append("decode|");
        decoded = true;
      }
      b.append(p.stage().name()).append('#').append(i).append('|');
    }
    if (!decoded && decode.isPresent()) {
      b.append("decode|");
    }
    return b.length() == 0 ? "" : b.substring(0, b.length() - 1);
  }

  private Pipeline add(Stage stage) {
    List<Placed> s = new ArrayList<>(stages);
    s.add(new Placed(stage, decode.isEmpty()));
    return new Pipeline(sources, mixes, s, decode, job);
  }

  private Pipeline withJob(String key, Object value) {
    Map<String, Object> j = new LinkedHashMap<>(job);
    j.put(key, value);
    return new Pipeline(sources, mixes, stages, decode, j);
  }
}
