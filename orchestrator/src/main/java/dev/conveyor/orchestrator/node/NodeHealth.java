package dev.conveyor.orchestrator.node;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/** The node's health checks, as pekko-management's {@code /ready} and {@code /alive} run them. */
public final class NodeHealth {
  private NodeHealth() {}

  /** Ready: this node is an up member of the cluster (not joining, not leaving). */
  public static final class Ready implements Supplier<CompletionStage<Boolean>> {
    private final ActorSystem system;

    public Ready(ActorSystem system) {
      this.system = system;
    }

    @Override
    public CompletionStage<Boolean> get() {
      return CompletableFuture.completedFuture(
          Cluster.get(Adapter.toTyped(system)).selfMember().status() == MemberStatus.up());
    }
  }

  /** Alive: the node's actor system runs (a downed or stopped node's does not). */
  public static final class Alive implements Supplier<CompletionStage<Boolean>> {
    private final ActorSystem system;

    public Alive(ActorSystem system) {
      this.system = system;
    }

    @Override
    public CompletionStage<Boolean> get() {
      return CompletableFuture.completedFuture(!system.whenTerminated().isCompleted()
          && !org.apache.pekko.cluster.Cluster.get(system).isTerminated());
    }
  }
}
