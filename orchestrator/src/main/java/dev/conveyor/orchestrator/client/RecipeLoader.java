package dev.conveyor.orchestrator.client;

import dev.conveyor.config.JobSettings;
import dev.conveyor.streams.plan.Bucketing;
import dev.conveyor.streams.plan.Packing;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.plan.ShardList;
import dev.conveyor.streams.plan.ShardSet;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.ShardSamples;
import dev.conveyor.streams.store.ShardCheck;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.manifest.ShardInfo;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Builds a job's {@link Recipe}. The plan needs every shard's sample count: they come from
 * {@code shards.json}, and a shard the manifest does not list is counted by reading it once
 * (which is said on the notice line, since it costs a full pass over those shards).
 */
final class RecipeLoader {
  private static final int COUNTING_PARALLELISM = 4;

  private RecipeLoader() {}

  /** The recipe, and what counting found wrong with shards the manifest does not list (reported by the run). */
  record Loaded(Recipe recipe, List<DeadLetter> problems, Map<String, ShardCheck> checks) {}

  /** {@code listed} is the manifest the shards were named by, if they were named by one. */
  static Loaded load(JobSettings job, String decode, ShardList shards, Optional<Manifest> listed, ShardStore store,
      Materializer mat, Consumer<String> notice) throws InterruptedException {
    Optional<Manifest> manifest = listed.isPresent() ? listed : ManifestLoader.load(job.manifest(), shards, store, mat);
    Map<String, ShardInfo> byName = manifest.map(Manifest::byName).orElse(Map.of());
    List<URI> uris = shards.shards();
    int[] counts = new int[uris.size()];
    List<Integer> unknown = new ArrayList<>();
    List<DeadLetter> problems = List.of();
    Map<String, ShardCheck> checks = new HashMap<>();
    for (int i = 0; i < uris.size(); i++) {
      ShardInfo info = byName.get(ShardList.name(uris.get(i)));
      if (info == null) {
        unknown.add(i);
      } else {
        counts[i] = Math.toIntExact(info.samples());
        checks.put(uris.get(i).toString(), new ShardCheck(info.bytes(), info.sha256(), info.indexed()));
      }
    }
    if (!unknown.isEmpty()) {
      notice.accept("counting the samples of " + unknown.size() + " shard(s) that no shards.json lists, by reading each once"
          + " (conveyor datagen writes a shards.json beside its shards; with one this pass is skipped)");
      problems = count(unknown, uris, counts, store, job.maxMemberBytes(), mat);
    }
    List<String> names = new ArrayList<>(uris.size());
    uris.forEach(u -> names.add(u.toString()));
    return new Loaded(new Recipe(new ShardSet(names, counts), job.seed(), job.batchSize(), job.dropLast(),
        new Recipe.Shuffle(job.shuffle().enabled(), job.shuffle().windowShards(), job.shuffle().buffer()),
        decode).withFullBatches(job.fullBatches())
        .withPacking(job.pack().map(p -> new Packing(p.field(), p.length(), p.dropLong())))
        .withBucketing(job.bucket().map(b -> new Bucketing(b.field(), ints(b.boundaries()), ints(b.batchSizes()), b.pool()))),
        problems, checks);
  }

  /** Counts the samples of the shards {@code which} into {@code counts}; returns the dead letters met, in shard order. */
  private static List<DeadLetter> count(List<Integer> which, List<URI> uris, int[] counts, ShardStore store, long maxMember,
      Materializer mat) throws InterruptedException {
    List<DeadLetter> problems = new ArrayList<>();
    try {
      Source.from(which)
          .mapAsync(COUNTING_PARALLELISM, i -> ShardSamples.read(store, uris.get(i), maxMember)
              .runWith(Sink.fold(Pair.create(0, List.<DeadLetter>of()), (acc, r) -> {
                if (r instanceof DeadLetter d) {
                  List<DeadLetter> l = new ArrayList<>(acc.second());
                  l.add(d);
                  return Pair.create(acc.first(), l);
                }
                return Pair.create(acc.first() + 1, acc.second());
              }), mat)
              .thenApply(p -> Pair.create(i, p)))
          .runWith(Sink.foreach(p -> {
            counts[p.first()] = p.second().first();
            problems.addAll(p.second().second());
          }), mat)
          .toCompletableFuture().get();
    } catch (ExecutionException e) {
      throw new IllegalStateException("counting samples failed: " + e.getCause().getMessage(), e.getCause());
    }
    return problems;
  }

  private static int[] ints(java.util.List<Integer> list) {
    return list.stream().mapToInt(Integer::intValue).toArray();
  }
}
