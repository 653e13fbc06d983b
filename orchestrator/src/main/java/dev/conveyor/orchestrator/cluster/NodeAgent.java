package dev.conveyor.orchestrator.cluster;

import dev.conveyor.streams.batch.BatchDigest;
import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.batch.Skipped;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.pipeline.RankPipeline;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.workers.reader.LeasedSlices;
import dev.conveyor.workers.reader.ShardReader;
import dev.conveyor.workers.wire.WireMessage;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.net.URI;
import java.util.function.Function;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * One per node: what the job coordinator talks to. It registers with the receptionist and, by
 * the node's roles, prepares for a job — a {@code worker} starts a {@link ShardReader} over
 * the node's own store — and runs ranks — a {@code trainer-host} reads its ranks' slices
 * through the workers' readers ({@link LeasedSlices}) and reports each batch.
 */
public final class NodeAgent {
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "conveyor-node-agent");
  public static final String WORKER = "worker";
  public static final String TRAINER_HOST = "trainer-host";

  private NodeAgent() {}

  /** What a node agent is asked. */
  public sealed interface Command extends WireMessage permits Prepare, RunRanks {}

  /** Get ready for {@code job}: plan it, and if this node is a worker, start its shard reader. */
  public record Prepare(JobSpec job, ActorRef<Prepared> replyTo) implements Command {}

  /** This node is ready: its agent, its roles, and its shard reader when it is a worker. */
  public record Prepared(String node, ActorRef<Command> agent, boolean worker, boolean trainerHost,
                         Optional<ActorRef<ShardReader.Command>> reader) implements WireMessage {}

  /** Run {@code ranks} of {@code job} here, leasing their slices to {@code readers}; report to {@code replyTo}. */
  public record RunRanks(JobSpec job, List<Integer> ranks, List<ActorRef<ShardReader.Command>> readers,
                         ActorRef<RankReport> replyTo) implements Command {}

  /** What a trainer host reports of its ranks. */
  public sealed interface RankReport extends WireMessage permits BatchDone, SkipDone, RankDone, RankFailed {}

  /** A batch was delivered: its place and digests, as {@code --digest-out} prints them. */
  public record BatchDone(int epoch, long step, int rank, long index, String bytesSha256, String keysSha256, int samples)
      implements RankReport {}

  /** A sample was skipped: its dead-letter line. */
  public record SkipDone(int epoch, long step, int rank, String deadLetter) implements RankReport {}

  /** A rank has delivered all its batches; how leasing went. */
  public record RankDone(int rank, long leases, long reassigned) implements RankReport {}

  /** A rank could not go on. */
  public record RankFailed(int rank, String reason) implements RankReport {}

  /**
   * An agent with the node's roles and its own stores ({@code stores} opens one per job, for its
   * first shard's URI), leasing
   * with {@code leases}.
   */
  public static Behavior<Command> create(Set<String> roles, Function<URI, ShardStore> stores, LeasedSlices.Settings leases) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      Materializer mat = Materializer.createMaterializer(ctx);
      String node = ctx.getSystem().address().toString();
      int[] jobs = {0};
      return Behaviors.receive(Command.class)
          .onMessage(Prepare.class, p -> {
            Optional<ActorRef<ShardReader.Command>> reader = Optional.empty();
            if (roles.contains(WORKER)) {
              DataPlan plan = new DataPlan(p.job().recipe());
              reader = Optional.of(ctx.spawn(ShardReader.create(stores.apply(plan.recipe().shards().uri(0)), plan,
                      p.job().pipeline()),
                  "reader-" + (++jobs[0]))); // a job id may come again (a resubmission): the name must not
            }
            p.replyTo().tell(new Prepared(node, ctx.getSelf(), roles.contains(WORKER), roles.contains(TRAINER_HOST), reader));
            return Behaviors.same();
          })
          .onMessage(RunRanks.class, r -> {
            DataPlan plan = new DataPlan(r.job().recipe());
            for (int rank : r.ranks()) {
              runRank(r, plan, rank, ctx.getSystem(), mat, leases);
            }
            return Behaviors.same();
          })
          .build();
    });
  }

  /** Whether {@code ref}'s node is an up member of the cluster (a local reference always is). */
  private static boolean isUp(org.apache.pekko.actor.typed.ActorSystem<?> system, ActorRef<?> ref) {
    org.apache.pekko.actor.Address a = ref.path().address();
    if (a.hasLocalScope()) {
      return true;
    }
    for (org.apache.pekko.cluster.Member m : org.apache.pekko.cluster.typed.Cluster.get(system).state().getMembers()) {
      if (m.address().equals(a)) {
        return m.status() == org.apache.pekko.cluster.MemberStatus.up()
            || m.status() == org.apache.pekko.cluster.MemberStatus.weaklyUp();
      }
    }
    return false;
  }

  private static void runRank(RunRanks r, DataPlan plan, int rank, org.apache.pekko.actor.typed.ActorSystem<?> system,
                              Materializer mat, LeasedSlices.Settings leases) {
    JobSpec job = r.job();
    LeasedSlices.Stats stats = new LeasedSlices.Stats();
    // a reader is alive while its node is up: leases skip the readers of nodes downed meanwhile
    LeasedSlices.Readers readers = new LeasedSlices.Readers(r.readers(), ref -> isUp(system, ref));
    Cursor start = Cursor.start(job.recipe().fingerprint(), job.world());
    Source<RankEvent, NotUsed> events = Source.range(0, job.epochs() - 1).flatMapConcat(e -> {
      RankSegment seg = plan.rank(start.atEpoch(e, job.world()), job.world(), rank); // every epoch from its start
      return LeasedSlices.events(seg, readers, system, leases, stats).via(RankPipeline.batches(seg));
    });
    events.runWith(Sink.foreach(ev -> {
      if (ev instanceof RawBatch b) {
        BatchDigest d = BatchDigest.of(b);
        r.replyTo().tell(new BatchDone(b.epoch(), b.step(), b.rank(), b.index(), d.bytesSha256(), d.keysSha256(),
            b.samples().size()));
      } else if (ev instanceof Skipped s) {
        r.replyTo().tell(new SkipDone(s.epoch(), s.step(), s.rank(), s.deadLetter().line()));
      }
    }), mat).whenComplete((done, failure) -> {
      if (failure != null) {
        r.replyTo().tell(new RankFailed(rank, String.valueOf(failure.getMessage())));
      } else {
        r.replyTo().tell(new RankDone(rank, stats.leases(), stats.reassigned()));
      }
    });
  }
}
