package dev.conveyor.orchestrator.node;

import dev.conveyor.config.CacheSettings;
import dev.conveyor.config.NodeSettings;
import dev.conveyor.config.Resources;
import dev.conveyor.orchestrator.cache.NodeCaches;
import dev.conveyor.orchestrator.checkpoint.CheckpointActor;
import dev.conveyor.orchestrator.coordinator.JobCoordinator;
import dev.conveyor.orchestrator.coordinator.JobSpec;
import dev.conveyor.orchestrator.delivery.RankReport;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.pipeline.BatchGate;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.workers.feeder.LockstepTrainers;
import dev.conveyor.workers.feeder.RankFeeder;
import dev.conveyor.workers.pool.PoolLimits;
import dev.conveyor.workers.reader.LeasedSlices;
import dev.conveyor.workers.reader.ShardReader;
import dev.conveyor.workers.wire.WireMessage;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.stream.Materializer;

/**
 * One per node: what the job coordinator talks to, and the supervisor of the node's part of a
 * job. It registers with the receptionist and, by the node's roles, prepares for a job — a
 * {@code worker} starts a {@link ShardReader} over the node's own store and, when the job
 * decodes, a decoder pool sized by the node's CPU slots and its actor pools — and runs ranks — a
 * {@code trainer-host} reads its ranks' slices through the workers' readers
 * ({@link LeasedSlices}) into each rank's {@link RankFeeder}, reports each batch its trainer
 * takes (to the client, and to the coordinator for the cursor), and escalates a rank it cannot
 * go on with to the coordinator. A rank's trainer reports to the agent by message
 * ({@link RankDelivered}, {@link RankEnded}); what the agent knows of its jobs is its own.
 */
public final class NodeAgent extends AbstractBehavior<NodeAgent.Command> {
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "conveyor-node-agent");
  public static final String WORKER = "worker";
  public static final String TRAINER_HOST = "trainer-host";

  /** What a node agent is asked. */
  public sealed interface Command extends WireMessage permits Prepare, RunRanks, Reattach, StopJob, RankDelivered,
      RankEnded, AddReaders, GateNews {}

  /** Get ready for {@code job}: plan it, and if this node is a worker, start its shard reader. */
  public record Prepare(JobSpec job, ActorRef<Prepared> replyTo) implements Command {}

  /**
   * This node is ready: its agent, its roles, when it is a worker its shard reader and its
   * share of the job's slices (by its CPU slots: its decoders for a decoding job), and the ranks
   * whose trainer processes are attached to it (they run here).
   */
  public record Prepared(String node, ActorRef<Command> agent, boolean trainerHost,
                         Optional<ActorRef<ShardReader.Command>> reader, int shares, String refused,
                         List<Integer> trainers, String declined) implements WireMessage {
    public Prepared {
      trainers = List.copyOf(trainers);
    }

    /** A node that reads for the job if it is a worker ({@code declined}: why it hosts none of the job's pools). */
    public Prepared(String node, ActorRef<Command> agent, boolean trainerHost,
                    Optional<ActorRef<ShardReader.Command>> reader, int shares, String refused, List<Integer> trainers) {
      this(node, agent, trainerHost, reader, shares, refused, trainers, "");
    }
  }

  /**
   * Run {@code ranks} of {@code job} here from cursor {@code start}, leasing their slices to
   * {@code readers}: report each batch and skip to {@code replyTo} (the client) and each
   * delivery to {@code coordinator} (for the job's cursor); {@code hosts} are the agents of every
   * trainer host running some of its ranks, whose gates of full batches hear from each other.
   */
  public record RunRanks(JobSpec job, String start, List<Integer> ranks, List<ActorRef<ShardReader.Command>> readers,
                         ActorRef<RankReport> replyTo, ActorRef<JobCoordinator.Command> coordinator,
                         List<ActorRef<Command>> hosts) implements Command {}

  /** What happened to a rank of job {@code jobId} on another trainer host: for this one's gate of full batches. */
  public record GateNews(String jobId, BatchGate.News news) implements Command {}

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

  /**
   * Shard readers that joined job {@code jobId} while it runs (on a node that joined the cluster
   * since it was placed): this node's ranks of the job lease slices to them too, each as often as
   * it is listed (its shares).
   */
  public record AddReaders(String jobId, List<ActorRef<ShardReader.Command>> readers) implements Command {
    public AddReaders {
      readers = List.copyOf(readers);
    }
  }

  /** Job {@code jobId} has ended (or its client is gone): stop its ranks, readers and decoders here. */
  public record StopJob(String jobId) implements Command {}

  /** A rank of job {@code jobId} here delivered batch {@code index} of {@code epoch}: from its trainer, never remote. */
  record RankDelivered(String jobId, int rank, int epoch, long index, long end, long offset)
      implements Command, NoSerializationVerificationNeeded {}

  /** A rank of job {@code jobId} here ended, after its deliveries; {@code failure} says why it could not go on. */
  record RankEnded(String jobId, int rank, Optional<String> failure) implements Command, NoSerializationVerificationNeeded {}

  /**
   * An agent with the node's roles and its own stores ({@code stores} opens one per job, for its
   * first shard's URI), leasing with {@code leases}.
   */
  public static Behavior<Command> create(Set<String> roles, Function<URI, ShardStore> stores, LeasedSlices.Settings leases) {
    return create(roles, stores, leases, Local.defaults());
  }

  /**
   * What a node offers its jobs: {@code cpus} CPU slots for decoders; each rank's prefetch ring
   * of {@code prefetch} batches, from which its trainer takes; for simulations, a trainer that
   * takes a batch at most every {@code trainerStep} (zero: as fast as they come); and the
   * largest sample its readers send to another node ({@code maxSampleBytes}); what it offers
   * actor pools ({@code offer}).
   */
  public record Local(int cpus, int prefetch, Duration trainerStep, long maxSampleBytes, Resources offer) {
    public static Local defaults() {
      int cpus = Runtime.getRuntime().availableProcessors();
      return new Local(cpus, 8, Duration.ZERO, ClusterNode.MAX_SAMPLE_BYTES, NodeSettings.offered(Resources.NONE, cpus));
    }
  }

  /** An agent on a node offering {@code local}. */
  public static Behavior<Command> create(Set<String> roles, Function<URI, ShardStore> stores, LeasedSlices.Settings leases,
                                         Local local) {
    return Behaviors.setup(ctx -> new NodeAgent(ctx, roles, stores, leases, local));
  }

  /** How long a trainer waits for its next batch before its rank is failed. */
  static final Duration TRAINER_WAIT = Duration.ofMinutes(10);

  private final Set<String> roles;
  private final Function<URI, ShardStore> stores;
  private final LeasedSlices.Settings leases;
  private final Local local;
  private final Materializer mat;
  private final String node;
  /** Jobs prepared here so far: numbers the actors of each (a job id may come again, names must not). */
  private int prepared;
  /** The jobs whose ranks run here. */
  private final Map<String, RanksHere> running = new HashMap<>();
  private final GatesHere gates;
  /** What this worker answered each job's Prepare with: its reader for the job, until the job stops. */
  private final Map<String, Prepared> preparedFor = new HashMap<>();
  /** What this node started as a worker for each job: stopped, and its store closed, when the job ends. */
  private final Map<String, List<Runnable>> workerParts = new HashMap<>();
  /** The node's shard cache, on a worker whose settings enable it. */
  private final java.util.Optional<NodeCaches> caches;

  private NodeAgent(ActorContext<Command> ctx, Set<String> roles, Function<URI, ShardStore> stores,
                    LeasedSlices.Settings leases, Local local) {
    super(ctx);
    this.roles = roles;
    this.stores = stores;
    this.leases = leases;
    this.local = local;
    this.mat = Materializer.createMaterializer(ctx);
    this.gates = new GatesHere(ctx.getSelf(), local.prefetch());
    this.node = ctx.getSystem().address().toString();
    this.caches = roles.contains(WORKER)
        ? NodeCaches.start(ctx.getSystem(), CacheSettings.fromConfig(ctx.getSystem().settings().config()), stores,
            () -> NodeState.get(ctx.getSystem()).http())
        : java.util.Optional.empty();
    caches.ifPresent(c -> NodeState.get(ctx.getSystem()).cache(c));
    ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Prepare.class, this::onPrepare)
        .onMessage(RunRanks.class, this::onRunRanks)
        .onMessage(Reattach.class, this::onReattach)
        .onMessage(StopJob.class, this::onStopJob)
        .onMessage(AddReaders.class, this::onAddReaders)
        .onMessage(GateNews.class, this::onGateNews)
        .onMessage(RankDelivered.class, this::onRankDelivered)
        .onMessage(RankEnded.class, this::onRankEnded)
        .build();
  }

  private Behavior<Command> onPrepare(Prepare p) {
    JobSpec job = p.job();
    if (roles.contains(WORKER) && job.decode().isPresent()) {
      Optional<String> refused = PipelineDefinition.refusal(job.stages(), job.recipe().decode());
      if (refused.isPresent()) {
        p.replyTo().tell(new Prepared(node, getContext().getSelf(), roles.contains(TRAINER_HOST), Optional.empty(), 0,
            "node " + node + " cannot run the job's stages: " + refused.get(), List.of()));
        return this;
      }
    }
    Prepared before = preparedFor.get(job.id());
    if (before != null) {
      p.replyTo().tell(before); // asked again (a new coordinator, or one that missed the answer): the same reader
      return this;
    }
    Optional<ActorRef<ShardReader.Command>> reader = Optional.empty();
    int shares = 0;
    PoolLimits pools = PoolLimits.of(job.stages().pools().pools(), local.offer());
    if (roles.contains(WORKER)) {
      shares = job.stages().decodersFor(local.cpus());
      reader = Optional.of(startReader(job, shares, pools));
    }
    List<Integer> trainers = roles.contains(TRAINER_HOST)
        ? TrainerRings.get(getContext().getSystem()).attachedRanks() : List.of();
    Prepared prepared = new Prepared(node, getContext().getSelf(), roles.contains(TRAINER_HOST), reader, shares, "",
        trainers, roles.contains(WORKER) ? pools.refusal().map(r -> node + ": " + r).orElse("") : "");
    if (reader.isPresent()) {
      preparedFor.put(job.id(), prepared);
    }
    p.replyTo().tell(prepared);
    return this;
  }

  /**
   * This worker's shard reader for {@code job}, decoding with {@code decoders} decoders when the
   * job decodes, its actor pools (if any) each up to its limit here, or elsewhere when they do not fit.
   */
  private ActorRef<ShardReader.Command> startReader(JobSpec submitted, int decoders, PoolLimits pools) {
    JobSpec job = caches.isPresent() ? submitted.readingWholeShards() : submitted;
    DataPlan plan = new DataPlan(job.recipe());
    ShardStore direct = stores.apply(plan.recipe().shards().uri(0));
    ShardStore store = caches.map(c -> c.wrap(direct, job.id(), job.tenant(), plan, job.world(), job.epochs(),
        job.checks())).orElse(direct);
    List<Runnable> parts = workerParts.computeIfAbsent(job.id(), id -> new ArrayList<>());
    ShardReader.Stats stats = new ShardReader.Stats();
    NodeState.get(getContext().getSystem()).reader(job.id(), stats, () -> store.metrics().snapshot());
    int n = ++prepared;
    var pipeline = StagesHere.start(getContext(), job, decoders, pools, n, parts, local.maxSampleBytes());
    ActorRef<ShardReader.Command> reader =
        getContext().spawn(ShardReader.create(store, plan, pipeline, stats, local.maxSampleBytes()), "reader-" + n);
    parts.add(() -> getContext().stop(reader));
    parts.add(store::close);
    return reader;
  }

  private Behavior<Command> onRunRanks(RunRanks r) {
    DataPlan plan = new DataPlan(r.job().recipe());
    RanksHere job = running.computeIfAbsent(r.job().id(), id -> new RanksHere(r.coordinator(),
        new LockstepTrainers(local.trainerStep(), TRAINER_WAIT, NodeState.get(getContext().getSystem()).trainerHold()),
        r.readers(), getContext().getSystem(), gates.open(r), stores));
    // stand-in trainers keep lockstep among themselves; a trainer process keeps its own (its collectives)
    TrainerRings rings = TrainerRings.get(getContext().getSystem());
    job.trainers.expect(r.ranks().stream().filter(rank -> !rings.attached(rank) && !r.job().writes()).toList());
    for (int rank : r.ranks()) {
      job.feeders.add(RankHost.run(r, plan, rank, getContext().getSystem(), getContext().getSelf(), mat, leases, job,
          local.prefetch()));
    }
    return this;
  }

  private Behavior<Command> onGateNews(GateNews n) {
    gates.news(n, running.get(n.jobId()));
    return this;
  }

  private Behavior<Command> onReattach(Reattach a) {
    RanksHere job = running.get(a.jobId());
    if (job == null) {
      a.replyTo().tell(new Attached(node, getContext().getSelf(), false, List.of(), List.of()));
      return this;
    }
    job.coordinator = a.coordinator(); // deliveries after this snapshot go to the new one
    a.replyTo().tell(new Attached(node, getContext().getSelf(), true, job.positions(), List.copyOf(job.done)));
    return this;
  }

  private Behavior<Command> onAddReaders(AddReaders a) {
    RanksHere job = running.get(a.jobId());
    if (job != null) {
      job.incarnations.track(a.readers());
      int added = job.readers.add(a.readers());
      if (added > 0) {
        getContext().getLog().info("job {}: {} shard reader(s) joined: its ranks here lease to them too", a.jobId(), added);
      }
    }
    return this;
  }

  private Behavior<Command> onStopJob(StopJob st) {
    preparedFor.remove(st.jobId());
    gates.forget(st.jobId());
    RanksHere job = running.remove(st.jobId());
    if (job != null) {
      job.feeders.forEach(RankFeeder::close);
    }
    workerParts.getOrDefault(st.jobId(), List.of()).forEach(Runnable::run);
    workerParts.remove(st.jobId());
    return this;
  }

  private Behavior<Command> onRankDelivered(RankDelivered d) {
    RanksHere job = running.get(d.jobId());
    if (job != null) {
      CheckpointActor.Delivered delivered = new CheckpointActor.Delivered(d.rank(), d.epoch(), d.index(), d.end(),
          d.offset());
      job.last.computeIfAbsent(d.rank(), r -> new HashMap<>())
          .merge(d.epoch(), delivered, (a, b) -> a.index() >= b.index() ? a : b);
      job.coordinator.tell(new JobCoordinator.RankDelivered(d.jobId(), delivered));
    }
    return this;
  }

  /** A rank's end goes to the coordinator after its deliveries (they came through here first, from the same thread). */
  private Behavior<Command> onRankEnded(RankEnded e) {
    RanksHere job = running.get(e.jobId());
    if (job == null) {
      return this;
    }
    if (e.failure().isPresent()) {
      // what this node cannot fix goes up: the coordinator stops the job and saves its cursor
      job.coordinator.tell(new JobCoordinator.RankLost(e.jobId(), e.rank(), e.failure().get()));
    } else {
      job.done.add(e.rank());
      job.coordinator.tell(new JobCoordinator.RankFinished(e.jobId(), e.rank()));
    }
    return this;
  }
}
