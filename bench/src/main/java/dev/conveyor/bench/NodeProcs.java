package dev.conveyor.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.conveyor.config.TlsSettings;
import dev.conveyor.orchestrator.security.Certificates;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** The node processes the cluster benchmarks start: each {@code conveyor node} with its file and log, up or failed. */
final class NodeProcs {
  private NodeProcs() {}

  /**
   * Mutual TLS for a benchmark's nodes: the settings naming the stores made in a folder as
   * {@code conveyor certs} makes them, the environment holding their password, and a client's
   * configuration.
   */
  record Tls(String settings, Map<String, String> env, Config clientConfig) {}

  /** Stores for mutual TLS made in {@code dir}/certs. */
  static Tls tls(Path dir) throws Exception {
    String password = Certificates.randomPassword();
    Path certs = Files.createDirectories(dir.resolve("certs"));
    Certificates c = new Certificates(certs, password, 2, step -> { });
    c.newCa("bench-ca", List.of());
    c.member("node", c.ca(Optional.empty()));
    String stores = "conveyor.tls { enabled = true, key-store = \"" + certs.resolve("node.p12") + "\", trust-store = \""
        + certs.resolve(Certificates.TRUST_STORE) + "\" }";
    Config client = ConfigFactory.parseString(stores)
        .withValue("conveyor.tls.key-store-password", ConfigValueFactory.fromAnyRef(password))
        .withValue("conveyor.tls.trust-store-password", ConfigValueFactory.fromAnyRef(password))
        .withFallback(ConfigFactory.load());
    return new Tls(stores, Map.of(TlsSettings.KEY_STORE_PASSWORD, password, TlsSettings.TRUST_STORE_PASSWORD, password),
        client);
  }

  /** Starts {@code conveyor node} with {@code conf}; returns when it reports itself up. */
  static Process node(List<String> command, Path dir, String name, String conf, Map<String, String> env)
      throws Exception {
    Path file = Files.writeString(dir.resolve(name + ".conf"), conf + "\n");
    Path log = dir.resolve(name + ".log");
    List<String> cmd = new ArrayList<>(command);
    cmd.add(file.toString());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env); // the stores' password: never in the file or the command line
    Process p = pb.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!(Files.exists(log) && Files.readString(log).contains(" up, roles"))) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        p.destroyForcibly();
        throw new IllegalStateException("node " + name + " did not come up within 90 s: " + tail(log));
      }
      Thread.sleep(100);
    }
    return p;
  }

  private static String tail(Path log) throws IOException {
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
   * SIGTERM to each of {@code nodes} in turn, the last started first (the seed last): each leaves
   * a cluster that can still acknowledge it — told all at once, the last ones would wait out
   * Pekko's 10 s cluster-exiting timeout. SIGKILL to any still there after 60 s.
   */
  static void stop(List<Process> nodes) throws InterruptedException {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      Process p = nodes.get(i);
      p.destroy();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }
}
