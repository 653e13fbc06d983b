package dev.conveyor.orchestrator.coordinator;

import dev.conveyor.orchestrator.checkpoint.CheckpointActor;
import dev.conveyor.orchestrator.checkpoint.CursorStore;
import dev.conveyor.orchestrator.checkpoint.ResumePoint;
import dev.conveyor.orchestrator.node.ClusterNode;
import dev.conveyor.orchestrator.node.NodeAgent.Prepared;
import dev.conveyor.orchestrator.node.NodeAgent;
import dev.conveyor.orchestrator.node.NodeState;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.workers.wire.WireMessage;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.stream.Materializer;

/**
 * The cluster's job coordinator (one per cluster, a Cluster Singleton on the oldest worker
 * node). For a submitted job it finds the node agents, has every node prepare (workers start
 * their shard readers), places the ranks on the trainer hosts, round-robin, and keeps the
 * job's cursor: the ranks report every delivered batch to its {@link CheckpointActor}, which
 * saves it to the job's checkpoint directory. The ranks report their batches to the client
 * directly, so that nothing the client sees passes through here.
 *
 * <p>When the node it runs on is lost, the singleton starts again on the next oldest worker
 * with no memory of the job; the client, watching it, asks the new one to {@link Adopt} the
 * job: it goes on from the newest valid cursor in the checkpoint directory, has every node
 * report to it from then on, and takes from each where its ranks are. The ranks never stop.
 */
public final class JobCoordinator {
  private JobCoordinator() {}

  /** What the coordinator is told. */
  public sealed interface Command permits Submit, Adopt, Finish, Cancel, RankDelivered, RankFinished, RankLost, HandOver,
      Nodes,
      Ready, NotReady,
      Attached, Saved, ClientGone, HostLost, Tick, Current {}

  /** Run {@code job}; its events go to {@code client}, its ranks' reports too. */
  public record Submit(JobSpec job, ActorRef<Object> client) implements Command, WireMessage {}

  /** Take over {@code job}, which is running: its coordinator was lost. */
  public record Adopt(JobSpec job, ActorRef<Object> client) implements Command, WireMessage {}

  /**
   * The client has every rank's end of job {@code jobId}: the coordinator answers {@link Finished}
   * once it has them too (it would anyway; the client asks again after a take-over).
   */
  public record Finish(String jobId) implements Command, WireMessage {}

  /**
   * The client stops job {@code jobId} for {@code reason} (its data is over the bad-sample
   * bound): the coordinator stops the ranks, saves the cursor and answers {@link Failed}.
   */
  public record Cancel(String jobId, String reason) implements Command, WireMessage {}

  /** A rank of job {@code jobId} delivered its last batch (after its deliveries, from the same node). */
  public record RankFinished(String jobId, int rank) implements Command, WireMessage {}

  /** A rank of job {@code jobId} failed and its node cannot go on with it: the job stops. */
  public record RankLost(String jobId, int rank, String reason) implements Command, WireMessage {}

  /** A rank of job {@code jobId} delivered a batch. */
  public record RankDelivered(String jobId, CheckpointActor.Delivered delivered) implements Command, WireMessage {}

  /**
   * The coordinator's node is leaving (the singleton's stop message): save the running job's
   * cursor, then stop; the successor takes the job over from it.
   */
  public record HandOver() implements Command, WireMessage {}

  /** What a client hears of its job from the coordinator. */
  public sealed interface JobEvent extends WireMessage permits Placed, Adopted, Finished, Failed {}

  /**
   * Where the job runs — the ranks' trainer hosts, the workers' readers and each worker's share
   * of the slices ({@code node=shares}) — who coordinates it, and from which cursor.
   */
  public record Placed(List<String> trainerHosts, int readers, List<String> shares, ActorRef<Command> coordinator,
                       String start) implements JobEvent {}

  /** A new coordinator, on {@code node}, took the job over, going on from cursor {@code recovered}. */
  public record Adopted(String node, ActorRef<Command> coordinator, String recovered, boolean fromCheckpoint)
      implements JobEvent {}

  /** The job's final cursor, and whether it is saved in the checkpoint directory. */
  public record Finished(String cursor, boolean persisted) implements JobEvent {}

  /** The job cannot run or go on; {@code passing}: it may when submitted again (nodes still joining, another job running). */
  public record Failed(String reason, boolean passing) implements JobEvent {}

  /** The coordinator's messages to itself: they never leave the node, so they have no wire format. */
  private interface Local extends org.apache.pekko.actor.NoSerializationVerificationNeeded {}

  private record Nodes(Receptionist.Listing listing) implements Command, Local {}

  private record Ready(Prepared prepared) implements Command, Local {}

  private record NotReady(String reason, boolean passing) implements Command, Local {}

  private record Attached(NodeAgent.Attached attached) implements Command, Local {}

  private record Saved(CheckpointActor.Saved saved) implements Command, Local {}

  private record ClientGone() implements Command, Local {}

  /** A trainer host running the job's ranks is gone (left, or downed). */
  private record HostLost(String node) implements Command, Local {}

  /** Time to publish the running job's cursor in the node's status. */
  private record Tick(String jobId) implements Command, Local {}

  private record Current(String jobId, CheckpointActor.Saved saved) implements Command, Local {}

  /** How long a coordinator that took a job over waits for a node to say where its ranks are. */
  private static final Duration REATTACH = Duration.ofSeconds(5);

  /** How often the node's {@code /status} learns the running job's cursor. */
  private static final Duration STATUS_EVERY = Duration.ofSeconds(1);

  /**
   * A coordinator that waits up to {@code prepareTimeout} for nodes to prepare and opens a
   * job's checkpoint directory with {@code stores}.
   */
  public static Behavior<Command> create(Duration prepareTimeout, Function<URI, ShardStore> stores) {
    return Behaviors.setup(ctx -> new JobCoordinator.Context(ctx, prepareTimeout, stores,
        Materializer.createMaterializer(ctx)).idle());
  }

  /** How long a submission waits for the agents of all nodes that are up to be known. */
  private static final Duration AGENTS_SETTLE = Duration.ofSeconds(15);

  /** The coordinator's fixed parts, and its behaviors. */
  private record Context(ActorContext<Command> ctx, Duration timeout, Function<URI, ShardStore> stores,
                         Materializer mat) {

    Behavior<Command> idle() {
      return Behaviors.receive(Command.class)
          .onMessage(Submit.class, s -> {
            askAgents();
            return finding(s, System.nanoTime());
          })
          .onMessage(Adopt.class, this::adopt)
          .onMessage(HandOver.class, h -> Behaviors.stopped())
          .onMessage(RankDelivered.class, d -> Behaviors.same()) // a job this coordinator does not run (yet)
          .onMessage(Tick.class, t -> Behaviors.same()) // of a job that ended
          .onMessage(HostLost.class, h -> Behaviors.same())
          .onMessage(Current.class, c -> Behaviors.same())
          .onMessage(Finish.class, f -> Behaviors.same())
          .onMessage(RankFinished.class, f -> Behaviors.same())
          .onMessage(Cancel.class, c -> Behaviors.same())
          .build();
    }

    void askAgents() {
      ActorRef<Receptionist.Listing> adapter = ctx.messageAdapter(Receptionist.Listing.class, Nodes::new);
      ctx.getSystem().receptionist().tell(Receptionist.find(NodeAgent.KEY, adapter));
    }

    Behavior<Command> finding(Submit s, long since) {
      return Behaviors.receive(Command.class)
          .onMessage(Nodes.class, n -> {
            Set<ActorRef<NodeAgent.Command>> agents = n.listing().getServiceInstances(NodeAgent.KEY);
            if (agents.size() < nodesUp() && System.nanoTime() - since < AGENTS_SETTLE.toNanos()) {
              // registrations spread through the cluster a little after a node is up: look again
              ActorRef<Receptionist.Listing> adapter = ctx.messageAdapter(Receptionist.Listing.class, Nodes::new);
              ctx.scheduleOnce(Duration.ofMillis(200), ctx.getSystem().receptionist(),
                  Receptionist.find(NodeAgent.KEY, adapter));
              return Behaviors.same();
            }
            if (agents.isEmpty()) {
              s.client().tell(new Failed("no node agents in the cluster", true));
              return idle();
            }
            for (ActorRef<NodeAgent.Command> a : agents) {
              ctx.ask(Prepared.class, a, timeout, reply -> new NodeAgent.Prepare(s.job(), reply),
                  (p, failure) -> p == null ? new NotReady("a node did not prepare: " + failure.getMessage(), true)
                      : p.refused().isEmpty() ? new Ready(p) : new NotReady(p.refused(), false));
            }
            return preparing(s, agents.size(), new ArrayList<>());
          })
          .onMessage(Submit.class, other -> busy(other.client(), s.job()))
          .onMessage(Adopt.class, other -> busy(other.client(), s.job()))
          .onMessage(HandOver.class, h -> Behaviors.stopped()) // not placed yet: the client submits again
          .build();
    }

    /** Members that are up with the node role (clients do not count). */
    long nodesUp() {
      long n = 0;
      for (org.apache.pekko.cluster.Member m : org.apache.pekko.cluster.typed.Cluster.get(ctx.getSystem()).state().getMembers()) {
        if (m.status() == org.apache.pekko.cluster.MemberStatus.up() && m.hasRole(ClusterNode.NODE_ROLE)) {
          n++;
        }
      }
      return n;
    }

    Behavior<Command> busy(ActorRef<Object> client, JobSpec running) {
      client.tell(new Failed("the cluster is running job " + running.id() + "; submit again when it is done", true));
      return Behaviors.same();
    }

    Behavior<Command> preparing(Submit s, int agents, List<Prepared> ready) {
      return Behaviors.receive(Command.class)
          .onMessage(NotReady.class, n -> {
            s.client().tell(new Failed(n.reason(), n.passing()));
            return idle();
          })
          .onMessage(Ready.class, r -> {
            ready.add(r.prepared());
            if (ready.size() < agents) {
              return Behaviors.same();
            }
            return place(s, ready);
          })
          .onMessage(Submit.class, other -> busy(other.client(), s.job()))
          .onMessage(Adopt.class, other -> busy(other.client(), s.job()))
          .onMessage(HandOver.class, h -> Behaviors.stopped()) // not placed yet: the client submits again
          .build();
    }

    Behavior<Command> place(Submit s, List<Prepared> ready) {
      JobSpec job = s.job();
      if (job.decode().isEmpty() && !"none".equals(job.recipe().decode())) {
        s.client().tell(new Failed("the recipe decodes (" + job.recipe().decode() + ") but the job has no decode settings",
            false));
        return idle();
      }
      Placement placement = Placement.of(ready, job.ranks());
      if (placement.problem().isPresent()) {
        s.client().tell(new Failed(placement.problem().get(), true));
        return idle();
      }
      Optional<ShardStore> files = Optional.empty();
      Cursor start;
      try {
        files = openCheckpoints(job);
        Optional<CursorStore> store = cursorStore(job, files);
        start = job.resume().isEmpty() ? Cursor.start(job.recipe().fingerprint(), job.world())
            : ResumePoint.of(job.resume(), store, job.recipe().fingerprint(), job.epochs(), job.world(), mat,
                line -> ctx.getLog().info("job {}: {}", job.id(), line));
        Running run = new Running(job, s.client(), files,
            ctx.spawnAnonymous(CheckpointActor.starting(store, start, job.checkpointEvery(), job.rank() >= 0)), false);
        if (store.isPresent()) {
          // the directory's latest cursor is this run's from now on: one a successor may take it over from
          // (not an earlier run's of the same recipe, which may be further on)
          run.checkpoint().tell(new CheckpointActor.SaveNow(ctx.getSystem().ignoreRef()));
        }
        List<Prepared> hosts = placement.hosts();
        for (int i = 0; i < hosts.size(); i++) {
          hosts.get(i).agent().tell(new NodeAgent.RunRanks(job, start.encode(), placement.ranksOf().get(i),
              placement.readers(), s.client().narrow(), ctx.getSelf()));
          ctx.watchWith(hosts.get(i).agent(), new HostLost(hosts.get(i).node()));
        }
        s.client().tell(new Placed(hosts.stream().map(Prepared::node).toList(), placement.workers().size(),
            placement.shares(), ctx.getSelf(), start.encode()));
        return running(run);
      } catch (RuntimeException e) {
        files.ifPresent(ShardStore::close);
        s.client().tell(new Failed(e.getMessage(), false));
        return idle();
      }
    }

    Optional<ShardStore> openCheckpoints(JobSpec job) {
      return job.checkpointDir().isEmpty() ? Optional.empty()
          : Optional.of(stores.apply(CursorStore.parse(job.checkpointDir())));
    }

    Optional<CursorStore> cursorStore(JobSpec job, Optional<ShardStore> files) {
      return files.map(f -> new CursorStore(CursorStore.parse(job.checkpointDir()), f, job.checkpointKeep()));
    }

    /** A job taken over from a lost coordinator: its cursor from the checkpoint directory and the nodes' reports. */
    Behavior<Command> adopt(Adopt a) {
      JobSpec job = a.job();
      Optional<ShardStore> files = Optional.empty();
      try {
        files = openCheckpoints(job);
        Optional<CursorStore> store = cursorStore(job, files);
        Cursor first = job.resume().isEmpty() ? Cursor.start(job.recipe().fingerprint(), job.world())
            : ResumePoint.of(job.resume(), store, job.recipe().fingerprint(), job.epochs(), job.world(), mat,
                line -> { });
        Optional<Cursor> saved = CheckpointActor.recover(store, first, mat);
        Cursor from = saved.orElse(first);
        ActorRef<CheckpointActor.Command> checkpoint =
            ctx.spawnAnonymous(CheckpointActor.starting(store, from, job.checkpointEvery(), job.rank() >= 0));
        ctx.getLog().info("job {}: taken over from a lost coordinator, from cursor {}", job.id(), from.encode());
        askAgents(); // every agent: its ranks of this job report here from now on
        a.client().tell(new Adopted(ctx.getSystem().address().toString(), ctx.getSelf(), from.encode(), saved.isPresent()));
        return running(new Running(job, a.client(), files, checkpoint, true));
      } catch (RuntimeException e) {
        files.ifPresent(ShardStore::close);
        a.client().tell(new Failed("the job could not be taken over: " + e.getMessage(), false));
        return idle();
      }
    }

    /**
     * A running job: its client, its checkpoint store and actor; the ranks that have delivered
     * their last batch; after a take-over, how many nodes have still to say where its ranks are
     * (-1 until they are known); whether it is ending (the final save is under way), and why,
     * if a rank failed. The final cursor is saved once every rank is done and every node has
     * answered: a rank's last deliveries reach this coordinator before its end does (they come
     * from the same node), but the client may ask to finish sooner.
     */
    private record Running(JobSpec job, ActorRef<Object> client, Optional<ShardStore> files,
                           ActorRef<CheckpointActor.Command> checkpoint, Set<Integer> ranksDone, int[] attaching,
                           boolean[] ending, String[] failure) {
      Running(JobSpec job, ActorRef<Object> client, Optional<ShardStore> files,
              ActorRef<CheckpointActor.Command> checkpoint, boolean adopted) {
        this(job, client, files, checkpoint, new java.util.HashSet<>(), new int[] {adopted ? -1 : 0}, new boolean[1],
            new String[1]);
      }
    }

    /** Saves the final cursor if every rank is done and every node has answered. */
    void maybeFinish(Running run) {
      if (!run.ending()[0] && run.attaching()[0] == 0 && run.ranksDone().size() == run.job().ranks().size()) {
        run.ending()[0] = true;
        saveFinally(run);
      }
    }

    /** Stops the job now, saving its cursor: {@code failure} says why (null: its client is gone). */
    void stop(Running run, String failure) {
      if (!run.ending()[0]) {
        run.ending()[0] = true;
        run.failure()[0] = failure;
        saveFinally(run);
      }
    }

    Behavior<Command> running(Running run) {
      ctx.watchWith(run.client(), new ClientGone());
      String id = run.job().id();
      ctx.getSelf().tell(new Tick(id));
      return Behaviors.receive(Command.class)
          .onMessage(Tick.class, t -> {
            if (t.jobId().equals(id)) {
              ctx.ask(CheckpointActor.Saved.class, run.checkpoint(), timeout, CheckpointActor.Current::new,
                  (saved, failure) -> new Current(id, saved));
              ctx.scheduleOnce(STATUS_EVERY, ctx.getSelf(), new Tick(id));
            }
            return Behaviors.same();
          })
          .onMessage(Current.class, c -> {
            if (c.jobId().equals(id) && c.saved() != null) {
              NodeState.get(ctx.getSystem()).coordinating(id, c.saved().cursor(), c.saved().persisted());
            }
            return Behaviors.same();
          })
          .onMessage(RankDelivered.class, d -> {
            if (d.jobId().equals(id)) {
              run.checkpoint().tell(d.delivered());
            }
            return Behaviors.same();
          })
          .onMessage(RankFinished.class, f -> {
            if (f.jobId().equals(id)) {
              run.ranksDone().add(f.rank());
              maybeFinish(run);
            }
            return Behaviors.same();
          })
          .onMessage(Nodes.class, n -> { // after a take-over
            // the agents of nodes that are up: the listing may still hold those of a node just gone
            List<ActorRef<NodeAgent.Command>> agents = n.listing().getServiceInstances(NodeAgent.KEY).stream()
                .filter(agent -> ClusterNode.isUp(ctx.getSystem(), agent)).toList();
            run.attaching()[0] = agents.size();
            for (ActorRef<NodeAgent.Command> agent : agents) {
              ctx.ask(NodeAgent.Attached.class, agent, REATTACH, reply -> new NodeAgent.Reattach(id, ctx.getSelf(), reply),
                  (at, failure) -> at != null ? new Attached(at)
                      : new Attached(new NodeAgent.Attached("?", agent, false, List.of(), List.of())));
            }
            maybeFinish(run);
            return Behaviors.same();
          })
          .onMessage(Attached.class, at -> {
            at.attached().positions().forEach(run.checkpoint()::tell);
            run.ranksDone().addAll(at.attached().done());
            if (at.attached().runsRanks()) {
              ctx.watchWith(at.attached().agent(), new HostLost(at.attached().node()));
            }
            run.attaching()[0]--;
            maybeFinish(run);
            return Behaviors.same();
          })
          .onMessage(HostLost.class, h -> {
            if (!run.ending()[0]) {
              ctx.getLog().warn("job {}: trainer host {} is gone; stopping the job, saving its cursor", id, h.node());
            }
            stop(run, "trainer host " + h.node() + " left the cluster, and its ranks with it");
            return Behaviors.same();
          })
          .onMessage(Cancel.class, c -> {
            if (c.jobId().equals(id)) {
              stop(run, c.reason());
            }
            return Behaviors.same();
          })
          .onMessage(RankLost.class, l -> {
            if (l.jobId().equals(id)) {
              if (!run.ending()[0]) {
                ctx.getLog().warn("job {}: rank {} failed ({}); stopping the job, saving its cursor", id, l.rank(), l.reason());
              }
              stop(run, "rank " + l.rank() + " failed: " + l.reason());
            }
            return Behaviors.same();
          })
          .onMessage(Finish.class, f -> { // the client has every rank's end: so will this coordinator, soon
            if (f.jobId().equals(id)) {
              maybeFinish(run);
            }
            return Behaviors.same();
          })
          .onMessage(Saved.class, sv -> {
            if (run.failure()[0] != null) {
              run.client().tell(new Failed(run.failure()[0] + "; the job was stopped"
                  + (sv.saved().persisted() ? ", its cursor saved (" + sv.saved().cursor() + "): go on with --resume latest"
                      : ""), false));
            } else if (sv.saved().cursor().isEmpty()) {
              run.client().tell(new Failed("the final cursor could not be saved", false));
            } else {
              run.client().tell(new Finished(sv.saved().cursor(), sv.saved().persisted()));
            }
            return end(run);
          })
          .onMessage(ClientGone.class, g -> {
            ctx.getLog().warn("job {}: its client is gone; the ranks are stopped and the cursor saved", id);
            stop(run, null);
            return Behaviors.same();
          })
          .onMessage(HandOver.class, h -> {
            // synchronous, so that the cursor is saved before the successor can start and read it
            ctx.getLog().info("job {}: this node is leaving; saving the cursor for the next coordinator", id);
            CheckpointActor.Saved saved = org.apache.pekko.actor.typed.javadsl.AskPattern.<CheckpointActor.Command,
                    CheckpointActor.Saved>ask(run.checkpoint(), CheckpointActor.SaveNow::new, timeout,
                    ctx.getSystem().scheduler())
                .toCompletableFuture().exceptionally(x -> null).join();
            ctx.getLog().info("job {}: cursor {}", id, saved == null ? "not saved" : saved.cursor());
            run.files().ifPresent(ShardStore::close);
            return Behaviors.stopped();
          })
          .onMessage(Submit.class, other -> busy(other.client(), run.job()))
          .onMessage(Adopt.class, other -> {
            if (other.job().id().equals(id)) { // asked again: the answer was lost or late
              other.client().tell(new Adopted(ctx.getSystem().address().toString(), ctx.getSelf(), "", false));
              return Behaviors.same();
            }
            return busy(other.client(), run.job());
          })
          .build();
    }

    /** Asks the checkpoint actor to save; its answer ({@link Saved}) ends the job. */
    void saveFinally(Running run) {
      ctx.ask(CheckpointActor.Saved.class, run.checkpoint(), timeout, CheckpointActor.SaveNow::new,
          (saved, failure) -> new Saved(saved != null ? saved : new CheckpointActor.Saved("", false)));
    }

    void askAgentsToStop(String id) {
      ActorRef<Receptionist.Listing> adapter = ctx.spawnAnonymous(Behaviors.receive(Receptionist.Listing.class)
          .onAnyMessage(l -> {
            l.getServiceInstances(NodeAgent.KEY).forEach(a -> a.tell(new NodeAgent.StopJob(id)));
            return Behaviors.stopped();
          }).build());
      ctx.getSystem().receptionist().tell(Receptionist.find(NodeAgent.KEY, adapter));
    }

    Behavior<Command> end(Running run) {
      ctx.unwatch(run.client());
      NodeState.get(ctx.getSystem()).notCoordinating();
      askAgentsToStop(run.job().id()); // their ranks are done or no longer wanted
      ctx.stop(run.checkpoint()); // after the messages sent to it, the save among them
      run.files().ifPresent(ShardStore::close);
      return idle();
    }
  }
}
