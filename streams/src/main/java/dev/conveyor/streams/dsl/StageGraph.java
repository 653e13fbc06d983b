package dev.conveyor.streams.dsl;

import static java.util.Objects.requireNonNull;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.JobSettings;
import dev.conveyor.config.PoolSettings;
import dev.conveyor.config.Resources;
import dev.conveyor.config.StageSettings;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.decode.AuthorSteps;
import dev.conveyor.streams.decode.SampleMap;
import dev.conveyor.streams.plan.Seeds;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a {@link Pipeline} compiles to: the settings it writes, the steps its decoders run (the stages before the
 * first actor stage), its actor pools and what each actor runs (its stage, then the fused stages
 * written after it), the graph as {@code explain} shows it, its shape for the fingerprint, and
 * its batch-level stages applied to a batch. Pure functions of the stages.
 */
final class StageGraph {
  private StageGraph() {}

  /** The seed path step of the batch stages' streams ("batch"). */
  static final long BATCH_STREAM = 0x6261746368L;

  static List<PoolSettings.Pool> pools(List<Pipeline.Placed> stages) {
    List<PoolSettings.Pool> pools = new ArrayList<>();
    for (int i = 0; i < stages.size(); i++) {
      Stage a = stages.get(i).stage();
      if (a.isActor()) {
        Resources ask = a.resources();
        for (Pipeline.Placed p : stages.subList(i + 1, nextActor(stages, i + 1))) {
          ask = ask.plus(Resources.cpus(p.stage().cpus()));
        }
        pools.add(new PoolSettings.Pool(a.name() + "#" + i, ask, a.minActors(), a.concurrency()));
      }
    }
    return pools;
  }

  static AuthorSteps actorSteps(List<Pipeline.Placed> stages, String pool) {
    for (int i = 0; i < stages.size(); i++) {
      Stage a = stages.get(i).stage();
      if (a.isActor() && pool.equals(a.name() + "#" + i)) {
        SampleMap instance = requireNonNull(a.actor().orElseThrow().get(), "the stage " + pool
            + "'s constructor gave null");
        List<AuthorSteps.Step> steps = new ArrayList<>();
        steps.add(new AuthorSteps.Map(pool, instance, false));
        steps.addAll(steps(stages, i + 1, nextActor(stages, i + 1)));
        return AuthorSteps.from(i, steps);
      }
    }
    throw new IllegalArgumentException("the pipeline has no actor stage " + pool + " (its pools: "
        + pools(stages).stream().map(PoolSettings.Pool::stage).toList() + ")");
  }

  /** The fused stages {@code from} (inclusive) to {@code to} (exclusive) as steps. */
  static List<AuthorSteps.Step> steps(List<Pipeline.Placed> stages, int from, int to) {
    List<AuthorSteps.Step> steps = new ArrayList<>(to - from);
    for (int i = from; i < to; i++) {
      Pipeline.Placed p = stages.get(i);
      String name = p.stage().name() + "#" + i;
      steps.add(p.stage().isFilter()
          ? new AuthorSteps.Filter(name, p.stage().filter().orElseThrow(), p.beforeDecode())
          : p.stage().isFlatMap() ? new AuthorSteps.FlatMap(name, p.stage().flatMap().orElseThrow(), p.beforeDecode())
          : new AuthorSteps.Map(name, p.stage().map().orElseThrow(), p.beforeDecode()));
    }
    return steps;
  }

  static List<StageView> describe(List<Pipeline.Placed> stages) {
    List<StageView> out = new ArrayList<>();
    String pool = "";
    for (int i = 0; i < stages.size(); i++) {
      Pipeline.Placed p = stages.get(i);
      Stage st = p.stage();
      String name = st.name() + "#" + i;
      String kind = st.isActor() ? "actor" : st.isFilter() ? "filter" : st.isFlatMap() ? "flatMap" : "map";
      if (st.isActor()) {
        pool = name;
      }
      String runs = p.beforeDecode() ? "before-decode" : pool.isEmpty() ? "decoders" : "pool " + pool;
      out.add(new StageView(name, kind, runs, st.resources(), st.minActors(), st.concurrency()));
    }
    return out;
  }

  /**
   * A pipeline's settings, as a job file would hold them (see {@link Pipeline#settings}): a mix's
   * {@code mixed} sources, else {@code single}'s shards; the {@code job} keys; the pipeline class;
   * the decoding and what the stages set.
   */
  static Config settings(String className, List<Source> mixed, Source single, Map<String, Object> job,
                         Optional<Decode> decode, List<Pipeline.Placed> stages) {
    Map<String, Object> s = new LinkedHashMap<>();
    String j = JobSettings.PATH + ".";
    if (!mixed.isEmpty()) {
      s.put(j + "sources", mixed.stream().map(Source::settings).toList());
    } else {
      s.put(j + "shards", single.shards().pattern());
    }
    job.forEach((k, v) -> s.put(j + k, v));
    s.put(StageSettings.PIPELINE, className);
    if (decode.isPresent()) {
      s.put(j + "decode", "auto");
      s.putAll(decode.get().settings());
      s.putAll(resources(stages, decode.get()));
    } else if (!stages.isEmpty()) {
      throw new IllegalArgumentException("a pipeline's stages run in its decoders: add .decode(Decode.images(…)),"
          + " .decode(Decode.clips(…)) or .decode(Decode.auto())");
    } else {
      s.put(j + "decode", "none");
    }
    return ConfigFactory.parseMap(s, "pipeline " + className);
  }

  /**
   * What the stages set besides their steps ({@code d} the decoding): each decoder's cpus, the
   * decoders per worker (the least concurrency of {@code d} and the stages fused in the decoders),
   * the cpus those stages add to a decoder, and the actor pools.
   */
  static Map<String, Object> resources(List<Pipeline.Placed> stages, Decode d) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put(StageSettings.DECODERS + ".cpus", d.cpus());
    int pool = d.concurrency();
    List<Pipeline.Placed> fused = stages.subList(0, nextActor(stages, 0));
    for (Pipeline.Placed p : fused) {
      if (p.stage().concurrency() > 0) {
        pool = pool == 0 ? p.stage().concurrency() : Math.min(pool, p.stage().concurrency());
      }
    }
    s.put(StageSettings.DECODERS + ".pool", pool);
    s.put(StageSettings.MAP + ".cpus", fused.stream().mapToDouble(p -> p.stage().cpus()).sum());
    s.put(PoolSettings.POOLS, pools(stages).stream().map(PoolSettings.Pool::settings).toList());
    return s;
  }

  /** The number of the first actor stage at or after {@code from}, or the number of stages if there is none. */
  static int nextActor(List<Pipeline.Placed> stages, int from) {
    for (int i = from; i < stages.size(); i++) {
      if (stages.get(i).stage().isActor()) {
        return i;
      }
    }
    return stages.size();
  }

  /** The graph's shape, for the recipe's fingerprint: e.g. {@code filter#0|decode|map#1|norm#b0}. */
  static String signature(List<Pipeline.Placed> stages, boolean decodes, List<Map.Entry<String, BatchMap>> batches) {
    StringBuilder b = new StringBuilder();
    boolean decoded = false;
    for (int i = 0; i < stages.size(); i++) {
      Pipeline.Placed p = stages.get(i);
      if (!p.beforeDecode() && !decoded) {
        b.append("decode|");
        decoded = true;
      }
      b.append(p.stage().name()).append('#').append(i).append('|');
    }
    if (!decoded && decodes) {
      b.append("decode|");
    }
    batches.forEach(st -> b.append(st.getKey()).append('|'));
    return b.length() == 0 ? "" : b.substring(0, b.length() - 1);
  }

  static RawBatch applyBatchStages(List<Map.Entry<String, BatchMap>> batches, long seed, RawBatch b) {
    if (batches.isEmpty()) {
      return b;
    }
    Batch batch = Batch.of(b);
    for (int k = 0; k < batches.size(); k++) {
      Map.Entry<String, BatchMap> st = batches.get(k);
      String where = "the batch stage " + st.getKey() + " on batch " + b.index() + " of rank " + b.rank() + " (epoch "
          + b.epoch() + ")";
      Batch out;
      try {
        out = requireNonNull(st.getValue().apply(batch, Seeds.random(seed, b.epoch(), b.rank(), b.index(),
            BATCH_STREAM + k)), "it returned null");
      } catch (Exception e) {
        throw new IllegalStateException(where + " failed: " + e, e);
      }
      if (!out.keys().equals(batch.keys())) {
        throw new IllegalStateException(where + " returned other samples than it was given: a batch stage changes"
            + " its samples' columns, not which samples they are");
      }
      batch = out;
    }
    return batch.into(b);
  }
}
