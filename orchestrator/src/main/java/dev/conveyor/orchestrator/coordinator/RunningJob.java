package dev.conveyor.orchestrator.coordinator;

import dev.conveyor.orchestrator.checkpoint.CheckpointActor;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Adopt;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Adopted;
import dev.conveyor.orchestrator.coordinator.Internal.Attached;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Cancel;
import dev.conveyor.orchestrator.coordinator.Internal.ClientGone;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Command;
import dev.conveyor.orchestrator.coordinator.Internal.Current;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Failed;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Finish;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Finished;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.HandOver;
import dev.conveyor.orchestrator.coordinator.Internal.HostLost;
import dev.conveyor.orchestrator.coordinator.Internal.Joined;
import dev.conveyor.orchestrator.coordinator.Internal.LookAgain;
import dev.conveyor.orchestrator.coordinator.Internal.Nodes;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.RankDelivered;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.RankFinished;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.RankLost;
import dev.conveyor.orchestrator.coordinator.Internal.Saved;
import dev.conveyor.orchestrator.coordinator.JobCoordinator.Submit;
import dev.conveyor.orchestrator.coordinator.Internal.Tick;
import dev.conveyor.orchestrator.delivery.ClientEvent;
import dev.conveyor.orchestrator.node.ClusterNode;
import dev.conveyor.orchestrator.node.NodeAgent.Prepared;
import dev.conveyor.orchestrator.node.NodeAgent;
import dev.conveyor.orchestrator.node.NodeState;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.workers.reader.ShardReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * A running job: its client, its checkpoint store and actor; the ranks that have delivered
 * their last batch; after a take-over, how many nodes have still to say where its ranks are
 * (-1 until they are known); whether it is ending (the final save is under way), and why, if
 * it was stopped. The final cursor is saved once every rank is done and every node has
 * answered: a rank's last deliveries reach this coordinator before its end does (they come
 * from the same node), but the client may ask to finish sooner.
 */
final class RunningJob extends AbstractBehavior<Command> {
  private static final Object TICK = "status";

  private final Coordination co;
  private final JobSpec job;
  private final ActorRef<ClientEvent> client;
  private final Optional<ShardStore> files;
  private final ActorRef<CheckpointActor.Command> checkpoint;
  private final Set<Integer> ranksDone = new HashSet<>();
  /** The trainer hosts running the job's ranks, watched while it runs. */
  private final Set<ActorRef<NodeAgent.Command>> hosts = new HashSet<>();
  /** The node agents asked to prepare for the job (at placement, or since); a failed ask is retried. */
  private final Set<ActorRef<NodeAgent.Command>> prepared = new HashSet<>();
  /** Readers of nodes that joined while the job runs, once per share: every host is told of them. */
  private final List<ActorRef<ShardReader.Command>> joinedReaders = new ArrayList<>();
  private final long since = System.nanoTime();
  private int attaching;
  private boolean ending;
  /** Why the job was stopped; null while it runs or ends well, or when its client is gone. */
  private String failure;

  RunningJob(Coordination co, JobSpec job, ActorRef<ClientEvent> client, Optional<ShardStore> files,
             ActorRef<CheckpointActor.Command> checkpoint, boolean adopted) {
    super(co.ctx);
    this.co = co;
    this.job = job;
    this.client = client;
    this.files = files;
    this.checkpoint = checkpoint;
    this.attaching = adopted ? -1 : 0;
    co.ctx.watchWith(client, new ClientGone());
    co.timers.startTimerWithFixedDelay(TICK, new Tick(), Duration.ZERO, Coordination.STATUS_EVERY);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Tick.class, this::onTick)
        .onMessage(Current.class, this::onCurrent)
        .onMessage(RankDelivered.class, this::onRankDelivered)
        .onMessage(RankFinished.class, this::onRankFinished)
        .onMessage(Nodes.class, this::onNodes)
        .onMessage(LookAgain.class, l -> {
          co.askAgents();
          return this;
        })
        .onMessage(Attached.class, this::onAttached)
        .onMessage(Joined.class, this::onJoined)
        .onMessage(HostLost.class, this::onHostLost)
        .onMessage(Cancel.class, this::onCancel)
        .onMessage(RankLost.class, this::onRankLost)
        .onMessage(Finish.class, this::onFinish)
        .onMessage(Saved.class, this::onSaved)
        .onMessage(ClientGone.class, this::onClientGone)
        .onMessage(HandOver.class, this::onHandOver)
        .onMessage(Submit.class, this::onSubmit)
        .onMessage(Adopt.class, this::onAdopt)
        .build();
  }

  /** Watches the agent of {@code node}, which runs some of the job's ranks: if it goes, so does the job. */
  void watchHost(ActorRef<NodeAgent.Command> agent, String node) {
    if (hosts.add(agent)) {
      co.ctx.watchWith(agent, new HostLost(node));
      if (!joinedReaders.isEmpty()) {
        agent.tell(new NodeAgent.AddReaders(job.id(), List.copyOf(joinedReaders)));
      }
    }
  }

  /** Notes the agents placement prepared: only nodes that join later are asked. */
  void prepared(List<ActorRef<NodeAgent.Command>> agents) {
    prepared.addAll(agents);
  }

  private boolean mine(String jobId) {
    return job.id().equals(jobId);
  }

  private Behavior<Command> onTick(Tick t) {
    co.askAgents(); // a node that joined since has its reader for the job started (onNodes)
    co.ctx.ask(CheckpointActor.Saved.class, checkpoint, co.timeout, CheckpointActor.Current::new,
        (saved, failure) -> new Current(job.id(), saved));
    return this;
  }

  private Behavior<Command> onCurrent(Current c) {
    if (mine(c.jobId()) && c.saved() != null) {
      NodeState.get(co.ctx.getSystem()).coordinating(job.id(), c.saved().cursor(), c.saved().persisted());
    }
    return this;
  }

  private Behavior<Command> onRankDelivered(RankDelivered d) {
    if (mine(d.jobId())) {
      checkpoint.tell(d.delivered());
    }
    return this;
  }

  private Behavior<Command> onRankFinished(RankFinished f) {
    if (mine(f.jobId())) {
      ranksDone.add(f.rank());
      maybeFinish();
    }
    return this;
  }

  /**
   * After a take-over: every node that is up says where its ranks of this job are. Until every
   * such node's agent is listed (up to {@link Coordination#AGENTS_SETTLE}), the coordinator
   * looks again: a node's ranks not heard from would go on reporting to the lost coordinator.
   */
  private Behavior<Command> onNodes(Nodes n) {
    // the listing may still hold the agent of a node just gone
    List<ActorRef<NodeAgent.Command>> agents = n.listing().getServiceInstances(NodeAgent.KEY).stream()
        .filter(agent -> ClusterNode.isUp(co.ctx.getSystem(), agent)).toList();
    if (attaching < 0 && co.allAgentsListed(agents.size(), since)) {
      attaching = agents.size();
      for (ActorRef<NodeAgent.Command> agent : agents) {
        co.ctx.ask(NodeAgent.Attached.class, agent, Coordination.REATTACH,
            reply -> new NodeAgent.Reattach(job.id(), co.ctx.getSelf(), reply),
            (at, failure) -> at != null ? new Attached(at)
                : new Attached(new NodeAgent.Attached("?", agent, false, List.of(), List.of())));
      }
      maybeFinish();
    }
    prepareJoined(agents);
    return this;
  }

  /**
   * Nodes that joined the cluster since the job was placed (a worker restarted by a rolling
   * upgrade, a node added) prepare for it: a worker starts its shard reader, and the job's ranks
   * lease to it from then on. After a take-over every node is asked again; a node asked before
   * answers with the reader it has.
   */
  private void prepareJoined(List<ActorRef<NodeAgent.Command>> agents) {
    if (ending) {
      return;
    }
    for (ActorRef<NodeAgent.Command> agent : agents) {
      if (prepared.add(agent)) {
        co.ctx.ask(Prepared.class, agent, co.timeout, reply -> new NodeAgent.Prepare(job, reply),
            (p, failure) -> new Joined(agent, Optional.ofNullable(p)));
      }
    }
  }

  private Behavior<Command> onJoined(Joined j) {
    if (j.prepared().isEmpty()) {
      prepared.remove(j.agent()); // no answer: asked again at the next listing
      return this;
    }
    Prepared p = j.prepared().get();
    if (!p.refused().isEmpty()) {
      co.ctx.getLog().warn("job {}: node {} joined but cannot read for it: {}", job.id(), p.node(), p.refused());
      return this;
    }
    if (ending || p.reader().isEmpty() || joinedReaders.contains(p.reader().get())) {
      return this; // a trainer host, or a reader the hosts have
    }
    List<ActorRef<ShardReader.Command>> shares = java.util.Collections.nCopies(Math.max(1, p.shares()), p.reader().get());
    joinedReaders.addAll(shares);
    hosts.forEach(h -> h.tell(new NodeAgent.AddReaders(job.id(), shares)));
    co.ctx.getLog().info("job {}: node {} joined; its reader takes slices from now on", job.id(), p.node());
    return this;
  }

  private Behavior<Command> onAttached(Attached at) {
    at.attached().positions().forEach(checkpoint::tell);
    ranksDone.addAll(at.attached().done());
    if (at.attached().runsRanks()) {
      watchHost(at.attached().agent(), at.attached().node());
    }
    attaching--;
    maybeFinish();
    return this;
  }

  private Behavior<Command> onHostLost(HostLost h) {
    if (!ending) {
      co.ctx.getLog().warn("job {}: trainer host {} is gone; stopping the job, saving its cursor", job.id(), h.node());
    }
    stop("trainer host " + h.node() + " left the cluster, and its ranks with it");
    return this;
  }

  private Behavior<Command> onCancel(Cancel c) {
    if (mine(c.jobId())) {
      stop(c.reason());
    }
    return this;
  }

  private Behavior<Command> onRankLost(RankLost l) {
    if (mine(l.jobId())) {
      if (!ending) {
        co.ctx.getLog().warn("job {}: rank {} failed ({}); stopping the job, saving its cursor", job.id(), l.rank(),
            l.reason());
      }
      stop("rank " + l.rank() + " failed: " + l.reason());
    }
    return this;
  }

  /** The client has every rank's end: so will this coordinator, soon. */
  private Behavior<Command> onFinish(Finish f) {
    if (mine(f.jobId())) {
      maybeFinish();
    }
    return this;
  }

  /** The final save is done: the client hears how the job ended, and the coordinator is idle again. */
  private Behavior<Command> onSaved(Saved sv) {
    if (failure != null) {
      client.tell(new Failed(failure + "; the job was stopped" + (sv.saved().persisted()
          ? ", its cursor saved (" + sv.saved().cursor() + "): go on with --resume latest" : ""), false));
    } else if (sv.saved().cursor().isEmpty()) {
      client.tell(new Failed("the final cursor could not be saved", false));
    } else {
      client.tell(new Finished(sv.saved().cursor(), sv.saved().persisted()));
    }
    co.timers.cancel(TICK);
    co.ctx.unwatch(client);
    hosts.forEach(co.ctx::unwatch); // a host that goes later is no concern of the next job
    NodeState.get(co.ctx.getSystem()).notCoordinating();
    co.askAgentsToStop(job.id()); // their ranks are done or no longer wanted
    co.ctx.stop(checkpoint); // after the messages sent to it, the save among them
    files.ifPresent(ShardStore::close);
    return new Idle(co);
  }

  private Behavior<Command> onClientGone(ClientGone g) {
    co.ctx.getLog().warn("job {}: its client is gone; the ranks are stopped and the cursor saved", job.id());
    stop(null);
    return this;
  }

  /** This node is leaving: save the cursor before the successor can start and read it, then stop. */
  private Behavior<Command> onHandOver(HandOver h) {
    co.ctx.getLog().info("job {}: this node is leaving; saving the cursor for the next coordinator", job.id());
    // synchronous on purpose: the singleton's successor starts when this actor has stopped
    CheckpointActor.Saved saved = AskPattern.<CheckpointActor.Command, CheckpointActor.Saved>ask(checkpoint,
            CheckpointActor.SaveNow::new, co.timeout, co.ctx.getSystem().scheduler())
        .toCompletableFuture().exceptionally(x -> null).join();
    co.ctx.getLog().info("job {}: cursor {}", job.id(), saved == null ? "not saved" : saved.cursor());
    files.ifPresent(ShardStore::close);
    return Behaviors.stopped();
  }

  /** The running job submitted again (an answer its client waited for was late): it runs; another is refused. */
  private Behavior<Command> onSubmit(Submit other) {
    if (!mine(other.job().id())) {
      co.busy(other.client(), job);
    }
    return this;
  }

  private Behavior<Command> onAdopt(Adopt other) {
    if (mine(other.job().id())) { // asked again: the answer was lost or late
      other.client().tell(new Adopted(co.ctx.getSystem().address().toString(), co.ctx.getSelf(), "", false));
    } else {
      co.busy(other.client(), job);
    }
    return this;
  }

  /** Saves the final cursor if every rank is done and every node has answered. */
  private void maybeFinish() {
    if (!ending && attaching == 0 && ranksDone.size() == job.ranks().size()) {
      ending = true;
      saveFinally();
    }
  }

  /** Stops the job now, saving its cursor: {@code why} says why (null: its client is gone). */
  private void stop(String why) {
    if (!ending) {
      ending = true;
      failure = why;
      saveFinally();
    }
  }

  /** Asks the checkpoint actor to save; its answer ({@link Saved}) ends the job. */
  private void saveFinally() {
    co.ctx.ask(CheckpointActor.Saved.class, checkpoint, co.timeout, CheckpointActor.SaveNow::new,
        (saved, failure) -> new Saved(saved != null ? saved : new CheckpointActor.Saved("", false)));
  }
}
