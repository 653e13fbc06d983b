package dev.conveyor.config;

import com.typesafe.config.Config;
import java.util.List;

/**
 * How a node finds the cluster, who downs a lost member, and the node's version: the
 * {@code conveyor.node} keys {@code bind-hostname}, {@code discovery}, {@code split-brain} and
 * {@code app-version}.
 *
 * @param bindHostname          where remoting binds ("" : the node's hostname)
 * @param discovery             {@link #SEED_NODES} or {@link #KUBERNETES_API}
 * @param podLabelSelector      kubernetes-api: the node pods' label selector
 * @param portName              kubernetes-api: the named container port of the node's HTTP server
 * @param containerName         kubernetes-api: the node's container, which must not be waiting
 * @param requiredContactPoints kubernetes-api: node pods that must answer before a new cluster forms
 * @param splitBrain            {@link #KEEP_MAJORITY} or {@link #LEASE_MAJORITY}
 * @param leaseName             lease-majority: the Kubernetes Lease's name
 * @param appVersion            Pekko's app-version of this node (digits and dots, e.g. 1.4.0)
 */
public record Membership(String bindHostname, String discovery, String podLabelSelector, String portName,
                         String containerName, int requiredContactPoints, String splitBrain, String leaseName,
                         String appVersion) {
  public static final String SEED_NODES = "seed-nodes";
  public static final String KUBERNETES_API = "kubernetes-api";
  public static final String KEEP_MAJORITY = "keep-majority";
  public static final String LEASE_MAJORITY = "lease-majority";

  /** Seed nodes, keep-majority, version 0.0.0: a node outside Kubernetes, and the cluster of one in a process. */
  public static final Membership SEEDED =
      new Membership("", SEED_NODES, "", "", "", 1, KEEP_MAJORITY, "", "0.0.0");

  public boolean kubernetes() {
    return discovery.equals(KUBERNETES_API);
  }

  static Membership fromConfig(Config config) {
    ConfigReader r = new ConfigReader(config, NodeSettings.PATH);
    String discovery = oneOf(r, "discovery.method", List.of(SEED_NODES, KUBERNETES_API));
    String strategy = oneOf(r, "split-brain.strategy", List.of(KEEP_MAJORITY, LEASE_MAJORITY));
    String version = r.string("app-version");
    if (!version.matches("\\d+(\\.\\d+){0,2}([-+][0-9A-Za-z.-]+)?")) {
      throw new SettingsException(r.key("app-version"), "must be a version such as 1.4.0 (set it with"
          + " CONVEYOR_APP_VERSION), got \"" + version + "\"");
    }
    String leaseName = r.string("split-brain.lease-name");
    if (!leaseName.matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?")) {
      throw new SettingsException(r.key("split-brain.lease-name"),
          "must be a Kubernetes object name (lower-case letters, digits, '-' and '.'), got \"" + leaseName + "\"");
    }
    return new Membership(r.string("bind-hostname"), discovery, r.string("discovery.pod-label-selector"),
        r.string("discovery.port-name"), r.string("discovery.container-name"),
        r.intAtLeast("discovery.required-contact-points", 1), strategy, leaseName, version);
  }

  private static String oneOf(ConfigReader r, String key, List<String> allowed) {
    String v = r.string(key);
    if (!allowed.contains(v)) {
      throw new SettingsException(r.key(key), "must be one of " + allowed + ", got \"" + v + "\"");
    }
    return v;
  }
}
