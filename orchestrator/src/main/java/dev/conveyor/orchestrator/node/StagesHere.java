package dev.conveyor.orchestrator.node;

import dev.conveyor.config.PoolSettings;
import dev.conveyor.orchestrator.coordinator.JobSpec;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.pipeline.RankPipeline;
import dev.conveyor.streams.pipeline.SampleStage;
import dev.conveyor.workers.decoder.DecoderPool;
import java.time.Duration;
import dev.conveyor.workers.pool.ActorPool;
import dev.conveyor.workers.pool.PoolFront;
import dev.conveyor.workers.pool.PoolRouter;
import dev.conveyor.workers.pool.PoolLimits;
import dev.conveyor.workers.pool.PoolStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * A worker's stages for one job: its decoder pool and, for a pipeline with actor stages, one
 * {@link ActorPool} per pool stage, each up to its limit on this node, chained in the pipeline's
 * order after the decoders and open to other workers' samples through a {@link PoolFront}; or,
 * on a worker that cannot host the pools, a {@link PoolRouter} that sends its decoded groups to
 * the fronts of those that can. Their figures go to {@link NodeState} for {@code /metrics} and
 * {@code /status}.
 */
final class StagesHere {
  private StagesHere() {}

  /**
   * The per-rank stream settings of {@code job} on this worker: raw, or — for a decoding job —
   * through {@code decoders} decoders and its actor pools (started under {@code ctx}, numbered
   * {@code n} among the jobs prepared here, {@code parts} told how to stop them), sending no
   * message to another worker above {@code maxBytes}.
   */
  static RankPipeline.Settings start(ActorContext<?> ctx, JobSpec job, int decoders, PoolLimits pools, int n,
                                     List<Runnable> parts, long maxBytes) {
    if (job.decode().isEmpty()) {
      return job.pipeline();
    }
    DecoderPool.Stats decoding = new DecoderPool.Stats();
    NodeState.get(ctx.getSystem()).decoders(job.id(), decoding);
    ActorRef<DecoderPool.Command> pool = ctx.spawn(DecoderPool.create(decoders, job.decode().get(),
        job.recipe().seed(), () -> PipelineDefinition.steps(job.stages()), decoding), "decoders-" + n);
    parts.add(() -> ctx.stop(pool));
    SampleStage decode = DecoderPool.stage(pool.narrow(),
        Duration.ofMillis(job.decode().get().limits().timeoutMillis()), ctx.getSystem().scheduler());
    List<PoolSettings.Pool> asked = job.stages().pools().pools();
    if (pools.refusal().isPresent()) {
      // the pools run on other workers: groups out at once enough to keep their actors busy
      PoolRouter.Stats routed = new PoolRouter.Stats(asked.stream().map(PoolSettings.Pool::stage).toList());
      NodeState.get(ctx.getSystem()).routes(job.id(), routed);
      ActorRef<PoolRouter.Command> router = ctx.spawn(PoolRouter.create(job.id(),
          job.stages().pools().autoscale().sampleTimeout(), maxBytes, routed), "pool-router-" + n);
      parts.add(() -> ctx.stop(router));
      return job.decoding(decode.then(PoolRouter.stage(router)),
          decoders + asked.stream().mapToInt(PoolSettings.Pool::max).sum());
    }
    Optional<SampleStage> pooled = start(ctx, job, pools, n, parts);
    pooled.ifPresent(chain -> {
      ActorRef<PoolFront.Command> front = ctx.spawn(PoolFront.create(job.id(), chain, maxBytes), "pool-front-" + n);
      parts.add(() -> ctx.stop(front));
    });
    return job.decoding(pooled.map(decode::then).orElse(decode),
        decoders + pools.limits().stream().mapToInt(Integer::intValue).sum());
  }

  /**
   * Starts {@code job}'s pools under {@code ctx} (numbered {@code n} among the jobs prepared here),
   * adding to {@code parts} what stops them; the stage that runs a group through all of them, in
   * order, or empty when the job has none.
   */
  private static Optional<SampleStage> start(ActorContext<?> ctx, JobSpec job, PoolLimits limits, int n,
                                             List<Runnable> parts) {
    List<PoolSettings.Pool> pools = job.stages().pools().pools();
    if (pools.isEmpty()) {
      return Optional.empty();
    }
    List<PoolStats> stats = new ArrayList<>();
    SampleStage chain = null;
    for (int i = 0; i < pools.size(); i++) {
      PoolSettings.Pool p = pools.get(i);
      PoolStats st = new PoolStats(p.stage());
      stats.add(st);
      ActorRef<ActorPool.Command> pool = ctx.spawn(ActorPool.create(p, job.stages().pools().autoscale(),
          limits.limits().get(i), job.recipe().seed(), PipelineDefinition.actorSteps(job.stages(), p.stage()), st),
          "pool-" + n + "-" + i);
      parts.add(() -> ctx.stop(pool));
      SampleStage next = ActorPool.stage(pool);
      chain = chain == null ? next : chain.then(next);
    }
    NodeState.get(ctx.getSystem()).pools(job.id(), stats);
    return Optional.of(chain);
  }
}
