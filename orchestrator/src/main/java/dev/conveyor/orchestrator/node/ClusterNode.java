package dev.conveyor.orchestrator.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.conveyor.config.Membership;
import dev.conveyor.config.NodeSettings;
import dev.conveyor.config.S3Settings;
import dev.conveyor.config.SettingsException;
import dev.conveyor.orchestrator.coordinator.CoordinatorActor;
import dev.conveyor.orchestrator.security.TlsRemoting;
import dev.conveyor.streams.store.ShardStores;
import dev.conveyor.workers.reader.LeasedSlices;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;

/** Starting a cluster node, and reaching the job coordinator from any member. */
public final class ClusterNode {
  /** The role every node has (the coordinator runs on one of them); clients do not have it. */
  public static final String NODE_ROLE = "node";
  public static final String SYSTEM = "conveyor";
  private static final LeasedSlices.Settings LEASES =
      new LeasedSlices.Settings(Duration.ofSeconds(20), 4, Duration.ofMillis(500), 2);

  /** The largest message between nodes: a sample with its members and tensors must fit (ShardReader dead-letters one that does not). */
  public static final int MAX_FRAME_BYTES = 16 << 20;

  /** What a sample in a lease stream may take, leaving room for the envelope. */
  static final long MAX_SAMPLE_BYTES = MAX_FRAME_BYTES - (64 << 10);

  private ClusterNode() {}

  /**
   * Pekko settings for a member listening on {@code hostname:port} with {@code roles}, joining
   * through {@code seeds} or, on Kubernetes, through cluster bootstrap ({@link #join}); an
   * unreachable member is downed after {@code downAfterMillis} by the Split Brain Resolver
   * (keep-majority, or lease-majority over a Kubernetes lease). These, and the stream references'
   * timeouts, are set here rather than in a reference.conf: Pekko's own reference.conf files would
   * override them depending on the order of the class path.
   */
  public static Config pekko(String hostname, int port, List<String> seeds, List<String> roles, long downAfterMillis,
                             Membership membership, Config base) {
    List<String> seedAddresses = new ArrayList<>();
    if (!membership.kubernetes()) {
      seeds.forEach(s -> seedAddresses.add("pekko://" + SYSTEM + "@" + s));
    }
    Config c = ConfigFactory.empty()
        .withValue("pekko.actor.provider", ConfigValueFactory.fromAnyRef("cluster"))
        .withValue("pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(hostname))
        .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(port))
        .withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seedAddresses))
        .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(roles))
        .withValue("pekko.cluster.app-version", ConfigValueFactory.fromAnyRef(membership.appVersion()))
        .withValue("pekko.cluster.jmx.enabled", ConfigValueFactory.fromAnyRef(false))
        .withValue("pekko.cluster.downing-provider-class",
            ConfigValueFactory.fromAnyRef("org.apache.pekko.cluster.sbr.SplitBrainResolverProvider"))
        .withValue("pekko.cluster.split-brain-resolver.active-strategy", ConfigValueFactory.fromAnyRef(membership.splitBrain()))
        .withValue("pekko.cluster.split-brain-resolver.stable-after", ConfigValueFactory.fromAnyRef(downAfterMillis + "ms"))
        // a decoded sample is one message: frames up to MAX_FRAME (Artery's default, 256 KiB, drops
        // a larger one, and a stream reference then fails on the gap); buffers are pooled, at most 32
        .withValue("pekko.remote.artery.advanced.maximum-frame-size", ConfigValueFactory.fromAnyRef(MAX_FRAME_BYTES))
        .withValue("pekko.remote.artery.advanced.buffer-pool-size", ConfigValueFactory.fromAnyRef(32))
        // a leased slice's events: the lease holder subscribes within 20 s; the other side is
        // declared gone when silent 2 s at the end; 32 elements requested ahead (back-pressure holds)
        // a leaving worker hands its leases back before it leaves (ShardReader waits up to 10 s)
        .withValue("pekko.coordinated-shutdown.phases.before-cluster-shutdown.timeout", ConfigValueFactory.fromAnyRef("15s"))
        .withValue("pekko.stream.materializer.stream-ref.subscription-timeout", ConfigValueFactory.fromAnyRef("20s"))
        .withValue("pekko.stream.materializer.stream-ref.final-termination-signal-deadline", ConfigValueFactory.fromAnyRef("2s"))
        .withValue("pekko.stream.materializer.stream-ref.buffer-capacity", ConfigValueFactory.fromAnyRef(32))
        .withValue("pekko.stream.materializer.stream-ref.demand-redelivery-interval", ConfigValueFactory.fromAnyRef("1s"));
    c = TlsRemoting.over(c, base, membership.bindHostname().isEmpty() ? hostname : membership.bindHostname());
    if (!membership.bindHostname().isEmpty()) {
      c = c.withValue("pekko.remote.artery.bind.hostname", ConfigValueFactory.fromAnyRef(membership.bindHostname()));
    }
    if (membership.splitBrain().equals(Membership.LEASE_MAJORITY)) {
      // the lease is a coordination.k8s.io/v1 Lease: no custom resource definition to install
      c = c.withValue("pekko.cluster.split-brain-resolver.lease-majority.lease-implementation",
              ConfigValueFactory.fromAnyRef("pekko.coordination.lease.kubernetes"))
          .withValue("pekko.cluster.split-brain-resolver.lease-majority.lease-name",
              ConfigValueFactory.fromAnyRef(membership.leaseName()))
          .withValue("pekko.coordination.lease.kubernetes.lease-class",
              ConfigValueFactory.fromAnyRef("org.apache.pekko.coordination.lease.kubernetes.NativeKubernetesLease"));
    }
    if (membership.kubernetes()) {
      // contact points: Running pods of the selector whose node container is not waiting, by
      // their IP (the node's HTTP server binds to it) and named management port
      c = c.withValue("pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method",
              ConfigValueFactory.fromAnyRef("kubernetes-api"))
          .withValue("pekko.management.cluster.bootstrap.contact-point-discovery.service-name",
              ConfigValueFactory.fromAnyRef(SYSTEM))
          .withValue("pekko.management.cluster.bootstrap.contact-point-discovery.port-name",
              ConfigValueFactory.fromAnyRef(membership.portName()))
          .withValue("pekko.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr",
              ConfigValueFactory.fromAnyRef(membership.requiredContactPoints()))
          .withValue("pekko.discovery.kubernetes-api.pod-label-selector",
              ConfigValueFactory.fromAnyRef(membership.podLabelSelector()))
          .withValue("pekko.discovery.kubernetes-api.container-name", ConfigValueFactory.fromAnyRef(membership.containerName()))
          .withValue("pekko.discovery.kubernetes-api.use-raw-ip", ConfigValueFactory.fromAnyRef(true));
    }
    return c.withFallback(base);
  }

  /**
   * Starts joining the cluster the way {@code n} says: through the seed nodes (already under way
   * when the system starts), or on Kubernetes through cluster bootstrap, which needs the node's
   * HTTP server (contact points probe each other there), so it is served first. Returns where
   * HTTP is served, when it is.
   */
  public static Optional<String> join(ActorSystem<?> system, NodeSettings n) {
    if (!n.membership().kubernetes()) {
      return Optional.empty();
    }
    if (n.httpPort() < 0) {
      throw new SettingsException(NodeSettings.PATH + ".http.port", "must serve HTTP (not -1) with discovery.method"
          + " = kubernetes-api: the other nodes' bootstrap asks this node there");
    }
    kubernetesReachable(system.settings().config());
    Optional<String> url = serveHttp(system, n);
    ClusterBootstrap.get(Adapter.toClassic(system)).start();
    return url;
  }

  /**
   * Refuses, with what is missing, to look for the cluster through a Kubernetes API this process
   * cannot reach: outside a pod, or in one without its service account's certificate.
   */
  private static void kubernetesReachable(Config config) {
    String prefix = "pekko.discovery.kubernetes-api.";
    String hostVar = config.getString(prefix + "api-service-host-env-name");
    String portVar = config.getString(prefix + "api-service-port-env-name");
    String ca = config.getString(prefix + "api-ca-path");
    String missing = System.getenv(hostVar) == null || System.getenv(portVar) == null
        ? "the environment variables " + hostVar + " and " + portVar + " are not set"
        : !java.nio.file.Files.isReadable(java.nio.file.Path.of(ca)) ? "the API server's certificate " + ca
        + " cannot be read (is the service account's token mounted?)" : null;
    if (missing != null) {
      throw new SettingsException(NodeSettings.PATH + ".discovery.method", "is kubernetes-api, but " + missing
          + ": run the node in a pod (k8s/), or find the cluster through seed-nodes (discovery.method = seed-nodes)");
    }
  }

  /**
   * The node's HTTP server (pekko-management): our routes — /metrics, /status — beside its
   * health checks — /ready (an up member), /alive (the actor system runs). In code, for the
   * reason {@link #pekko} gives.
   */
  static Config http(NodeSettings n) {
    return ConfigFactory.empty()
        .withValue("pekko.management.http.hostname", ConfigValueFactory.fromAnyRef(n.httpHostname()))
        .withValue("pekko.management.http.port", ConfigValueFactory.fromAnyRef(Math.max(0, n.httpPort())))
        .withValue("pekko.management.http.routes.conveyor", ConfigValueFactory.fromAnyRef(NodeRoutes.class.getName()))
        .withValue("pekko.management.health-checks.readiness-checks.conveyor-member-up",
            ConfigValueFactory.fromAnyRef(NodeHealth.Ready.class.getName()))
        .withValue("pekko.management.health-checks.liveness-checks.conveyor-running",
            ConfigValueFactory.fromAnyRef(NodeHealth.Alive.class.getName()));
  }

  /**
   * Starts the node's HTTP server unless {@code conveyor.node.http.port} is -1; returns where it
   * listens ({@code http://host:port/}).
   */
  public static Optional<String> serveHttp(ActorSystem<?> system, NodeSettings n) {
    if (n.httpPort() < 0) {
      return Optional.empty();
    }
    try {
      String url = PekkoManagement.get(Adapter.toClassic(system)).start().toCompletableFuture()
          .orTimeout(30, TimeUnit.SECONDS).join().toString();
      NodeState.get(system).http(url);
      return Optional.of(url);
    } catch (java.util.concurrent.CompletionException e) {
      throw new SettingsException(NodeSettings.PATH + ".http.port", "cannot serve HTTP on " + n.httpHostname() + ":"
          + n.httpPort() + " (" + e.getCause().getMessage() + "): several nodes on one machine need a port each"
          + " (0 picks a free one, -1 serves nothing)");
    }
  }

  /** Starts a node: its agent (the guardian), and its share of the coordinator singleton. */
  public static ActorSystem<NodeAgent.Command> start(NodeSettings n, S3Settings s3, Config base) {
    List<String> roles = new ArrayList<>(n.roles());
    roles.add(NODE_ROLE);
    Set<String> agentRoles = new HashSet<>(n.roles());
    NodeAgent.Local local = new NodeAgent.Local(n.cpus(), n.prefetchDepth(),
        Duration.ofMillis(n.simulatedTrainerStepMillis()), MAX_SAMPLE_BYTES, n.resources());
    ActorSystem<NodeAgent.Command> system = ActorSystem.create(
        NodeAgent.create(agentRoles, uri -> ShardStores.forUri(uri, s3), LEASES, local), SYSTEM,
        http(n).withFallback(pekko(n.hostname(), n.port(), n.seedNodes(), roles, n.downUnreachableAfterMillis(),
            n.membership(), base)));
    NodeState.get(system).roles(agentRoles);
    NodeOffers.start(system, agentRoles, local);
    CoordinatorActor.singleton(system, uri -> ShardStores.forUri(uri, s3));
    return system;
  }

  /**
   * A cluster of one in this process, what {@code run} without {@code --cluster} runs on: a
   * node with both roles on 127.0.0.1 (a free port, no HTTP) that joins itself, with the
   * settings of {@code configured} for its decoders and prefetch rings. The same actors as any
   * node: its coordinator, readers, decoders and rank feeders run the job.
   */
  public static ActorSystem<NodeAgent.Command> startAlone(NodeSettings configured, S3Settings s3, Config base) {
    NodeSettings n = new NodeSettings(List.of(NodeAgent.WORKER, NodeAgent.TRAINER_HOST), "127.0.0.1", 0, List.of(),
        configured.downUnreachableAfterMillis(), configured.httpHostname(), -1, configured.simulatedTrainerStepMillis(),
        configured.cpus(), configured.prefetchDepth(), Membership.SEEDED, configured.resources());
    // alone, nothing waits on gossip. Pekko's defaults cost a short run 1.3 s: the leader's
    // actions (up, and out at the end) and the proxy's search for the coordinator every second,
    // starting a second after the start (a job of under a second waited for them to leave), and
    // the receptionist listing the agent, which placing waits for, every 500 ms
    Config quick = ConfigFactory.parseString("""
        pekko.cluster.leader-actions-interval = 100ms
        pekko.cluster.gossip-interval = 100ms
        pekko.cluster.periodic-tasks-initial-delay = 10ms
        pekko.cluster.singleton-proxy.singleton-identification-interval = 100ms
        pekko.cluster.singleton.hand-over-retry-interval = 100ms
        pekko.cluster.typed.receptionist.distributed-data.notify-subscribers-interval = 20ms
        """);
    ActorSystem<NodeAgent.Command> system = start(n, s3, quick.withFallback(base));
    org.apache.pekko.cluster.typed.Cluster c = org.apache.pekko.cluster.typed.Cluster.get(system);
    c.manager().tell(org.apache.pekko.cluster.typed.Join.create(c.selfMember().address()));
    return system;
  }

  /**
   * Waits until this member of the cluster is up, for at most {@code timeout}; {@code seed}
   * names where it joins, for the message.
   */
  public static void awaitUp(ActorSystem<?> system, String seed, Duration timeout)
      throws InterruptedException, java.util.concurrent.TimeoutException {
    org.apache.pekko.cluster.typed.Cluster cluster = org.apache.pekko.cluster.typed.Cluster.get(system);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (cluster.selfMember().status() != org.apache.pekko.cluster.MemberStatus.up()) {
      if (System.nanoTime() > deadline) {
        throw new java.util.concurrent.TimeoutException("could not join the cluster at " + seed + " within "
            + timeout.toSeconds() + " s (is a node running there? bin/conveyor node NODE.conf)");
      }
      Thread.sleep(20);
    }
  }

  /**
   * Whether {@code ref}'s node is an up member of the cluster (a local reference's always is):
   * a node that left, or is leaving, unreachable or downed, is not.
   */
  public static boolean isUp(ActorSystem<?> system, ActorRef<?> ref) {
    org.apache.pekko.actor.Address a = ref.path().address();
    if (a.hasLocalScope()) {
      return true;
    }
    for (org.apache.pekko.cluster.Member m : org.apache.pekko.cluster.typed.Cluster.get(system).state().getMembers()) {
      if (m.address().equals(a)) {
        return isUp(m);
      }
    }
    return false;
  }

  /**
   * Which incarnation of a node each tracked reference lives on: a reference counts as up while
   * the member it lived on when it was tracked is up. A node that left or was downed never counts
   * again, even when a new process comes back at the same address (a restarted pod keeps its name
   * and port, and a rolling upgrade restarts every node so): that process is another member,
   * without the actors the references name. A local reference always counts; one whose node was
   * not up yet when it was tracked belongs to the first incarnation seen up at its address.
   */
  public static final class Incarnations {
    private final ActorSystem<?> system;
    private final java.util.Map<ActorRef<?>, org.apache.pekko.cluster.UniqueAddress> seen =
        new java.util.concurrent.ConcurrentHashMap<>();

    public Incarnations(ActorSystem<?> system) {
      this.system = system;
    }

    /** Notes the incarnations {@code refs} live on now (a reference tracked before keeps its first). */
    public void track(java.util.Collection<? extends ActorRef<?>> refs) {
      for (ActorRef<?> ref : refs) {
        org.apache.pekko.actor.Address a = ref.path().address();
        if (a.hasLocalScope()) {
          continue;
        }
        for (org.apache.pekko.cluster.Member m : cluster().state().getMembers()) {
          if (m.address().equals(a) && ClusterNode.isUp(m)) {
            seen.putIfAbsent(ref, m.uniqueAddress());
          }
        }
      }
    }

    private org.apache.pekko.cluster.typed.Cluster cluster() {
      return org.apache.pekko.cluster.typed.Cluster.get(system); // only for remote references: a local test system has no cluster
    }

    public boolean isUp(ActorRef<?> ref) {
      org.apache.pekko.actor.Address a = ref.path().address();
      if (a.hasLocalScope()) {
        return true;
      }
      for (org.apache.pekko.cluster.Member m : cluster().state().getMembers()) {
        if (m.address().equals(a)) {
          // a reference tracked before this node saw its member up (a reader that joined a running
          // job is announced as soon as its node prepared, and gossip may come later) belongs to
          // the first incarnation seen up at its address
          org.apache.pekko.cluster.UniqueAddress then = ClusterNode.isUp(m)
              ? seen.computeIfAbsent(ref, r -> m.uniqueAddress()) : seen.get(ref);
          return m.uniqueAddress().equals(then) && ClusterNode.isUp(m);
        }
      }
      return false;
    }
  }

  private static boolean isUp(org.apache.pekko.cluster.Member m) {
    return m.status() == org.apache.pekko.cluster.MemberStatus.up()
        || m.status() == org.apache.pekko.cluster.MemberStatus.weaklyUp();
  }
}
