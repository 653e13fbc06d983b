package dev.conveyor.orchestrator.coordinator;

import dev.conveyor.orchestrator.node.NodeAgent;
import dev.conveyor.streams.store.ShardStore;
import java.net.URI;
import java.time.Duration;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.stream.Materializer;

/**
 * The job coordinator's behaviour, which speaks {@link JobCoordinator}'s protocol: it starts
 * {@link Idle}, then moves through {@link Placing} and {@link RunningJob}.
 */
public final class CoordinatorActor {
  private CoordinatorActor() {}

  /** How long the coordinator waits for the node agents to prepare a job. */
  private static final Duration PREPARE = Duration.ofSeconds(60);

  /**
   * A coordinator that waits up to {@code prepareTimeout} for nodes to prepare and opens a
   * job's checkpoint directory with {@code stores}.
   */
  public static Behavior<JobCoordinator.Command> create(Duration prepareTimeout, Function<URI, ShardStore> stores) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new Idle(new Coordination(ctx, timers, prepareTimeout,
        stores, Materializer.createMaterializer(ctx)))));
  }

  /**
   * The coordinator singleton, from this member: it runs on the oldest worker node, which opens
   * checkpoint directories with {@code stores}; elsewhere this is a proxy. Not on a trainer
   * host: losing one ends its ranks anyway, and the coordinator should outlive that.
   */
  public static ActorRef<JobCoordinator.Command> singleton(ActorSystem<?> system, Function<URI, ShardStore> stores) {
    return ClusterSingleton.get(system).init(SingletonActor.of(create(PREPARE, stores), "job-coordinator")
        .withStopMessage(new JobCoordinator.HandOver())
        .withSettings(ClusterSingletonSettings.create(system).withRole(NodeAgent.WORKER)));
  }

  /** The coordinator singleton, from a member that cannot host it (a client). */
  public static ActorRef<JobCoordinator.Command> proxy(ActorSystem<?> system) {
    return singleton(system, uri -> {
      throw new IllegalStateException("a client hosts no coordinator");
    });
  }
}
