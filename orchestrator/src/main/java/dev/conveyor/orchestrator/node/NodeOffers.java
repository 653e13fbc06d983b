package dev.conveyor.orchestrator.node;

import dev.conveyor.config.Resources;
import dev.conveyor.workers.wire.WireMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * What a node offers the cluster's jobs, for those who ask before a job runs
 * ({@code conveyor explain --cluster}): its address, roles, CPU slots for decoders and the
 * resources it offers actor pools. One per node, registered with the receptionist; it answers
 * from the node's settings and holds no state.
 */
public final class NodeOffers {
  private NodeOffers() {}

  public static final ServiceKey<Describe> KEY = ServiceKey.create(Describe.class, "conveyor-node-offers");

  /** Say what this node offers. */
  public record Describe(ActorRef<Described> replyTo) implements WireMessage {}

  /** A node's offer: its address, roles (sorted), CPU slots for decoders and what it offers actor pools. */
  public record Described(String node, List<String> roles, int cpus, Resources offer) implements WireMessage {
    public Described {
      roles = List.copyOf(roles);
    }
  }

  /** Starts {@code system}'s answerer, for a node with {@code roles} offering {@code local}. */
  public static void start(ActorSystem<?> system, Set<String> roles, NodeAgent.Local local) {
    String node = system.address().toString();
    Described me = new Described(node, roles.stream().sorted().toList(), local.cpus(), local.offer());
    Behavior<Describe> answer = Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      return Behaviors.receiveMessage(d -> {
        d.replyTo().tell(me);
        return Behaviors.same();
      });
    });
    system.systemActorOf(answer, "node-offers", Props.empty());
  }

  /**
   * Every node's offer in the cluster {@code system} is a member of, in address order: asked once
   * every up node of the cluster is listed (the receptionist's listing follows the members by
   * gossip), within {@code timeout}.
   */
  public static List<Described> all(ActorSystem<?> system, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    org.apache.pekko.cluster.typed.Cluster cluster = org.apache.pekko.cluster.typed.Cluster.get(system);
    while (true) {
      Receptionist.Listing listing = AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
          reply -> Receptionist.find(KEY, reply), timeout, system.scheduler()).toCompletableFuture().get();
      Set<ActorRef<Describe>> found = listing.getServiceInstances(KEY);
      long nodes = java.util.stream.StreamSupport.stream(cluster.state().getMembers().spliterator(), false)
          .filter(m -> m.status() == org.apache.pekko.cluster.MemberStatus.up() && m.hasRole(ClusterNode.NODE_ROLE))
          .count();
      if (found.size() >= nodes || System.nanoTime() > deadline) {
        List<CompletableFuture<Described>> each = new ArrayList<>();
        for (ActorRef<Describe> n : found) {
          each.add(AskPattern.<Describe, Described>ask(n, Describe::new, timeout, system.scheduler())
              .toCompletableFuture());
        }
        List<Described> out = new ArrayList<>();
        for (CompletableFuture<Described> f : each) {
          out.add(f.get());
        }
        out.sort(Comparator.comparing(Described::node));
        return out;
      }
      Thread.sleep(100);
    }
  }
}
