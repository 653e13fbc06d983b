package dev.conveyor.sim.run;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The simulation's {@code conveyor node} processes on its {@link Network}, numbered from 1: node 1 is the
 * trainer host, the others workers. Each has fixed remoting and HTTP ports, so that a node
 * started again after a kill comes back where it was; nodes 1 and 2 are the seeds, so that
 * either joins through the other. Its config and log live in {@code dir} ({@code node-N.conf},
 * {@code node-N.log}, each start appending to the log).
 */
public final class Nodes implements AutoCloseable {
  /** What a node's log says once it has joined the cluster. */
  public static final String UP = " up, roles";

  private final List<String> conveyor;
  private final Network network;
  private final ExitHook exitHook;
  private final Path dir;
  private final Map<String, String> env; // besides this process's: the stores' passwords when on TLS
  private final Map<Integer, Node> nodes = new TreeMap<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** One node: its ports, and its process while it runs. */
  static final class Node {
    final int number;
    final int port;
    final int httpPort;
    final Path conf;
    final Path log;
    volatile Process process;
    /** Its Pekko app-version: 1.0.0, then one minor version up at each {@link #upgrade}. */
    volatile int minor;

    Node(int number, int port, int httpPort, Path conf, Path log) {
      this.number = number;
      this.port = port;
      this.httpPort = httpPort;
      this.conf = conf;
      this.log = log;
    }
  }

  /**
   * {@code count} nodes whose settings are {@code settings} (HOCON beside conveyor.node: S3, the
   * cache, TLS…) and, on the trainer host, {@code hostSettings} (inside conveyor.node, ending in ", ").
   * {@code conveyor} is the command that runs the CLI (java, its options, class path, main class);
   * {@code env} what their environment has besides this process's.
   */
  public Nodes(List<String> conveyor, Network network, Path dir, int count, String settings, String hostSettings,
               Map<String, String> env) throws IOException {
    this.conveyor = List.copyOf(conveyor);
    this.env = Map.copyOf(env);
    this.exitHook = new ExitHook("conveyor-sim-nodes", () -> nodes.values().forEach(n -> {
      if (n.process != null) {
        n.process.destroyForcibly(); // the simulation was stopped: no node outlives it
      }
    }));
    this.network = network;
    this.dir = dir;
    List<Integer> ports = new ArrayList<>();
    for (int i = 0; i < 2 * count; i++) {
      ports.add(freePort());
    }
    String seeds = "seed-nodes = [\"" + network.address(1) + ":" + ports.get(0) + "\", \"" + network.address(2) + ":"
        + ports.get(2) + "\"]";
    for (int n = 1; n <= count; n++) {
      int port = ports.get(2 * (n - 1));
      int httpPort = ports.get(2 * (n - 1) + 1);
      String conf = settings + "\nconveyor.node { roles = [" + (n == 1 ? "trainer-host" : "worker") + "], "
          + (n == 1 ? hostSettings : "") + "hostname = \"" + network.address(n) + "\", port = " + port + ", " + seeds
          + ", http { hostname = \"" + network.address(n) + "\", port = " + httpPort + " } }\n"
          // the simulation's own network (loopback, or its namespaces' bridge): nothing else reaches it
          + "conveyor.tls.allow-plain-tcp = true\n";
      Path file = Files.writeString(dir.resolve("node-" + n + ".conf"), conf);
      nodes.put(n, new Node(n, port, httpPort, file, dir.resolve("node-" + n + ".log")));
    }
  }

  /** Starts the nodes one after another (so that node 2 is the oldest worker, where the coordinator runs). */
  public void startAll() throws Exception {
    for (int n : nodes.keySet()) {
      start(n);
    }
  }

  /** Starts node {@code n} (again, after a kill or stop: its log goes on); returns once it is up. */
  public void start(int n) throws Exception {
    Node node = node(n);
    long logged = Files.exists(node.log) ? Files.size(node.log) : 0;
    List<String> cmd = new ArrayList<>(network.prefix(n));
    cmd.addAll(conveyor);
    cmd.add("node");
    cmd.add(node.conf.toString());
    cmd.add("--set");
    cmd.add("conveyor.node.app-version=" + version(n));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(node.log.toFile()));
    pb.environment().putAll(env);
    Process p = pb.start();
    node.process = p;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!since(node.log, logged).contains(UP)) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        p.destroyForcibly();
        throw new IllegalStateException("node " + n + " did not come up within 90 s: " + tail(node.log));
      }
      Thread.sleep(100);
    }
  }

  /** Node {@code n}'s app-version (the one it runs, or runs next). */
  public String version(int n) {
    return "1." + node(n).minor + ".0";
  }

  /**
   * A rolling upgrade's step for a node whose process has ended: it starts again with the next
   * app-version and returns once it is up; returns the line it said so with (its version in it).
   */
  public String upgrade(int n) throws Exception {
    Node node = node(n);
    node.minor++;
    long logged = Files.exists(node.log) ? Files.size(node.log) : 0;
    start(n);
    return since(node.log, logged).lines().filter(l -> l.contains(UP)).findFirst().orElseThrow();
  }

  /** The exit code of node {@code n}'s ended process. */
  public int exitCode(int n) {
    return node(n).process.exitValue();
  }

  private static String since(Path log, long offset) throws IOException {
    if (!Files.exists(log)) {
      return "";
    }
    byte[] all = Files.readAllBytes(log);
    return new String(all, (int) Math.min(offset, all.length), (int) Math.max(0, all.length - offset),
        java.nio.charset.StandardCharsets.UTF_8);
  }

  public int count() {
    return nodes.size();
  }

  /** The remoting port of node 1, the seed a job joins through. */
  public String contact() {
    return network.address(1) + ":" + node(1).port;
  }

  public boolean alive(int n) {
    Process p = node(n).process;
    return p != null && p.isAlive();
  }

  /** Waits up to {@code seconds} (a downed node's coordinated shutdown takes some) for node {@code n}'s process to end. */
  void awaitEnded(int n, long seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (alive(n) && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
  }

  public long pid(int n) {
    return node(n).process.pid();
  }

  /** Sends {@code signal} (KILL, STOP, CONT, TERM) to node {@code n}'s process. */
  public void signal(int n, String signal) throws IOException, InterruptedException {
    int code = new ProcessBuilder("kill", "-" + signal, Long.toString(pid(n))).inheritIO().start().waitFor();
    if (code != 0) {
      throw new IOException("kill -" + signal + " " + pid(n) + " exited " + code);
    }
  }

  /** Waits up to {@code seconds} for node {@code n}'s process to end. */
  public boolean awaitExit(int n, long seconds) throws InterruptedException {
    return node(n).process.waitFor(seconds, TimeUnit.SECONDS);
  }

  /**
   * Node {@code n}'s /metrics page when it comes; empty when it does not answer within a
   * second (a paused node takes the connection but never answers).
   */
  public java.util.concurrent.CompletableFuture<String> metrics(int n) {
    return http.sendAsync(HttpRequest.newBuilder(URI.create("http://" + network.address(n) + ":" + node(n).httpPort
            + "/metrics")).timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString())
        .thenApply(r -> r.statusCode() == 200 ? r.body() : "").exceptionally(x -> "");
  }

  /**
   * Holds node {@code n}'s stand-in trainers once they have taken {@code batches} in this life of
   * the node (negative: no hold); whether the node took it.
   */
  public boolean hold(int n, long batches) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + network.address(n) + ":"
              + node(n).httpPort + "/hold?batches=" + batches)).timeout(Duration.ofSeconds(5))
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The value of an unlabelled metric, or the sum over its labels, in a Prometheus text page (0 when absent). */
  public static double metric(String page, String name) {
    return page.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  private Node node(int n) {
    Node node = nodes.get(n);
    if (node == null) {
      throw new IllegalArgumentException("no node " + n + " (nodes 1.." + nodes.size() + ")");
    }
    return node;
  }

  static String tail(Path log) throws IOException {
    if (!Files.exists(log)) {
      return "(no output)";
    }
    List<String> lines = Files.readAllLines(log);
    return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /**
   * SIGCONT to any paused node, then SIGTERM to each in turn, the last-numbered first: each
   * leaves a cluster that can still acknowledge it — told all at once (or the two workers
   * together), one waited out Pekko's 10 s cluster-exiting timeout. SIGKILL to any still there
   * after 30 s.
   */
  @Override
  public void close() throws InterruptedException {
    exitHook.cancel();
    for (Node n : nodes.values()) {
      if (n.process != null && n.process.isAlive()) {
        try {
          signal(n.number, "CONT");
        } catch (IOException e) {
          // gone meanwhile
        }
      }
    }
    List<Node> last = new ArrayList<>(nodes.values());
    Collections.reverse(last); // by number: nodes is a TreeMap
    for (Node n : last) {
      if (n.process != null && n.process.isAlive()) {
        n.process.destroy();
        if (!n.process.waitFor(30, TimeUnit.SECONDS)) {
          n.process.destroyForcibly();
        }
      }
    }
  }
}
