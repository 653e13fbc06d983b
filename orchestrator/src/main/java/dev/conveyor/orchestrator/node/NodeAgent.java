package dev.conveyor.orchestrator.node;

import dev.conveyor.orchestrator.checkpoint.CheckpointActor;
import dev.conveyor.orchestrator.coordinator.JobCoordinator;
import dev.conveyor.orchestrator.coordinator.JobSpec;
import dev.conveyor.orchestrator.delivery.RankReport.BatchDone;
import dev.conveyor.orchestrator.delivery.RankReport.RankDone;
import dev.conveyor.orchestrator.delivery.RankReport.RankFailed;
import dev.conveyor.orchestrator.delivery.RankReport.SkipDone;
import dev.conveyor.orchestrator.delivery.RankReport;
import dev.conveyor.orchestrator.node.NodeState;
import dev.conveyor.streams.batch.BatchDigest;
import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.decode.SampleMap;
import dev.conveyor.streams.pipeline.RankPipeline;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.workers.decoder.DecoderPool;
import dev.conveyor.workers.feeder.LockstepTrainers;
import dev.conveyor.workers.feeder.RankFeeder;
import dev.conveyor.workers.reader.LeasedSlices;
import dev.conveyor.workers.reader.ShardReader;
import dev.conveyor.workers.wire.WireMessage;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;

/**
 * One per node: what the job coordinator talks to, and the supervisor of the node's part of a
 * job. It registers with the receptionist and, by the node's roles, prepares for a job — a
 * {@code worker} starts a {@link ShardReader} over the node's own store and, when the job
 * decodes, a {@link DecoderPool} sized by the node's CPU slots — and runs ranks — a
 * {@code trainer-host} reads its ranks' slices through the workers' readers
 * ({@link LeasedSlices}) into each rank's {@link RankFeeder}, reports each batch its trainer
 * takes (to the client, and to the coordinator for the cursor), and escalates a rank it cannot
 * go on with to the coordinator.
 */
public final class NodeAgent {
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "conveyor-node-agent");
  public static final String WORKER = "worker";
  public static final String TRAINER_HOST = "trainer-host";

  private NodeAgent() {}

  /** What a node agent is asked. */
  public sealed interface Command extends WireMessage permits Prepare, RunRanks, Reattach, StopJob {}

  /** Get ready for {@code job}: plan it, and if this node is a worker, start its shard reader. */
  public record Prepare(JobSpec job, ActorRef<Prepared> replyTo) implements Command {}

  /**
   * This node is ready: its agent, its roles, and when it is a worker its shard reader and its
   * share of the job's slices (by its CPU slots: its decoders for a decoding job).
   */
  public record Prepared(String node, ActorRef<Command> agent, boolean trainerHost,
                         Optional<ActorRef<ShardReader.Command>> reader, int shares, String refused)
      implements WireMessage {}

  /**
   * Run {@code ranks} of {@code job} here from cursor {@code start}, leasing their slices to
   * {@code readers}: report each batch and skip to {@code replyTo} (the client) and each
   * delivery to {@code coordinator} (for the job's cursor).
   */
  public record RunRanks(JobSpec job, String start, List<Integer> ranks, List<ActorRef<ShardReader.Command>> readers,
                         ActorRef<RankReport> replyTo, ActorRef<JobCoordinator.Command> coordinator) implements Command {}

  /**
   * A new coordinator took over job {@code jobId}: report deliveries to it from now on, and tell
   * {@code replyTo} where this node's ranks are.
   */
  public record Reattach(String jobId, ActorRef<JobCoordinator.Command> coordinator, ActorRef<Attached> replyTo)
      implements Command {}

  /**
   * Where this node's ranks of a job are: whether it runs any; for each rank and epoch it
   * delivered in, its last batch; and the ranks that delivered their last.
   */
  public record Attached(String node, ActorRef<Command> agent, boolean runsRanks, List<CheckpointActor.Delivered> positions,
                         List<Integer> done) implements WireMessage {}

  /** Job {@code jobId} has ended (or its client is gone): stop its ranks, readers and decoders here. */
  public record StopJob(String jobId) implements Command {}

  /**
   * An agent with the node's roles and its own stores ({@code stores} opens one per job, for its
   * first shard's URI), leasing
   * with {@code leases}.
   */
  public static Behavior<Command> create(Set<String> roles, Function<URI, ShardStore> stores, LeasedSlices.Settings leases) {
    return create(roles, stores, leases, Local.defaults());
  }

  /**
   * What a node offers its jobs: {@code cpus} CPU slots for decoders; each rank's prefetch ring
   * of {@code prefetch} batches, from which its trainer takes; for simulations, a trainer that
   * takes a batch at most every {@code trainerStep} (zero: as fast as they come); and the
   * largest sample its readers send to another node ({@code maxSampleBytes}).
   */
  public record Local(int cpus, int prefetch, java.time.Duration trainerStep, long maxSampleBytes) {
    public static Local defaults() {
      return new Local(Runtime.getRuntime().availableProcessors(), 8, java.time.Duration.ZERO, ClusterNode.MAX_SAMPLE_BYTES);
    }
  }

  /** An agent on a node offering {@code local}. */
  public static Behavior<Command> create(Set<String> roles, Function<URI, ShardStore> stores, LeasedSlices.Settings leases,
                                         Local local) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      Materializer mat = Materializer.createMaterializer(ctx);
      String node = ctx.getSystem().address().toString();
      int[] jobs = {0};
      Map<String, RunningJob> running = new HashMap<>();
      // what this node started as a worker for each job: stopped, and its store closed, when the job ends
      Map<String, List<Runnable>> workerParts = new HashMap<>();
      return Behaviors.receive(Command.class)
          .onMessage(Prepare.class, p -> {
            Optional<ActorRef<ShardReader.Command>> reader = Optional.empty();
            int shares = 0;
            if (roles.contains(WORKER) && p.job().stages().mapClass().isPresent()) {
              try {
                SampleMap.named(p.job().stages().mapClass().get()); // on this node's class path, and can be made
              } catch (IllegalArgumentException e) {
                p.replyTo().tell(new Prepared(node, ctx.getSelf(), roles.contains(TRAINER_HOST), reader, 0,
                    "node " + node + " cannot run the map stage: " + e.getMessage()));
                return Behaviors.same();
              }
            }
            if (roles.contains(WORKER)) {
              DataPlan plan = new DataPlan(p.job().recipe());
              JobSpec job = p.job();
              ShardStore store = stores.apply(plan.recipe().shards().uri(0));
              List<Runnable> parts = workerParts.computeIfAbsent(job.id(), id -> new ArrayList<>());
              ShardReader.Stats stats = new ShardReader.Stats();
              NodeState state = NodeState.get(ctx.getSystem());
              state.reader(job.id(), stats, () -> store.metrics().snapshot());
              int n = ++jobs[0]; // a job id may come again (a resubmission): names must not
              shares = job.stages().decodersFor(local.cpus());
              RankPipeline.Settings pipeline = job.pipeline();
              if (job.decode().isPresent()) {
                DecoderPool.Stats decoding = new DecoderPool.Stats();
                state.decoders(job.id(), decoding);
                ActorRef<DecoderPool.Decode> pool = ctx.spawn(DecoderPool.create(shares, job.decode().get(),
                    job.recipe().seed(), job.stages().mapClass(), decoding), "decoders-" + n);
                parts.add(() -> ctx.stop(pool));
                pipeline = job.decoding(DecoderPool.stage(pool,
                    java.time.Duration.ofMillis(job.decode().get().limits().timeoutMillis()), ctx.getSystem().scheduler()),
                    shares);
              }
              ActorRef<ShardReader.Command> shardReader =
                  ctx.spawn(ShardReader.create(store, plan, pipeline, stats, local.maxSampleBytes()), "reader-" + n);
              reader = Optional.of(shardReader);
              parts.add(() -> ctx.stop(shardReader));
              parts.add(store::close);
            }
            p.replyTo().tell(new Prepared(node, ctx.getSelf(), roles.contains(TRAINER_HOST), reader, shares, ""));
            return Behaviors.same();
          })
          .onMessage(RunRanks.class, r -> {
            DataPlan plan = new DataPlan(r.job().recipe());
            RunningJob job = running.computeIfAbsent(r.job().id(), id -> new RunningJob(r.coordinator(),
                new LockstepTrainers(local.trainerStep(), TRAINER_WAIT)));
            job.trainers.expect(r.ranks());
            for (int rank : r.ranks()) {
              job.feeders.add(runRank(r, plan, rank, ctx.getSystem(), mat, leases, job, local));
            }
            return Behaviors.same();
          })
          .onMessage(Reattach.class, a -> {
            RunningJob job = running.get(a.jobId());
            if (job == null) {
              a.replyTo().tell(new Attached(node, ctx.getSelf(), false, List.of(), List.of()));
              return Behaviors.same();
            }
            job.coordinator.set(a.coordinator()); // first, so that no delivery after the snapshot goes to the old one
            a.replyTo().tell(new Attached(node, ctx.getSelf(), true, job.positions(), List.copyOf(job.done)));
            return Behaviors.same();
          })
          .onMessage(StopJob.class, st -> {
            RunningJob job = running.remove(st.jobId());
            if (job != null) {
              job.feeders.forEach(RankFeeder::close);
            }
            workerParts.getOrDefault(st.jobId(), List.of()).forEach(Runnable::run);
            workerParts.remove(st.jobId());
            return Behaviors.same();
          })
          .build();
    });
  }

  /** A job's ranks on this node: where deliveries are reported, and the last batch of each rank in each epoch. */
  private static final class RunningJob {
    final AtomicReference<ActorRef<JobCoordinator.Command>> coordinator;
    final Map<Integer, Map<Integer, Long>> last = new ConcurrentHashMap<>();
    final List<RankFeeder> feeders = new java.util.concurrent.CopyOnWriteArrayList<>();
    final Set<Integer> done = ConcurrentHashMap.newKeySet();
    final LockstepTrainers trainers;

    RunningJob(ActorRef<JobCoordinator.Command> coordinator, LockstepTrainers trainers) {
      this.coordinator = new AtomicReference<>(coordinator);
      this.trainers = trainers;
    }

    void delivered(String jobId, int rank, int epoch, long index) {
      last.computeIfAbsent(rank, r -> new ConcurrentHashMap<>()).merge(epoch, index, Math::max);
      coordinator.get().tell(new JobCoordinator.RankDelivered(jobId, new CheckpointActor.Delivered(rank, epoch, index)));
    }

    /** Rank {@code rank} delivered its last batch: after its deliveries, so that the coordinator has them all first. */
    void finished(String jobId, int rank) {
      done.add(rank);
      coordinator.get().tell(new JobCoordinator.RankFinished(jobId, rank));
    }

    List<CheckpointActor.Delivered> positions() {
      List<CheckpointActor.Delivered> out = new ArrayList<>();
      last.forEach((rank, epochs) -> epochs.forEach((epoch, index) -> out.add(new CheckpointActor.Delivered(rank, epoch, index))));
      out.sort(java.util.Comparator.comparingInt(CheckpointActor.Delivered::epoch));
      return out;
    }
  }

  /**
   * Runs {@code rank}: its events into a {@link RankFeeder}'s prefetch ring, and a trainer —
   * here a thread standing in for the trainer process, in lockstep with the job's other ranks
   * on this node, taking a batch every {@code local.trainerStep()} — taking from it. A batch is
   * reported (to the client, to the coordinator's cursor, to the node's metrics) when the
   * trainer takes it.
   */
  private static RankFeeder runRank(RunRanks r, DataPlan plan, int rank, org.apache.pekko.actor.typed.ActorSystem<?> system,
                                    Materializer mat, LeasedSlices.Settings leases, RunningJob running, Local local) {
    JobSpec job = r.job();
    LeasedSlices.Stats stats = new LeasedSlices.Stats();
    // the rank reads reader-parallelism slices at once, as a rank reads windows in one process
    LeasedSlices.Settings inFlight = new LeasedSlices.Settings(leases.offerTimeout(), leases.maxAttempts(),
        leases.retryDelay(), job.readerParallelism());
    // a reader is alive while its node is up: leases skip the readers of nodes downed meanwhile
    LeasedSlices.Readers readers = new LeasedSlices.Readers(r.readers(), ref -> ClusterNode.isUp(system, ref));
    Cursor start = Cursor.decode(r.start());
    NodeState.Rank meter = NodeState.get(system).rank(job.id(), rank, stats);
    Source<RankEvent, NotUsed> events = Source.range(start.epoch(), job.epochs() - 1).flatMapConcat(e -> {
      RankSegment seg = plan.rank(e == start.epoch() ? start : start.atEpoch(e, job.world()), job.world(), rank);
      return LeasedSlices.events(seg, readers, system, inFlight, stats)
          .map(ev -> {
            meter.received(ShardReader.bytes(ev));
            return ev;
          })
          .via(RankPipeline.batches(seg));
    }).via(RankPipeline.limitBatches(job.maxSteps()));
    RankFeeder feeder = RankFeeder.start(events, local.prefetch(), mat, b -> {
      // the digests hash every byte of the batch: only when the client records them
      BatchDigest d = job.digests() ? BatchDigest.of(b) : new BatchDigest("", "");
      long bytes = 0;
      List<String> keys = new ArrayList<>();
      for (dev.conveyor.streams.sample.RawSample sample : b.samples()) {
        bytes += sample.deliveredBytes();
        if (job.keys()) {
          keys.add(sample.key());
        }
      }
      r.replyTo().tell(new BatchDone(b.epoch(), b.step(), b.rank(), b.index(), d.bytesSha256(), d.keysSha256(),
          b.samples().size(), bytes, keys));
      running.delivered(job.id(), b.rank(), b.epoch(), b.index());
      meter.delivered(b.epoch(), b.index(), b.samples().size(), bytes);
    }, s -> r.replyTo().tell(new SkipDone(s.epoch(), s.step(), s.rank(), s.deadLetter())));
    meter.ring(feeder::ready);
    running.trainers.start("trainer-" + job.id() + "-rank-" + rank, rank, feeder,
        () -> meter.stall(feeder.stallSeconds(), feeder.stall()), failed -> {
          meter.ended(failed.map(f -> "failed: " + f).orElse("done"));
          if (failed.isPresent()) {
            r.replyTo().tell(new RankFailed(rank, failed.get()));
            // what this node cannot fix goes up: the coordinator stops the job and saves its cursor
            running.coordinator.get().tell(new JobCoordinator.RankLost(job.id(), rank, failed.get()));
          } else {
            running.finished(job.id(), rank);
            r.replyTo().tell(new RankDone(rank, stats.leases(), stats.reassigned(), stats.handedBack(),
                feeder.stallSeconds(), feeder.stall()));
          }
        });
    return feeder;
  }

  /** How long a trainer waits for its next batch before its rank is failed. */
  private static final java.time.Duration TRAINER_WAIT = java.time.Duration.ofMinutes(10);
}
