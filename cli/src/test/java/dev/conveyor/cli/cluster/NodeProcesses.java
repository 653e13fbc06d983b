package dev.conveyor.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * `conveyor node` processes for tests, each in its own JVM with its config and log in a folder,
 * and what tests ask of them: their HTTP endpoints and metrics, and the CLI run beside them.
 */
final class NodeProcesses implements AutoCloseable {
  private final Path dir;
  final List<Process> all = new ArrayList<>();

  NodeProcesses(Path dir) {
    this.dir = dir;
  }

  record Cli(int code, String out, String err) {}

  static Cli cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = dev.conveyor.cli.ConveyorCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Cli(code, out.toString(), err.toString());
  }

  /** Starts {@code conveyor node} named {@code name} with {@code conf}, without waiting for it. */
  Process launch(String name, String conf) throws Exception {
    return launch(name, conf, java.util.Map.of());
  }

  /** As above, with {@code env} added to the process's environment. */
  Process launch(String name, String conf, java.util.Map<String, String> env) throws Exception {
    // every message a node sends goes through the wire format, also to itself: none escapes Kryo
    Path file = Files.writeString(dir.resolve(name + ".conf"), conf + "\npekko.actor.serialize-messages = on\n");
    Path log = dir.resolve(name + ".log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // C1 only: these nodes run small jobs for seconds, and on a 2-core machine C2's compile threads
    // take the cores the nodes' work needs (ClusterNodesTest 348 s instead of 387, ClusterCacheTest 60 instead of 78)
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx384m", "-XX:TieredStopAtLevel=1", "-cp",
        System.getProperty("java.class.path"), "dev.conveyor.cli.ConveyorCli", "node",
        "--classpath", dev.conveyor.cli.Examples.jar().toString(), file.toString()) // the example pipelines' classes
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    all.add(p);
    return p;
  }

  /** Waits until node {@code name} reports itself up (at most 90 s). */
  void awaitUp(String name, Process p) throws Exception {
    Path log = dir.resolve(name + ".log");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!(Files.exists(log) && Files.readString(log).contains(dev.conveyor.sim.run.Nodes.UP))) {
      assertThat(p.isAlive()).as(name + " exited: " + (Files.exists(log) ? Files.readString(log) : "")).isTrue();
      assertThat(System.nanoTime()).as(name + " up within 90 s").isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  /** Starts {@code conveyor node} named {@code name} with {@code conf}; returns when it reports itself up. */
  Process start(String name, String conf) throws Exception {
    return start(name, conf, java.util.Map.of());
  }

  /** As above, with {@code env} added to the process's environment. */
  Process start(String name, String conf, java.util.Map<String, String> env) throws Exception {
    Process p = launch(name, conf, env);
    awaitUp(name, p);
    return p;
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Seed nodes at {@code port}; and each node serves HTTP on a free port of its own. */
  static String seeds(int port) {
    return "seed-nodes = [\"127.0.0.1:" + port + "\"], http.port = 0";
  }

  /** Where node {@code name} serves HTTP, as its start line says. */
  String http(String name) throws Exception {
    String log = Files.readString(dir.resolve(name + ".log"));
    return log.replaceAll("(?s).*, http (http://[^ ]+) .*", "$1");
  }

  record Got(int code, String body) {}

  static Got get(String url) throws Exception {
    java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).timeout(java.time.Duration.ofSeconds(10)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    return new Got(r.statusCode(), r.body());
  }

  /** The value of an unlabelled metric, or the sum over its labels, in a Prometheus text page. */
  static double metric(String page, String name) {
    return dev.conveyor.sim.run.Nodes.metric(page, name);
  }

  /** Waits (up to 60 s) until node {@code host}'s ranks have delivered {@code batches} batches, as its /metrics says. */
  void afterBatches(String host, int batches) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (metric(get(http(host) + "/metrics").body(), "conveyor_rank_batches_total") < batches) {
      assertThat(System.nanoTime()).as(batches + " batches within 60 s").isLessThan(deadline);
      Thread.sleep(5);
    }
  }

  static String[] concat(String[] a, String... b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  /**
   * Ends every node at once (SIGKILL): a test's assertions are made by then, and nodes told to
   * leave all together wait out Pekko's 10 s cluster-exiting timeout (a graceful leave is what
   * the simulation's upgrade scenario tests).
   */
  @Override
  public void close() throws Exception {
    for (Process p : all) {
      p.destroyForcibly();
    }
    for (Process p : all) {
      p.waitFor(30, TimeUnit.SECONDS);
    }
  }

}
