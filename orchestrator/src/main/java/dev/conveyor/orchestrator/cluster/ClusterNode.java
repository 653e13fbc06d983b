package dev.conveyor.orchestrator.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.conveyor.config.NodeSettings;
import dev.conveyor.config.S3Settings;
import dev.conveyor.streams.store.ShardStores;
import dev.conveyor.workers.reader.LeasedSlices;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;

/** Starting a cluster node, and reaching the job coordinator from any member. */
public final class ClusterNode {
  /** The role every node has (the coordinator runs on one of them); clients do not have it. */
  public static final String NODE_ROLE = "node";
  public static final String SYSTEM = "conveyor";
  private static final Duration PREPARE = Duration.ofSeconds(60);
  private static final LeasedSlices.Settings LEASES =
      new LeasedSlices.Settings(Duration.ofSeconds(20), 4, Duration.ofMillis(500), 2);

  private ClusterNode() {}

  /** Pekko settings for a member listening on {@code hostname:port} with {@code roles}, joining through {@code seeds}. */
  public static Config pekko(String hostname, int port, List<String> seeds, List<String> roles, Config base) {
    List<String> seedAddresses = new ArrayList<>();
    seeds.forEach(s -> seedAddresses.add("pekko://" + SYSTEM + "@" + s));
    return ConfigFactory.empty()
        .withValue("pekko.actor.provider", ConfigValueFactory.fromAnyRef("cluster"))
        .withValue("pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(hostname))
        .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(port))
        .withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seedAddresses))
        .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(roles))
        .withValue("pekko.cluster.jmx.enabled", ConfigValueFactory.fromAnyRef(false))
        .withFallback(base);
  }

  /** Starts a node: its agent (the guardian), and its share of the coordinator singleton. */
  public static ActorSystem<NodeAgent.Command> start(NodeSettings n, S3Settings s3, Config base) {
    List<String> roles = new ArrayList<>(n.roles());
    roles.add(NODE_ROLE);
    Set<String> agentRoles = new HashSet<>(n.roles());
    ActorSystem<NodeAgent.Command> system = ActorSystem.create(
        NodeAgent.create(agentRoles, uri -> ShardStores.forUri(uri, s3), LEASES), SYSTEM,
        pekko(n.hostname(), n.port(), n.seedNodes(), roles, base));
    coordinator(system);
    return system;
  }

  /** The coordinator singleton, from this member (it runs on the oldest node; elsewhere this is a proxy). */
  public static ActorRef<JobCoordinator.Command> coordinator(ActorSystem<?> system) {
    return ClusterSingleton.get(system).init(SingletonActor.of(JobCoordinator.create(PREPARE), "job-coordinator")
        .withSettings(ClusterSingletonSettings.create(system).withRole(NODE_ROLE)));
  }
}
