package dev.conveyor.orchestrator.cluster;

import dev.conveyor.streams.pipeline.RankPipeline;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.store.ShardCheck;
import dev.conveyor.workers.wire.WireMessage;
import java.util.Map;

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
 */
public record JobSpec(String id, Recipe recipe, Map<String, ShardCheck> checks, int world, int epochs,
                      int readerParallelism, int stageParallelism, long maxMemberBytes, long readAheadBytes,
                      long maxSteps, String checkpointDir, int checkpointEvery, int checkpointKeep, String resume)
    implements WireMessage {
  public JobSpec {
    checks = Map.copyOf(checks);
    if (!"none".equals(recipe.decode())) {
      throw new IllegalArgumentException("the cluster runtime reads raw samples for now (decode = none), got decode "
          + recipe.decode());
    }
  }

  /** A job that starts afresh, saves no cursor and runs to its end. */
  public static JobSpec of(String id, Recipe recipe, Map<String, ShardCheck> checks, int world, int epochs,
                           int readerParallelism, int stageParallelism, long maxMemberBytes) {
    return new JobSpec(id, recipe, checks, world, epochs, readerParallelism, stageParallelism, maxMemberBytes, 0, 0,
        "", 0, 1, "");
  }

  /** This job with its cursors saved in {@code dir} every {@code every} batches, resuming from {@code resume} ("" for none). */
  public JobSpec checkpointed(String dir, int every, int keep, String resume, long maxSteps) {
    return new JobSpec(id, recipe, checks, world, epochs, readerParallelism, stageParallelism, maxMemberBytes,
        readAheadBytes, maxSteps, dir, every, keep, resume);
  }

  /** The per-rank stream settings of this job (raw samples, no per-sample stage). */
  RankPipeline.Settings pipeline() {
    return new RankPipeline.Settings(readerParallelism, stageParallelism, maxMemberBytes, RankPipeline::identity,
        readAheadBytes, checks);
  }
}
