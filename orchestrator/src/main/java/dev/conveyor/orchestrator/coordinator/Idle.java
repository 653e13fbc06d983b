package dev.conveyor.orchestrator.coordinator;

import dev.conveyor.orchestrator.checkpoint.CheckpointActor;
import dev.conveyor.orchestrator.checkpoint.CursorStore;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Adopt;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Adopted;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Command;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Failed;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.HandOver;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Submit;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.orchestrator.node.NodeState;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The coordinator with no job: a {@link Submit} starts {@link Placing} it; an {@link Adopt}
 * takes over a running job from the checkpoint directory. Reports of a job it does not run
 * (a late rank's, a lost coordinator's) are dropped.
 */
final class Idle extends AbstractBehavior<Command> {
  private final Coordination co;

  Idle(Coordination co) {
    super(co.ctx);
    this.co = co;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Submit.class, this::onSubmit)
        .onMessage(Adopt.class, this::onAdopt)
        .onMessage(HandOver.class, h -> Behaviors.stopped())
        .onAnyMessage(m -> this) // of a job this coordinator does not run (yet), or one that ended
        .build();
  }

  private Behavior<Command> onSubmit(Submit s) {
    co.askAgents();
    return new Placing(co, s);
  }

  /** A job taken over from a lost coordinator: its cursor from the checkpoint directory and the nodes' reports. */
  private Behavior<Command> onAdopt(Adopt a) {
    JobSpec job = a.job();
    Optional<ShardStore> files = Optional.empty();
    try {
      files = co.openCheckpoints(job);
      Optional<CursorStore> store = co.cursorStore(job, files);
      Cursor first = co.start(job, store, line -> { });
      Optional<Cursor> saved = CheckpointActor.recover(store, first, co.mat);
      Cursor from = saved.orElse(first);
      ActorRef<CheckpointActor.Command> checkpoint =
          co.ctx.spawnAnonymous(CheckpointActor.starting(store, from, job.checkpointEvery(), job.rank() >= 0));
      co.ctx.getLog().info("job {}: taken over from a lost coordinator, from cursor {}", job.id(), from.encode());
      co.askAgents(); // every agent: its ranks of this job report here from now on
      NodeState.get(co.ctx.getSystem()).tookOver();
      a.client().tell(new Adopted(co.ctx.getSystem().address().toString(), co.ctx.getSelf(), from.encode(),
          saved.isPresent()));
      return new RunningJob(co, job, a.client(), files, checkpoint, true);
    } catch (RuntimeException e) {
      files.ifPresent(ShardStore::close);
      a.client().tell(new Failed("the job could not be taken over: " + e.getMessage(), false));
      return this;
    }
  }
}
