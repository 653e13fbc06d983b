package dev.conveyor.cli.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.Membership;
import dev.conveyor.config.NodeSettings;
import dev.conveyor.config.S3Settings;
import dev.conveyor.orchestrator.node.ClusterNode;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.discovery.Discovery;
import org.apache.pekko.discovery.Lookup;
import org.apache.pekko.discovery.ServiceDiscovery;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Three nodes in this JVM form one cluster the way they do in pods: Pekko's cluster bootstrap
 * lists their pods through the Kubernetes API — fabric8's mock API server in CRUD mode, over
 * TLS with its own certificate, which serves the pods this test wrote (IP 127.0.0.1, label
 * {@code app=conveyor}, a {@code management} port each, a phase and container state) — and the
 * split-brain resolver's lease is a {@code coordination.k8s.io} Lease in the same server. The
 * discovery finds the server only through environment variables, which the build sets
 * ({@code CONVEYOR_TEST_K8S_API_HOST/PORT}, cli/pom.xml).
 */
class KubernetesBootstrapTest {
  private static final String NAMESPACE = "conveyor-test";
  private static final String LEASE = "conveyor-sbr";

  private final List<ActorSystem<?>> systems = new ArrayList<>();
  private KubernetesMockServer api;

  @AfterEach
  void stop() {
    systems.forEach(ActorSystem::terminate);
    systems.forEach(s -> s.getWhenTerminated().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS)
        .exceptionally(x -> null).join());
    if (api != null) {
      api.destroy();
    }
  }

  @Test
  @Timeout(120)
  void threeNodesFormOneClusterOnlyOnceThreePodsRunAndTheMajorityTakesTheLeaseToDownALostNode(@TempDir Path dir)
      throws Exception {
    Api a = startApi(dir);
    MockWebServer web = a.web();
    KubernetesClient k8s = a.k8s();
    int[] remoting = freePorts(3);
    int[] management = freePorts(3);
    // pods 1 and 2 run; pod 3 is still being created (Pending, its container waiting), though its
    // node process has started: it is not a contact point, so the two cannot form a cluster alone
    startNodes(a, remoting, management, 2, Membership.LEASE_MAJORITY, false);

    ServiceDiscovery discovery = Discovery.get(Adapter.toClassic(systems.get(0))).loadServiceDiscovery("kubernetes-api");
    Set<Integer> contactPorts = discovery.lookup(Lookup.create("conveyor").withPortName("management"), Duration.ofSeconds(5))
        .toCompletableFuture().get(10, TimeUnit.SECONDS).getAddresses().stream()
        .map(t -> (Integer) t.getPort().orElseThrow()).collect(Collectors.toSet());
    assertThat(contactPorts).as("contact points: the Running pods' management ports only")
        .containsExactlyInAnyOrder(management[0], management[1]);

    // bootstrap is seen running, not assumed: each node looks the pods up in the API server every
    // 300 ms; 30 more lookups are about ten rounds per node, well past the 1 s stable margin after
    // which two contact points would form a cluster if they were enough (and a bootstrap that never
    // ran fails here instead of passing the check below)
    int lookups = web.getRequestCount();
    await(Duration.ofSeconds(30), () -> web.getRequestCount() - lookups >= 30);
    for (ActorSystem<?> s : systems) {
      assertThat(Cluster.get(s).selfMember().status()).as("no cluster forms with 2 of the 3 required contact points")
          .isNotEqualTo(MemberStatus.up());
    }

    long ready = System.nanoTime();
    k8s.pods().inNamespace(NAMESPACE).resource(pod(2, management[2], true)).updateStatus();
    await(Duration.ofSeconds(40), () -> systems.stream().allMatch(s -> upMembers(s) == 3));
    double formedSeconds = (System.nanoTime() - ready) / 1e9;
    System.out.printf("three nodes formed one cluster %.1f s after the third pod ran%n", formedSeconds);
    for (ActorSystem<?> s : systems) {
      List<Object> ports = new ArrayList<>();
      Cluster.get(s).state().getMembers().forEach(m -> ports.add(m.address().port().get()));
      assertThat(ports).as("one cluster of the three").containsExactlyInAnyOrder(remoting[0], remoting[1], remoting[2]);
      assertThat(Cluster.get(s).selfMember().appVersion().toString()).isEqualTo("1.4.0");
    }

    // node 3 vanishes without leaving: the two that remain are the majority, take the lease in
    // the API server and down it
    ActorSystem<?> lost = systems.remove(2);
    lost.terminate();
    lost.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    await(Duration.ofSeconds(40), () -> systems.stream().allMatch(s -> members(s) == 2
        && upMembers(s) == 2));
    Lease lease = k8s.leases().inNamespace(NAMESPACE).withName(LEASE).get();
    assertThat(lease).as("the split-brain resolver's lease, in the API server").isNotNull();
    assertThat(lease.getSpec().getHolderIdentity()).as("held by a node of the majority")
        .matches(".*:(" + remoting[0] + "|" + remoting[1] + ")$");
  }

  /**
   * A live minority: node 3 cut off from the other two (every message between them dropped, both
   * ways, by Artery's test mode) while all three run and all reach the API server. The minority
   * downs itself and stops — under lease-majority it never holds the lease, which the majority
   * takes; under keep-majority it needs none — and the majority goes on as a cluster of two.
   */
  @ParameterizedTest
  @ValueSource(strings = {Membership.LEASE_MAJORITY, Membership.KEEP_MAJORITY})
  @Timeout(120)
  void aLiveMinorityCutOffDownsItselfAndNeverTakesTheLeaseWhileTheMajorityGoesOn(String strategy, @TempDir Path dir)
      throws Exception {
    Api a = startApi(dir);
    KubernetesClient k8s = a.k8s();
    int[] remoting = freePorts(3);
    int[] management = freePorts(3);
    startNodes(a, remoting, management, 3, strategy, true);
    await(Duration.ofSeconds(40), () -> systems.stream().allMatch(s -> upMembers(s) == 3));

    ActorSystem<?> minority = systems.get(2);
    Address cut = Cluster.get(minority).selfMember().address();
    for (ActorSystem<?> s : systems.subList(0, 2)) {
      blackhole(s, cut);
      blackhole(minority, Cluster.get(s).selfMember().address());
    }
    // the lease's holders, as the API server has them, while the cluster splits
    Set<String> holders = new java.util.TreeSet<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!(minority.whenTerminated().isCompleted() && systems.subList(0, 2).stream().allMatch(s -> members(s) == 2))) {
      assertThat(System.nanoTime()).as("the minority stopped and the majority is two, within 60 s").isLessThan(deadline);
      Lease lease = k8s.leases().inNamespace(NAMESPACE).withName(LEASE).get();
      String holder = lease == null ? null : lease.getSpec().getHolderIdentity();
      if (holder != null && !holder.isEmpty()) { // "": the lease exists, held by no one
        holders.add(holder);
      }
      Thread.sleep(50);
    }
    assertThat(Cluster.get(minority).selfMember().status()).as("the minority downed itself")
        .isIn(MemberStatus.down(), MemberStatus.removed());
    for (ActorSystem<?> s : systems.subList(0, 2)) {
      assertThat(s.whenTerminated().isCompleted()).as("a majority node goes on").isFalse();
      assertThat(upMembers(s)).isEqualTo(2);
    }
    if (strategy.equals(Membership.LEASE_MAJORITY)) {
      assertThat(holders).as("the lease was taken, by the majority only").isNotEmpty()
          .allSatisfy(h -> assertThat(h).matches(".*:(" + remoting[0] + "|" + remoting[1] + ")$"));
    } else {
      assertThat(holders).as("keep-majority takes no lease").isEmpty();
    }
  }

  /**
   * Drops every message between {@code s} and {@code other}, both ways, on {@code s}'s side: Artery's
   * test mode, the multi-node test kit's blackhole (its Scala objects reached by name from Java).
   */
  private static void blackhole(ActorSystem<?> s, Address other) throws Exception {
    String adapter = "org.apache.pekko.remote.transport.ThrottlerTransportAdapter$";
    Object both = Class.forName(adapter + "Direction$Both$").getField("MODULE$").get(null);
    Object blackhole = Class.forName(adapter + "Blackhole$").getField("MODULE$").get(null);
    Object command = Class.forName(adapter + "SetThrottle").getConstructor(Address.class,
        Class.forName(adapter + "Direction"), Class.forName(adapter + "ThrottleMode")).newInstance(other, both, blackhole);
    org.apache.pekko.remote.RARP rarp = (org.apache.pekko.remote.RARP) org.apache.pekko.remote.RARP$.MODULE$
        .apply(Adapter.toClassic(s));
    scala.concurrent.Await.result(rarp.provider().transport().managementCommand(command),
        scala.concurrent.duration.Duration.create(10, TimeUnit.SECONDS));
  }

  @Test
  @Timeout(60)
  void aNodeThatCannotReachTheApiServerSaysWhatIsMissingInsteadOfLookingForever(@TempDir Path dir) throws Exception {
    int[] ports = freePorts(2);
    ActorSystem<?> node = node(0, ports[0], ports[1], dir.resolve("no-such-ca.crt").toString(), dir.resolve("token"), false);
    systems.add(node);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ClusterNode.join(node, NodeSettings.fromConfig(
            node.settings().config())))
        .isInstanceOf(dev.conveyor.config.SettingsException.class)
        .hasMessageContaining("conveyor.node.discovery.method: is kubernetes-api, but the API server's certificate")
        .hasMessageContaining("no-such-ca.crt cannot be read");
  }

  /**
   * The CRUD mock, made to behave as the API server does in two ways Pekko relies on: answers are
   * typed {@code application/json} (the mock leaves the type out, and Pekko's discovery and lease
   * refuse another type), and a collection's path may end in a slash (the lease creates itself
   * with a POST to {@code .../leases/}; the mock would store it under an empty name).
   */
  private static final class JsonAnswers extends KubernetesCrudDispatcher {
    @Override
    public MockResponse dispatch(RecordedRequest request) {
      String path = request.getPath();
      if (path.endsWith("/") && path.length() > 1) {
        request = new RecordedRequest(request.getHttpVersion(), request.method(), path.substring(0, path.length() - 1),
            request.getHeaders(), request.getBody());
      }
      MockResponse answer = super.dispatch(request);
      return answer.getHeaders().get("Content-Type") == null ? answer.setHeader("Content-Type", "application/json") : answer;
    }
  }

  /** The mock API server, its client, and what a node needs to reach it. */
  private record Api(MockWebServer web, KubernetesClient k8s, String ca, Path token) {}

  /** Starts the mock API server in CRUD mode on the port the build gave; {@code dir} gets the token. */
  private Api startApi(Path dir) throws Exception {
    MockWebServer web = new MockWebServer();
    api = new KubernetesMockServer(new Context(), web, new HashMap<>(), new JsonAnswers(), true);
    api.init(InetAddress.getByName("127.0.0.1"), Integer.parseInt(System.getenv("CONVEYOR_TEST_K8S_API_PORT")));
    Path token = Files.writeString(dir.resolve("token"), "test-token");
    return new Api(web, api.createClient(), web.getSelfSignedCertificate().certificatePath(), token);
  }

  /**
   * Three pods (the first {@code running} Running, the rest Pending) and their nodes, each joining
   * as its pod's would; with {@code cuttable} their links can be cut (Artery's test mode), without
   * it the third stops without leaving, as a killed pod would.
   */
  private void startNodes(Api a, int[] remoting, int[] management, int running, String strategy, boolean cuttable) {
    for (int i = 0; i < 3; i++) {
      a.k8s().pods().inNamespace(NAMESPACE).resource(pod(i, management[i], i < running)).create();
    }
    for (int i = 0; i < 3; i++) {
      ActorSystem<?> node = node(i, remoting[i], management[i], a.ca(), a.token(), !cuttable && i == 2, strategy, cuttable);
      systems.add(node);
      ClusterNode.join(node, NodeSettings.fromConfig(node.settings().config()));
    }
  }

  /** The pod of node {@code i}: Running with its container running, or Pending with it waiting. */
  private static Pod pod(int i, int managementPort, boolean running) {
    return new PodBuilder()
        .withNewMetadata().withName("conveyor-" + i).withNamespace(NAMESPACE).addToLabels("app", "conveyor").endMetadata()
        .withNewSpec().addNewContainer().withName("conveyor").withImage("conveyor:1.4.0")
        .addNewPort().withName("management").withContainerPort(managementPort).endPort()
        .endContainer().endSpec()
        .withNewStatus().withPhase(running ? "Running" : "Pending").withPodIP("127.0.0.1")
        .addNewContainerStatus().withName("conveyor").withReady(false).withState(running
            ? new ContainerStateBuilder().withNewRunning().withStartedAt("2026-12-03T00:00:00Z").endRunning().build()
            : new ContainerStateBuilder().withNewWaiting().withReason("ContainerCreating").endWaiting().build())
        .endContainerStatus().endStatus()
        .build();
  }

  /** Node {@code i} as its pod would start it: Kubernetes API discovery, lease-majority, version 1.4.0. */
  private static ActorSystem<?> node(int i, int port, int http, String ca, Path token, boolean vanishes) {
    return node(i, port, http, ca, token, vanishes, Membership.LEASE_MAJORITY, false);
  }

  /** Node {@code i} with split-brain {@code strategy}; {@code cuttable}: Artery's test mode, so that links can be cut. */
  private static ActorSystem<?> node(int i, int port, int http, String ca, Path token, boolean vanishes, String strategy,
                                     boolean cuttable) {
    Config config = ConfigFactory.parseString(String.format("""
        conveyor.node {
          hostname = "127.0.0.1"
          port = %d
          http { hostname = "127.0.0.1", port = %d }
          discovery { method = kubernetes-api, required-contact-points = 3 }
          split-brain.strategy = %s
          down-unreachable-after = 1s
          app-version = "1.4.0"
        }
        pekko.discovery.kubernetes-api {
          api-service-host-env-name = CONVEYOR_TEST_K8S_API_HOST
          api-service-port-env-name = CONVEYOR_TEST_K8S_API_PORT
          api-ca-path = "%s"
          api-token-path = "%s"
          pod-namespace = "%s"
        }
        pekko.coordination.lease.kubernetes {
          api-service-host = localhost
          api-service-port = %s
          api-ca-path = "%s"
          api-token-path = "%s"
          namespace = "%s"
        }
        pekko.management.cluster.bootstrap {
          contact-point-discovery { stable-margin = 1s, interval = 300ms }
          contact-point.probe-interval = 300ms
        }
        pekko.cluster.failure-detector.acceptable-heartbeat-pause = 2s
        pekko.coordinated-shutdown.phases.cluster-exiting.timeout = 2s
        # the vanishing node stops without leaving, as a killed pod would
        pekko.coordinated-shutdown.run-by-actor-system-terminate = %s
        pekko.remote.artery.advanced.test-mode = %s
        """, port, http, strategy, ca, token, NAMESPACE, System.getenv("CONVEYOR_TEST_K8S_API_PORT"), ca, token, NAMESPACE,
        vanishes ? "off" : "on", cuttable ? "on" : "off")).withFallback(ConfigFactory.load()).resolve();
    NodeSettings n = NodeSettings.fromConfig(config);
    return ClusterNode.start(n, S3Settings.fromConfig(config), config);
  }

  private static long members(ActorSystem<?> s) {
    long n = 0;
    for (Member m : Cluster.get(s).state().getMembers()) {
      n++;
    }
    return n;
  }

  private static long upMembers(ActorSystem<?> s) {
    Cluster c = Cluster.get(s);
    long up = 0;
    for (Member m : c.state().getMembers()) {
      if (m.status() == MemberStatus.up() && !c.state().getUnreachable().contains(m)) {
        up++;
      }
    }
    return up;
  }

  private static void await(Duration limit, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("within " + limit.toSeconds() + " s").isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  private static int[] freePorts(int n) throws java.io.IOException {
    int[] ports = new int[n];
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
        held.add(s);
        ports[i] = s.getLocalPort();
      }
    } finally {
      for (ServerSocket s : held) {
        s.close();
      }
    }
    return ports;
  }
}
