package dev.conveyor.orchestrator.coordinator;

import dev.conveyor.streams.store.ShardStore;
import java.net.URI;
import java.time.Duration;
import java.util.function.Function;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.Materializer;

/**
 * The job coordinator's behaviour, which speaks {@link JobCoordinator}'s protocol: it starts
 * {@link Idle}, then moves through {@link Placing} and {@link RunningJob}.
 */
public final class CoordinatorActor {
  private CoordinatorActor() {}

  /**
   * A coordinator that waits up to {@code prepareTimeout} for nodes to prepare and opens a
   * job's checkpoint directory with {@code stores}.
   */
  public static Behavior<JobCoordinator.Command> create(Duration prepareTimeout, Function<URI, ShardStore> stores) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new Idle(new Coordination(ctx, timers, prepareTimeout,
        stores, Materializer.createMaterializer(ctx)))));
  }
}
