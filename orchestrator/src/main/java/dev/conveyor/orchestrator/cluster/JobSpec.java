package dev.conveyor.orchestrator.cluster;

import dev.conveyor.streams.pipeline.RankPipeline;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.store.ShardCheck;
import dev.conveyor.workers.wire.WireMessage;
import java.util.Map;

/**
 * A job as the cluster runs it: its recipe (so every node plans the same, and its fingerprint
 * names the job), the manifest's checks, and how ranks read. No store settings or credentials
 * travel with it: each node reads with its own.
 */
public record JobSpec(String id, Recipe recipe, Map<String, ShardCheck> checks, int world, int epochs,
                      int readerParallelism, int stageParallelism, long maxMemberBytes, long readAheadBytes)
    implements WireMessage {
  public JobSpec {
    checks = Map.copyOf(checks);
    if (!"none".equals(recipe.decode())) {
      throw new IllegalArgumentException("the cluster runtime reads raw samples for now (decode = none), got decode "
          + recipe.decode());
    }
  }

  /** The per-rank stream settings of this job (raw samples, no per-sample stage). */
  RankPipeline.Settings pipeline() {
    return new RankPipeline.Settings(readerParallelism, stageParallelism, maxMemberBytes, RankPipeline::identity,
        readAheadBytes, checks);
  }
}
