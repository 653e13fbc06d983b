package dev.conveyor.orchestrator.coordinator;

import dev.conveyor.orchestrator.checkpoint.CheckpointActor;
import dev.conveyor.orchestrator.checkpoint.CursorStore;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Adopt;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Command;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Failed;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.HandOver;
import dev.conveyor.orchestrator.coordinator.Internal.LookAgain;
import dev.conveyor.orchestrator.coordinator.Internal.Nodes;
import dev.conveyor.orchestrator.coordinator.Internal.NotReady;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Placed;
import dev.conveyor.orchestrator.coordinator.Internal.Ready;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Submit;
import dev.conveyor.orchestrator.delivery.ClientEvent;
import dev.conveyor.orchestrator.node.NodeAgent.Prepared;
import dev.conveyor.orchestrator.node.NodeAgent;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.store.ShardStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * A submitted job on its way to running: the coordinator waits until the agents of all nodes
 * that are up are known (up to {@link Coordination#AGENTS_SETTLE}), has each prepare (workers
 * start their shard readers and decoders), then places the ranks ({@link Placement}), opens
 * the checkpoint directory, saves the start cursor and tells the trainer hosts to run them.
 * Any failure answers the client with {@link Failed} and returns to {@link Idle}.
 */
final class Placing extends AbstractBehavior<Command> {

  private final Coordination co;
  private final Submit submit;
  private final long since = System.nanoTime();
  /** The agents asked to prepare (0 until they are known), and those that did. */
  private int asked;
  private final List<Prepared> ready = new ArrayList<>();

  Placing(Coordination co, Submit submit) {
    super(co.ctx);
    this.co = co;
    this.submit = submit;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Nodes.class, this::onNodes)
        .onMessage(LookAgain.class, l -> {
          co.askAgents();
          return this;
        })
        .onMessage(NotReady.class, this::onNotReady)
        .onMessage(Ready.class, this::onReady)
        .onMessage(Submit.class, this::onSubmit)
        .onMessage(Adopt.class, other -> busy(other.client()))
        .onMessage(HandOver.class, h -> Behaviors.stopped()) // not placed yet: the client submits again
        .build();
  }

  /** The same job again (its client asks again when placing takes long): it is on its way; another is refused. */
  private Behavior<Command> onSubmit(Submit other) {
    return other.job().id().equals(submit.job().id()) ? this : busy(other.client());
  }

  private Behavior<Command> busy(ActorRef<ClientEvent> client) {
    co.busy(client, submit.job());
    return this;
  }

  private Behavior<Command> onNodes(Nodes n) {
    if (asked > 0) {
      return this; // a listing asked for before the agents were known
    }
    Set<ActorRef<NodeAgent.Command>> agents = n.listing().getServiceInstances(NodeAgent.KEY);
    if (!co.allAgentsListed(agents.size(), since)) {
      return this;
    }
    if (agents.isEmpty()) {
      submit.client().tell(new Failed("no node agents in the cluster", true));
      return new Idle(co);
    }
    for (ActorRef<NodeAgent.Command> a : agents) {
      co.ctx.ask(Prepared.class, a, co.timeout, reply -> new NodeAgent.Prepare(submit.job(), reply),
          (p, failure) -> p == null ? new NotReady("a node did not prepare: " + failure.getMessage(), true)
              : p.refused().isEmpty() ? new Ready(p) : new NotReady(p.refused(), false));
    }
    asked = agents.size();
    return this;
  }

  private Behavior<Command> onNotReady(NotReady n) {
    submit.client().tell(new Failed(n.reason(), n.passing()));
    return new Idle(co);
  }

  private Behavior<Command> onReady(Ready r) {
    ready.add(r.prepared());
    return ready.size() < asked ? this : place();
  }

  private Behavior<Command> place() {
    JobSpec job = submit.job();
    if (job.decode().isEmpty() && !"none".equals(job.recipe().decode())) {
      submit.client().tell(new Failed("the recipe decodes (" + job.recipe().decode()
          + ") but the job has no decode settings", false));
      return new Idle(co);
    }
    Optional<String> unplaceable = Placement.unplaceable(ready);
    if (unplaceable.isPresent()) {
      submit.client().tell(new JobCoordinator.Unplaceable(unplaceable.get()));
      return new Idle(co);
    }
    Placement placement = Placement.of(ready, job.ranks());
    if (placement.problem().isPresent()) {
      submit.client().tell(new Failed(placement.problem().get(), true));
      return new Idle(co);
    }
    if (job.recipe().fullBatches() && job.ranks().size() < job.world()) {
      // the ranks agree how many batches each epoch has among the trainer hosts that run them (BatchGate)
      submit.client().tell(new Failed("full batches need every rank of the job in one job: this process serves "
          + job.ranks().size() + " of " + job.world() + " ranks", false));
      return new Idle(co);
    }
    Optional<ShardStore> files = Optional.empty();
    try {
      files = co.openCheckpoints(job);
      Optional<CursorStore> store = co.cursorStore(job, files);
      List<String> notes = new java.util.ArrayList<>();
      Cursor start = co.start(job, store, line -> {
        co.ctx.getLog().info("job {}: {}", job.id(), line);
        notes.add(line);
      });
      ActorRef<CheckpointActor.Command> checkpoint =
          co.ctx.spawnAnonymous(CheckpointActor.starting(store, start, job.checkpointEvery(), job.rank() >= 0));
      if (store.isPresent()) {
        // the directory's latest cursor is this run's from now on: one a successor may take it over from
        // (not an earlier run's of the same recipe, which may be further on)
        checkpoint.tell(new CheckpointActor.SaveNow(co.ctx.getSystem().ignoreRef()));
      }
      List<Prepared> hosts = placement.hosts();
      List<ActorRef<NodeAgent.Command>> withRanks = new ArrayList<>();
      for (int i = 0; i < hosts.size(); i++) {
        if (!placement.ranksOf().get(i).isEmpty()) {
          withRanks.add(hosts.get(i).agent());
        }
      }
      for (int i = 0; i < hosts.size(); i++) {
        hosts.get(i).agent().tell(new NodeAgent.RunRanks(job, start.encode(), placement.ranksOf().get(i),
            placement.readers(), submit.client().narrow(), co.ctx.getSelf(), List.copyOf(withRanks)));
      }
      submit.client().tell(new Placed(hosts.stream().map(Prepared::node).toList(), placement.workers().size(),
          placement.shares(), co.ctx.getSelf(), start.encode(), List.copyOf(notes)));
      RunningJob running = new RunningJob(co, job, submit.client(), files, checkpoint, false);
      hosts.forEach(h -> running.watchHost(h.agent(), h.node()));
      running.prepared(ready.stream().map(Prepared::agent).toList());
      return running;
    } catch (RuntimeException e) {
      files.ifPresent(ShardStore::close);
      submit.client().tell(new Failed(e.getMessage(), false));
      return new Idle(co);
    }
  }
}
