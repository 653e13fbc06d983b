package dev.conveyor.orchestrator.coordinator;

import dev.conveyor.orchestrator.checkpoint.CursorStore;
import dev.conveyor.orchestrator.checkpoint.ResumePoint;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Command;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Failed;
import dev.conveyor.orchestrator.coordinator.Internal.LookAgain;
import dev.conveyor.orchestrator.coordinator.Internal.Nodes;
import dev.conveyor.orchestrator.delivery.ClientEvent;
import dev.conveyor.orchestrator.node.ClusterNode;
import dev.conveyor.orchestrator.node.NodeAgent;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.store.ShardStore;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.stream.Materializer;

/**
 * What the coordinator's states share: its context and timers, how long nodes have to
 * prepare, how it opens a job's checkpoint directory, and the few things every state does.
 */
final class Coordination {
  /** How long a submission waits for the agents of all nodes that are up to be known. */
  static final Duration AGENTS_SETTLE = Duration.ofSeconds(15);

  /** How long to wait before asking the receptionist again for agents not known yet. */
  static final Duration LOOK_AGAIN = Duration.ofMillis(200);

  private static final Object LOOK_AGAIN_TIMER = "look-again";

  /** How long a coordinator that took a job over waits for a node to say where its ranks are. */
  static final Duration REATTACH = Duration.ofSeconds(5);

  /** How often the node's {@code /status} learns the running job's cursor. */
  static final Duration STATUS_EVERY = Duration.ofSeconds(1);

  final ActorContext<Command> ctx;
  final TimerScheduler<Command> timers;
  final Duration timeout;
  final Materializer mat;
  private final Function<URI, ShardStore> stores;
  private final ActorRef<Receptionist.Listing> listings;

  Coordination(ActorContext<Command> ctx, TimerScheduler<Command> timers, Duration timeout,
               Function<URI, ShardStore> stores, Materializer mat) {
    this.ctx = ctx;
    this.timers = timers;
    this.timeout = timeout;
    this.stores = stores;
    this.mat = mat;
    this.listings = ctx.messageAdapter(Receptionist.Listing.class, Nodes::new);
  }

  /** Asks the receptionist for the node agents: the answer comes as {@link Nodes}. */
  void askAgents() {
    ctx.getSystem().receptionist().tell(Receptionist.find(NodeAgent.KEY, listings));
  }

  /** Has every node agent stop job {@code id}'s ranks, readers and decoders (a one-off listener takes the listing). */
  void askAgentsToStop(String id) {
    ActorRef<Receptionist.Listing> stopper = ctx.spawnAnonymous(Behaviors.setup(c -> new StopJob(c, id)));
    ctx.getSystem().receptionist().tell(Receptionist.find(NodeAgent.KEY, stopper));
  }

  /** Takes one listing of the node agents, tells each to stop job {@code id}, and stops. */
  private static final class StopJob extends AbstractBehavior<Receptionist.Listing> {
    private final String id;

    StopJob(ActorContext<Receptionist.Listing> ctx, String id) {
      super(ctx);
      this.id = id;
    }

    @Override
    public Receive<Receptionist.Listing> createReceive() {
      return newReceiveBuilder().onAnyMessage(this::onListing).build();
    }

    private Behavior<Receptionist.Listing> onListing(Receptionist.Listing l) {
      l.getServiceInstances(NodeAgent.KEY).forEach(a -> a.tell(new NodeAgent.StopJob(id)));
      return Behaviors.stopped();
    }
  }

  /**
   * Whether a listing of {@code listed} agents is one to act on: every up node's agent is in it,
   * or {@link #AGENTS_SETTLE} has passed {@code since} the state began. If not, the receptionist
   * is asked again after {@link #LOOK_AGAIN} (a {@code LookAgain} comes): registrations spread
   * through the cluster a little after a node is up.
   */
  boolean allAgentsListed(int listed, long since) {
    if (listed < nodesUp() && System.nanoTime() - since < AGENTS_SETTLE.toNanos()) {
      timers.startSingleTimer(LOOK_AGAIN_TIMER, new LookAgain(), LOOK_AGAIN);
      return false;
    }
    return true;
  }

  /** Members that are up with the node role (clients do not count). */
  long nodesUp() {
    long n = 0;
    for (Member m : Cluster.get(ctx.getSystem()).state().getMembers()) {
      if (m.status() == MemberStatus.up() && m.hasRole(ClusterNode.NODE_ROLE)) {
        n++;
      }
    }
    return n;
  }

  /** Tells {@code client} that this coordinator runs {@code running} already. */
  void busy(ActorRef<ClientEvent> client, JobSpec running) {
    client.tell(new Failed("the cluster is running job " + running.id() + "; submit again when it is done", true));
  }

  /** The job's checkpoint directory's store, when it has one (the caller closes it). */
  Optional<ShardStore> openCheckpoints(JobSpec job) {
    return job.checkpointDir().isEmpty() ? Optional.empty()
        : Optional.of(stores.apply(CursorStore.parse(job.checkpointDir())));
  }

  Optional<CursorStore> cursorStore(JobSpec job, Optional<ShardStore> files) {
    return files.map(f -> CursorStore.at(job.checkpointDir(), f, job.checkpointKeep()));
  }

  /** Where {@code job} starts: its resume token checked (or "latest" read), or the start of its plan. */
  Cursor start(JobSpec job, Optional<CursorStore> store, Consumer<String> progress) {
    return job.resume().isEmpty() ? Cursor.start(job.recipe().fingerprint(), job.world())
        : ResumePoint.of(job.resume(), store, job.recipe().fingerprint(), job.recipe().shards().selection(), job.epochs(),
            job.world(), mat, progress);
  }
}
