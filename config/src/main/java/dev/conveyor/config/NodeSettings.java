package dev.conveyor.config;

import com.typesafe.config.Config;
import java.util.List;

/**
 * One cluster node: the {@code conveyor.node} section.
 *
 * @param roles     {@code worker} (reads slices for others), {@code trainer-host} (runs ranks), or both
 * @param seedNodes {@code host:port} of the nodes a new node joins through (the first node lists itself)
 * @param downUnreachableAfterMillis how long a node may stay unreachable before the majority downs it (its leases go elsewhere)
 * @param httpHostname where the node serves /metrics, /status, /ready and /alive
 * @param httpPort     that server's port (0 picks a free one; -1 serves nothing)
 * @param simulatedTrainerStepMillis for simulations: each rank here takes a batch at most this often (0: as fast as it comes)
 * @param cpus CPU slots offered to decoders
 * @param prefetchDepth batches each rank's prefetch ring holds for its trainer
 * @param membership how the node finds the cluster, who downs a lost member, its app-version
 * @param resources what the node offers actor-pool stages ({@code conveyor.node.resources}, defaults filled in)
 */
public record NodeSettings(List<String> roles, String hostname, int port, List<String> seedNodes,
                           long downUnreachableAfterMillis, String httpHostname, int httpPort,
                           long simulatedTrainerStepMillis, int cpus, int prefetchDepth, Membership membership,
                           Resources resources) {
  public static final String PATH = "conveyor.node";

  public NodeSettings {
    roles = List.copyOf(roles);
    seedNodes = List.copyOf(seedNodes);
  }

  /** These settings, the node offering its CPU slots and the machine's memory to actor pools. */
  public NodeSettings(List<String> roles, String hostname, int port, List<String> seedNodes,
                      long downUnreachableAfterMillis, String httpHostname, int httpPort,
                      long simulatedTrainerStepMillis, int cpus, int prefetchDepth, Membership membership) {
    this(roles, hostname, port, seedNodes, downUnreachableAfterMillis, httpHostname, httpPort,
        simulatedTrainerStepMillis, cpus, prefetchDepth, membership, offered(Resources.NONE, cpus));
  }

  /**
   * What a node with {@code cpus} CPU slots offers when {@code configured} leaves parts at 0:
   * those slots, and the machine's physical memory (the JVM's heap limit if that is unknown).
   */
  public static Resources offered(Resources configured, int cpus) {
    long memory = configured.memory();
    if (memory == 0) {
      var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
      memory = os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getTotalMemorySize()
          : Runtime.getRuntime().maxMemory();
    }
    return new Resources(configured.cpus() > 0 ? configured.cpus() : cpus, configured.gpus(), memory,
        configured.custom());
  }

  public static NodeSettings fromConfig(Config config) {
    ConfigReader r = new ConfigReader(config, PATH);
    List<String> roles = r.stringList("roles");
    if (roles.isEmpty() || !List.of("worker", "trainer-host").containsAll(roles)) {
      throw new SettingsException(r.key("roles"), "must name worker, trainer-host or both, got " + roles);
    }
    List<String> seeds = r.stringList("seed-nodes");
    for (String s : seeds) {
      if (!s.matches("[^:/]+:\\d+")) {
        throw new SettingsException(r.key("seed-nodes"), "lists host:port entries, got \"" + s + "\"");
      }
    }
    int port = r.intAtLeast("port", 0);
    if (port > 65535) {
      throw new SettingsException(r.key("port"), "must be a TCP port (0 picks a free one), got " + port);
    }
    int httpPort = r.intAtLeast("http.port", -1);
    if (httpPort > 65535) {
      throw new SettingsException(r.key("http.port"), "must be a TCP port (0 picks a free one, -1 serves nothing), got "
          + httpPort);
    }
    httpToken(config); // a token written in a file is refused at start
    return new NodeSettings(roles, r.string("hostname"), port, seeds, r.durationMillisAtLeast("down-unreachable-after", 1000),
        r.string("http.hostname"), httpPort, r.durationMillisAtLeast("simulated-trainer-step", 0),
        cpus(r.intAtLeast("cpus", 0)), r.intAtLeast("prefetch-depth", 1), Membership.fromConfig(config),
        offered(Resources.fromConfig(config, PATH + ".resources"), cpus(r.intAtLeast("cpus", 0))));
  }

  /**
   * The bearer token the node's /metrics, /status and /trainer require ({@code conveyor.node.http.token},
   * only from the environment variable {@link #HTTP_TOKEN}); "" when none is.
   */
  public static String httpToken(Config config) {
    return new ConfigReader(config, PATH).secret("http.token", HTTP_TOKEN);
  }

  public static final String HTTP_TOKEN = "CONVEYOR_HTTP_TOKEN";

  /**
   * Whether the node takes a simulation's controls on its HTTP server ({@code POST /hold}: its
   * stand-in trainers stop at a batch until told otherwise): {@code conveyor.node.simulation-controls}.
   */
  public static boolean simulationControls(Config config) {
    return new ConfigReader(config, PATH).bool("simulation-controls");
  }

  private static int cpus(int configured) {
    return configured == 0 ? Runtime.getRuntime().availableProcessors() : configured;
  }
}
