package dev.conveyor.orchestrator.coordinator;

import dev.conveyor.config.DecodeSettings;
import dev.conveyor.config.StageSettings;
import dev.conveyor.streams.pipeline.RankPipeline;
import dev.conveyor.streams.pipeline.SampleStage;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.store.ShardCheck;
import dev.conveyor.workers.wire.WireMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A job as the cluster runs it: its recipe (so every node plans the same), the manifest's
 * checks, and how ranks read. No store settings or credentials travel with it: each node reads
 * with its own, and the coordinator writes cursors with its own.
 *
 * @param id              names this submission (the client makes it unique)
 * @param maxSteps        batches per rank after which this run stops; 0: no limit
 * @param checkpointDir   where the coordinator saves cursors ({@code checkpoint-dir}); "" for nowhere
 * @param checkpointEvery save after this many delivered batches (0: only at the end)
 * @param checkpointKeep  numbered cursors kept
 * @param resume          a cursor token, "latest" (the newest in {@code checkpointDir}), or "" to start afresh
 * @param decode          how workers decode (the recipe's {@code auto:…}); empty for raw samples
 * @param stages          the decoders' resources and the author's stages (a map class or a pipeline)
 * @param digests         whether batch reports carry the batch's digests (for {@code --digest-out}): hashing
 *                        every byte of every batch costs a trainer host a core at ~1.8 GB/s
 * @param keys            whether batch reports carry their samples' keys (for {@code --keys-out})
 * @param rank            the one rank this run serves ({@code --rank}), or -1 for every rank
 * @param tenant          who the job runs for: the shard cache's quotas and counters are per tenant
 */
public record JobSpec(String id, Recipe recipe, Map<String, ShardCheck> checks, int world, int epochs,
                      int readerParallelism, int stageParallelism, long maxMemberBytes, long readAheadBytes,
                      long maxSteps, String checkpointDir, int checkpointEvery, int checkpointKeep, String resume,
                      Optional<DecodeSettings> decode, StageSettings stages, boolean digests, boolean keys,
                      int rank, String tenant)
    implements WireMessage {
  public JobSpec {
    checks = Map.copyOf(checks);
    if (decode.isPresent() && "none".equals(recipe.decode())) {
      throw new IllegalArgumentException("decode settings given for a recipe that does not decode");
    }
    if (rank < -1 || rank >= world) {
      throw new IllegalArgumentException("rank " + rank + " is not in a world of " + world);
    }
  }

  /** A job that starts afresh, saves no cursor and runs to its end; its batch reports carry digests, not keys. */
  public static JobSpec of(String id, Recipe recipe, Map<String, ShardCheck> checks, int world, int epochs,
                           int readerParallelism, int stageParallelism, long maxMemberBytes) {
    return new JobSpec(id, recipe, checks, world, epochs, readerParallelism, stageParallelism, maxMemberBytes, 0, 0,
        "", 0, 1, "", Optional.empty(), StageSettings.defaults(), true, false, -1, "default");
  }

  /** This job decoding with {@code decode} in decoders with {@code stages}' resources (the recipe must say auto). */
  public JobSpec decoding(DecodeSettings decode, StageSettings stages) {
    return new JobSpec(id, recipe, checks, world, epochs, readerParallelism, stageParallelism, maxMemberBytes,
        readAheadBytes, maxSteps, checkpointDir, checkpointEvery, checkpointKeep, resume, Optional.of(decode), stages,
        digests, keys, rank, tenant);
  }

  /** This job with its cursors saved in {@code dir} every {@code every} batches, resuming from {@code resume} ("" for none). */
  public JobSpec checkpointed(String dir, int every, int keep, String resume, long maxSteps) {
    return new JobSpec(id, recipe, checks, world, epochs, readerParallelism, stageParallelism, maxMemberBytes,
        readAheadBytes, maxSteps, dir, every, keep, resume, decode, stages, digests, keys, rank, tenant);
  }

  /** This job with its batch reports carrying digests and keys as asked. */
  public JobSpec recording(boolean digests, boolean keys) {
    return new JobSpec(id, recipe, checks, world, epochs, readerParallelism, stageParallelism, maxMemberBytes,
        readAheadBytes, maxSteps, checkpointDir, checkpointEvery, checkpointKeep, resume, decode, stages, digests, keys,
        rank, tenant);
  }

  /**
   * This job serving only {@code rank} (-1: every rank), its readers fetching ahead within
   * {@code readAheadBytes} for all the ranks together.
   */
  public JobSpec serving(int rank, long readAheadBytes) {
    return new JobSpec(id, recipe, checks, world, epochs, readerParallelism, stageParallelism, maxMemberBytes,
        readAheadBytes, maxSteps, checkpointDir, checkpointEvery, checkpointKeep, resume, decode, stages, digests, keys,
        rank, tenant);
  }

  /**
   * This job reading whole shards, their indexes unused: what a node does through its shard
   * cache, which holds whole shards and serves any piece from them.
   */
  public JobSpec readingWholeShards() {
    Map<String, ShardCheck> whole = new java.util.HashMap<>();
    checks.forEach((uri, c) -> whole.put(uri, new ShardCheck(c.bytes(), c.sha256(), false)));
    return new JobSpec(id, recipe, whole, world, epochs, readerParallelism, stageParallelism, maxMemberBytes,
        readAheadBytes, maxSteps, checkpointDir, checkpointEvery, checkpointKeep, resume, decode, stages, digests, keys,
        rank, tenant);
  }

  /** This job run for {@code tenant}. */
  public JobSpec forTenant(String tenant) {
    return new JobSpec(id, recipe, checks, world, epochs, readerParallelism, stageParallelism, maxMemberBytes,
        readAheadBytes, maxSteps, checkpointDir, checkpointEvery, checkpointKeep, resume, decode, stages, digests, keys,
        rank, tenant);
  }

  /** Whether this is a batch job, its ranks writing to a sink instead of feeding trainers. */
  public boolean writes() {
    return stages.sink().isPresent();
  }

  /** The ranks this run serves, in order. */
  public List<Integer> ranks() {
    if (rank >= 0) {
      return List.of(rank);
    }
    List<Integer> all = new ArrayList<>(world);
    for (int r = 0; r < world; r++) {
      all.add(r);
    }
    return all;
  }

  /**
   * The per-rank stream settings of this job, with {@code stage} per sample (the decoders', or
   * none), {@code inFlight} groups of samples in it at once.
   */
  public RankPipeline.Settings pipeline(SampleStage stage, int inFlight) {
    // each slice in flight fetches ahead within its share: the ranks' slices in flight share the budget
    long perSlice = readAheadBytes / ((long) ranks().size() * readerParallelism);
    return new RankPipeline.Settings(readerParallelism, inFlight, maxMemberBytes, stage, perSlice, checks,
        stages.handOff());
  }

  /**
   * The per-rank stream settings of a decoding job whose samples go to a pool of {@code decoders}:
   * two groups per decoder in flight at least, so that every decoder has the next one waiting
   * when it finishes one (groups of uneven cost finish out of turn).
   */
  public RankPipeline.Settings decoding(SampleStage stage, int decoders) {
    return pipeline(stage, Math.max(stageParallelism, 2 * decoders));
  }

  /** The per-rank stream settings of a raw job (no per-sample stage). */
  public RankPipeline.Settings pipeline() {
    return pipeline(RankPipeline::identity, stageParallelism);
  }
}
