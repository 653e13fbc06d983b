package dev.conveyor.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.Membership;
import dev.conveyor.config.NodeSettings;
import dev.conveyor.config.S3Settings;
import dev.conveyor.orchestrator.node.ClusterNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/** {@code conveyor node NODE.conf}: one cluster node, until stopped. */
@Command(
    name = "node",
    mixinStandardHelpOptions = true,
    description = {
        "Starts a cluster node and runs until stopped (Ctrl-C or SIGTERM leave the cluster first).",
        "NODE.conf sets conveyor.node { roles, hostname, port, seed-nodes } and the node's own conveyor.s3.",
        "Jobs are submitted with: conveyor run JOB.conf --cluster HOST:PORT"})
final class NodeCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", paramLabel = "NODE.conf", description = "The node's settings (HOCON).")
  Path nodeFile;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Any setting, e.g. --set conveyor.node.port=25521")
  List<String> sets = new ArrayList<>();

  @Option(names = "--classpath", paramLabel = "JAR", split = ":", description = "Jars or class folders holding the classes of the pipelines (or maps) jobs name, ':'-separated.")
  java.util.List<java.nio.file.Path> classpath = new java.util.ArrayList<>();

  @Override
  public Integer call() throws Exception {
    AuthorCode.add(classpath);
    Config config = new ConfigOverlay(Optional.ofNullable(nodeFile)).set(sets).config();
    NodeSettings node = NodeSettings.fromConfig(config);
    S3Settings s3 = S3Settings.fromConfig(config);
    dev.conveyor.config.TlsSettings tls = dev.conveyor.config.TlsSettings.fromConfig(config);
    // SIGTERM and Ctrl-C: leave the cluster gracefully (Pekko's coordinated shutdown), then exit 0;
    // caught from the start, so that a node stopped while it joins leaves too
    java.util.concurrent.CountDownLatch stop = new java.util.concurrent.CountDownLatch(1);
    for (String name : List.of("TERM", "INT")) {
      sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> stop.countDown());
    }
    ActorSystem<?> system = ClusterNode.start(node, s3, config.withFallback(ConfigFactory.load()));
    PrintWriter out = spec.commandLine().getOut();
    Cluster cluster = Cluster.get(system);
    Membership m = node.membership();
    Optional<String> bootstrapHttp = ClusterNode.join(system, node);
    if (m.kubernetes()) {
      out.println("node: " + cluster.selfMember().address() + " looking for the cluster through the Kubernetes API (pods "
          + m.podLabelSelector() + ", port " + m.portName() + "; a new cluster needs " + m.requiredContactPoints()
          + " of them)");
      out.flush();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (cluster.selfMember().status() != MemberStatus.up() && System.nanoTime() < deadline && stop.getCount() > 0) {
      Thread.sleep(50);
    }
    Optional<String> http = m.kubernetes() ? bootstrapHttp : ClusterNode.serveHttp(system, node);
    out.println("node: " + cluster.selfMember().address() + " " + cluster.selfMember().status().toString().toLowerCase()
        + ", roles " + node.roles() + ", app-version " + m.appVersion()
        + (m.kubernetes() ? ", Kubernetes API discovery" : ", seed nodes " + node.seedNodes())
        + ", split brain " + m.splitBrain()
        + (tls.enabled() ? ", remoting tls (mutual, " + tls.certificate() + ")" : ", remoting plain tcp")
        + (NodeSettings.httpToken(config).isEmpty() ? "" : ", http token required")
        + http.map(u -> ", http " + u + " (metrics, status, ready, alive)").orElse(""));
    out.flush();
    java.util.concurrent.CompletableFuture.runAsync(() -> {
      system.getWhenTerminated().toCompletableFuture().join();
      stop.countDown(); // stopped from inside (e.g. downed by the cluster)
    });
    stop.await();
    boolean left = system.whenTerminated().isCompleted();
    if (!left) {
      out.println("node: leaving the cluster");
      out.flush();
      org.apache.pekko.actor.CoordinatedShutdown.get(system)
          .runAll(org.apache.pekko.actor.CoordinatedShutdown.jvmExitReason())
          .toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).exceptionally(x -> null).join();
    }
    out.println("node: stopped");
    out.flush();
    return ConveyorCli.EXIT_OK;
  }
}
