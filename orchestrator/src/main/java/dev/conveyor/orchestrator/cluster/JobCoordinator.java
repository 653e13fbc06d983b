package dev.conveyor.orchestrator.cluster;

import dev.conveyor.orchestrator.cluster.NodeAgent.Prepared;
import dev.conveyor.orchestrator.cluster.NodeAgent.RankReport;
import dev.conveyor.workers.reader.ShardReader;
import dev.conveyor.workers.wire.WireMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * The cluster's job coordinator (one per cluster, run as a Cluster Singleton). For a submitted
 * job it finds the node agents, has every node prepare (workers start their shard readers),
 * places the ranks on the trainer hosts, round-robin, and passes their reports on to the
 * client: each batch, each skip, and when every rank is done, the end.
 */
public final class JobCoordinator {
  private JobCoordinator() {}

  /** What the coordinator is told. */
  public sealed interface Command permits Submit, Nodes, Ready, NotReady, Report {}

  /** Run {@code job}; its events go to {@code client}. */
  public record Submit(JobSpec job, ActorRef<JobEvent> client) implements Command, WireMessage {}

  /** What a client hears of its job. */
  public sealed interface JobEvent extends WireMessage permits Placed, Progress, Finished, Failed {}

  /** Where the job runs: the ranks' trainer hosts and the workers' readers. */
  public record Placed(List<String> trainerHosts, int readers) implements JobEvent {}

  /** A rank's report, as the trainer host sent it. */
  public record Progress(RankReport report) implements JobEvent {}

  /** Every rank has delivered its batches; slices leased and leased again after failures. */
  public record Finished(long leases, long reassigned) implements JobEvent {}

  /** The job cannot run or go on. */
  public record Failed(String reason) implements JobEvent {}

  private record Nodes(Receptionist.Listing listing) implements Command {}

  private record Ready(Prepared prepared) implements Command {}

  private record NotReady(String reason) implements Command {}

  private record Report(RankReport report) implements Command {}

  /** A coordinator that waits up to {@code prepareTimeout} for nodes to prepare. */
  public static Behavior<Command> create(Duration prepareTimeout) {
    return Behaviors.setup(ctx -> idle(ctx, prepareTimeout));
  }

  private static Behavior<Command> idle(ActorContext<Command> ctx, Duration timeout) {
    return Behaviors.receive(Command.class)
        .onMessage(Submit.class, s -> {
          ActorRef<Receptionist.Listing> adapter = ctx.messageAdapter(Receptionist.Listing.class, Nodes::new);
          ctx.getSystem().receptionist().tell(Receptionist.find(NodeAgent.KEY, adapter));
          return finding(ctx, timeout, s);
        })
        .build();
  }

  /** How long a submission waits for the agents of all nodes that are up to be known. */
  private static final Duration AGENTS_SETTLE = Duration.ofSeconds(15);

  private static Behavior<Command> finding(ActorContext<Command> ctx, Duration timeout, Submit s) {
    long since = System.nanoTime();
    return Behaviors.receive(Command.class)
        .onMessage(Nodes.class, n -> {
          Set<ActorRef<NodeAgent.Command>> agents = n.listing().getServiceInstances(NodeAgent.KEY);
          long nodesUp = nodesUp(ctx);
          if (agents.size() < nodesUp && System.nanoTime() - since < AGENTS_SETTLE.toNanos()) {
            // registrations spread through the cluster a little after a node is up: look again
            ActorRef<Receptionist.Listing> adapter = ctx.messageAdapter(Receptionist.Listing.class, Nodes::new);
            ctx.scheduleOnce(Duration.ofMillis(200), ctx.getSystem().receptionist(),
                Receptionist.find(NodeAgent.KEY, adapter));
            return Behaviors.same();
          }
          if (agents.isEmpty()) {
            s.client().tell(new Failed("no node agents in the cluster"));
            return idle(ctx, timeout);
          }
          for (ActorRef<NodeAgent.Command> a : agents) {
            ctx.ask(Prepared.class, a, timeout, reply -> new NodeAgent.Prepare(s.job(), reply),
                (p, failure) -> p != null ? new Ready(p) : new NotReady("a node did not prepare: " + failure.getMessage()));
          }
          return preparing(ctx, timeout, s, agents, new ArrayList<>());
        })
        .build();
  }

  /** Members that are up with the node role (clients do not count). */
  private static long nodesUp(ActorContext<Command> ctx) {
    long n = 0;
    for (org.apache.pekko.cluster.Member m : org.apache.pekko.cluster.typed.Cluster.get(ctx.getSystem()).state().getMembers()) {
      if (m.status() == org.apache.pekko.cluster.MemberStatus.up() && m.hasRole(ClusterNode.NODE_ROLE)) {
        n++;
      }
    }
    return n;
  }

  private static Behavior<Command> preparing(ActorContext<Command> ctx, Duration timeout, Submit s,
                                             Set<ActorRef<NodeAgent.Command>> agents, List<Prepared> ready) {
    return Behaviors.receive(Command.class)
        .onMessage(NotReady.class, n -> {
          s.client().tell(new Failed(n.reason()));
          return idle(ctx, timeout);
        })
        .onMessage(Ready.class, r -> {
          ready.add(r.prepared());
          if (ready.size() < agents.size()) {
            return Behaviors.same();
          }
          return place(ctx, timeout, s, ready);
        })
        .build();
  }

  private static Behavior<Command> place(ActorContext<Command> ctx, Duration timeout, Submit s, List<Prepared> ready) {
    List<ActorRef<ShardReader.Command>> readers = new ArrayList<>();
    ready.forEach(p -> p.reader().ifPresent(readers::add));
    List<Prepared> hosts = ready.stream().filter(Prepared::trainerHost).sorted(java.util.Comparator.comparing(Prepared::node)).toList();
    if (readers.isEmpty() || hosts.isEmpty()) {
      s.client().tell(new Failed("the cluster has " + readers.size() + " worker(s) and " + hosts.size()
          + " trainer host(s); a job needs at least one of each"));
      return idle(ctx, timeout);
    }
    readers.sort(java.util.Comparator.comparing(Object::toString)); // the same order on every run
    ActorRef<RankReport> reports = ctx.messageAdapter(RankReport.class, Report::new);
    List<List<Integer>> ranksOf = new ArrayList<>();
    hosts.forEach(h -> ranksOf.add(new ArrayList<>()));
    for (int r = 0; r < s.job().world(); r++) {
      ranksOf.get(r % hosts.size()).add(r);
    }
    for (int i = 0; i < hosts.size(); i++) {
      hosts.get(i).agent().tell(new NodeAgent.RunRanks(s.job(), ranksOf.get(i), readers, reports));
    }
    s.client().tell(new Placed(hosts.stream().map(Prepared::node).toList(), readers.size()));
    return running(ctx, timeout, s, s.job().world(), 0, 0);
  }

  private static Behavior<Command> running(ActorContext<Command> ctx, Duration timeout, Submit s, int ranksLeft,
                                           long leases, long reassigned) {
    return Behaviors.receive(Command.class)
        .onMessage(Report.class, r -> {
          s.client().tell(new Progress(r.report()));
          if (r.report() instanceof NodeAgent.RankDone d) {
            if (ranksLeft == 1) {
              s.client().tell(new Finished(leases + d.leases(), reassigned + d.reassigned()));
              return idle(ctx, timeout);
            }
            return running(ctx, timeout, s, ranksLeft - 1, leases + d.leases(), reassigned + d.reassigned());
          }
          if (r.report() instanceof NodeAgent.RankFailed f) {
            s.client().tell(new Failed("rank " + f.rank() + ": " + f.reason()));
            return idle(ctx, timeout);
          }
          return Behaviors.same();
        })
        .build();
  }
}
