package dev.conveyor.orchestrator.client;

import dev.conveyor.config.ConveyorSettings;
import dev.conveyor.config.JobSettings;
import dev.conveyor.config.SinkSettings;
import dev.conveyor.orchestrator.checkpoint.ResumePoint;
import dev.conveyor.orchestrator.coordinator.JobSpec;
import dev.conveyor.orchestrator.delivery.Delivery;
import dev.conveyor.orchestrator.delivery.JobOutputs;
import dev.conveyor.orchestrator.delivery.JobSummary;
import dev.conveyor.orchestrator.node.ClusterNode;
import dev.conveyor.orchestrator.node.NodeState;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.decode.HwAccel;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.streams.store.ShardStores;
import dev.conveyor.workers.sink.SinkManifest;
import dev.conveyor.workers.sink.SinkNames;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.Materializer;

/**
 * One job, from its settings to its summary, on the cluster {@code system} is a member of —
 * a cluster of one in this process, or a running cluster joined as a client. Either way the
 * same actors run it (coordinator, checkpoint actor, shard readers, decoder pools, rank
 * feeders) and the same {@link Delivery} accounts for what the trainers took.
 */
public final class JobRun {
  private static final Duration JOIN = Duration.ofSeconds(60);
  private static final Duration PLACE = Duration.ofSeconds(90);
  private static final Duration IDLE = Duration.ofMinutes(10);

  private JobRun() {}

  /**
   * Runs {@code settings}' job to its end (or {@code max-steps}), resuming from {@code resume}
   * (a cursor token, or "latest") when given, writing {@code outputs}. {@code seed} names the
   * cluster joined (empty: this process's own). Throws {@link dev.conveyor.config.SettingsException} for a bad
   * recipe or cursor, and {@link dev.conveyor.orchestrator.delivery.BadSampleException} when the
   * data is over the job's bad-sample bound (the cursor is saved first).
   */
  public static JobSummary run(ActorSystem<?> system, ConveyorSettings settings, JobOutputs outputs,
                               Optional<String> resume, Optional<String> seed, Consumer<String> progress)
      throws Exception {
    JobSettings job = settings.job();
    JobPlanner planner = new JobPlanner(Materializer.createMaterializer(system), progress);
    JobPlanner.Planned planned = planner.plan(settings);
    // a flag's resume, else the job file's (conveyor.job.resume); a bad cursor is refused here,
    // saying why; "latest" and "auto" on a cluster are its coordinator's to read; "auto" with no
    // cursor yet is the start ("")
    Optional<SinkSettings> sink = settings.stages().sink();
    String sinkId = sink.map(s -> SinkNames.recipeId(planned.recipe().fingerprint(), job.worldSize(), s)).orElse("");
    // a batch job keeps its cursors beside its shards unless told otherwise, and goes on from them
    boolean sinkCursors = sink.isPresent() && job.checkpointDir().isEmpty();
    Optional<String> token = resume.or(() -> Optional.of(job.resume()).filter(r -> !r.isEmpty()))
        .or(() -> sinkCursors ? Optional.of(ResumePoint.AUTO) : Optional.empty())
        .map(r -> sinkCursors ? r : planner.resumeToken(settings, planned.recipe(), r, seed.isEmpty()))
        .filter(t -> !t.isEmpty());
    JobSpec spec = spec(settings, planned, token, outputs);
    if (sinkCursors) {
      spec = spec.checkpointed(SinkNames.checkpoints(sink.get(), sinkId), 1, job.checkpointKeep(), token.orElse(""),
          job.maxSteps());
    }
    Delivery delivery = new Delivery(spec.ranks(), new Delivery.Policy(
        job.onBadSample() == JobSettings.OnBadSample.FAIL, job.maxBadFraction()), outputs, progress);
    if (token.isEmpty()) {
      planned.problems().forEach(delivery::problem); // found while counting; a resumed run reported them already
    }
    if (job.decode() == JobSettings.Decode.AUTO && seed.isEmpty()) {
      HwAccel.check(settings.decode(), progress);
    }
    // "latest" and "auto" on a cluster: its coordinator knows where; full batches: epochs' lengths are found as they run
    if (!spec.recipe().fullBatches()
        && (token.isEmpty() || !(token.get().equals("latest") || token.get().equals(ResumePoint.AUTO)))) {
      outputs.planned(plannedBatches(spec, token.map(Cursor::decode).orElse(Cursor.start(spec.recipe().fingerprint(),
          spec.world()))));
    }
    ClusterNode.awaitUp(system, seed.orElse("127.0.0.1 (this process)"), JOIN);
    ClusterClient.Outcome o = ClusterClient.run(system, spec, delivery, progress, seed.isPresent(), PLACE, IDLE);
    Delivery.Counts c = delivery.finish();
    if (sink.isPresent()) {
      try (ShardStore out = ShardStores.forUri(URI.create(sink.get().to()), settings.s3())) {
        Manifest written = SinkManifest.write(out, sink.get(), sinkId, Materializer.createMaterializer(system));
        progress.accept("wrote " + written.shards().size() + " shard(s), " + written.samples() + " samples, and "
            + Manifest.FILE_NAME + " to " + sink.get().to());
      }
    }
    return new JobSummary(spec.recipe().id(), spec.ranks().size(), planned.shards(), c.samples(), c.batches(), c.bytes(),
        c.bad(), c.filtered(), droppedRemainder(spec, Cursor.decode(o.start())) + o.leftOver(), o.seconds(), o.stall(),
        o.cursor(),
        seed.isPresent() ? Optional.empty() : NodeState.get(system).reads(spec.id()),
        seed.map(s -> new JobSummary.ClusterFigures(s, o.trainerHosts(), o.readers(), o.shares(), o.leases(),
            o.reassigned(), o.handedBack(), o.takeovers(), o.start(), o.persisted())),
        JobSummary.sources(spec.recipe().mix().map(m -> m.sources().stream().map(dev.conveyor.streams.plan.Mix.Source::name)
            .toList()).orElse(java.util.List.of()), delivery.sources()));
  }

  /** The job as the cluster runs it: the planned recipe with this run's settings. */
  private static JobSpec spec(ConveyorSettings settings, JobPlanner.Planned planned, Optional<String> resume,
                              JobOutputs outputs) {
    JobSettings job = settings.job();
    // names this submission: the recipe, this process and the time it was submitted
    String id = planned.recipe().fingerprint() + "-" + ProcessHandle.current().pid() + "-" + System.currentTimeMillis();
    JobSpec spec = JobSpec.of(id, planned.recipe(), planned.checks(), job.worldSize(), job.epochs(),
            job.readerParallelism(), job.stageParallelism(), job.maxMemberBytes())
        .checkpointed(job.checkpointDir(), job.checkpointEvery(), job.checkpointKeep(), resume.orElse(""), job.maxSteps())
        .serving(job.rank().orElse(-1), job.readAheadBytes())
        .recording(outputs.wantsDigests(), outputs.wantsKeys())
        .forTenant(job.tenant());
    if (job.decode() == JobSettings.Decode.AUTO) {
      spec = spec.decoding(settings.decode(), settings.stages()); // decoder pools sized by the nodes' CPU slots
    }
    return spec;
  }

  /** The batches the served ranks deliver from {@code start} to the end (or max-steps). */
  static long plannedBatches(JobSpec job, Cursor start) {
    DataPlan plan = new DataPlan(job.recipe());
    long batches = 0;
    for (int rank : job.ranks()) {
      long left = job.maxSteps() > 0 ? job.maxSteps() : Long.MAX_VALUE;
      for (int e = start.epoch(); e < job.epochs() && left > 0; e++) {
        RankSegment seg = plan.rank(e == start.epoch() ? start : start.atEpoch(e, job.world()), job.world(), rank);
        long n = Math.min(left, seg.steps() - seg.firstBatch());
        batches += n;
        left -= n;
      }
    }
    return batches;
  }

  /** The drop-last remainders of the epochs this run starts from their beginning. */
  static long droppedRemainder(JobSpec job, Cursor start) {
    DataPlan plan = new DataPlan(job.recipe());
    long dropped = 0;
    for (int e = start.epoch(); e < job.epochs(); e++) {
      RankSegment seg = plan.rank(e == start.epoch() ? start : start.atEpoch(e, job.world()), job.world(), 0);
      if (seg.firstBatch() == 0) {
        dropped += seg.dropped();
      }
    }
    return dropped;
  }

}
