package dev.conveyor.config;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * A node's shard cache: the {@code conveyor.node.cache} section.
 *
 * @param enabled            whether reads of the jobs' shards go through the cache
 * @param dir                folder of the entries ("": conveyor-cache in the temp folder)
 * @param bytes              bytes the entries may take on disk
 * @param policy             lru, fifo or plan
 * @param maxEntryBytes      shards larger than this are read through
 * @param quotas             bytes per named tenant
 * @param s3GetsPerSecond    fetches from S3 per second at most (0: no limit)
 * @param sameObjectMillis   one object fetched from S3 at most once per this
 * @param replication        nodes that keep each shard
 * @param slots              ring slots (more than the most worker nodes)
 * @param peerTimeoutMillis  how long a reader waits for an owner
 * @param prefetchBytes      bytes of shards fetched ahead of the plans and not read yet, at most
 */
public record CacheSettings(boolean enabled, String dir, long bytes, String policy, long maxEntryBytes,
                            Map<String, Long> quotas, double s3GetsPerSecond, long sameObjectMillis, int replication,
                            int slots, long peerTimeoutMillis, long prefetchBytes) {
  public static final String PATH = NodeSettings.PATH + ".cache";

  public CacheSettings {
    quotas = Map.copyOf(quotas);
  }

  public static CacheSettings fromConfig(Config config) {
    ConfigReader r = new ConfigReader(config, PATH);
    String policy = r.string("policy");
    if (!policy.equals("plan") && !policy.equals("lru") && !policy.equals("fifo")) {
      throw new SettingsException(r.key("policy"), "must be plan, lru or fifo, got \"" + policy + "\"");
    }
    Map<String, Long> quotas = new TreeMap<>();
    Config q = config.getConfig(PATH + ".quotas");
    ConfigReader qr = new ConfigReader(config, PATH + ".quotas");
    for (String tenant : q.root().keySet()) {
      if (!tenant.matches("[A-Za-z0-9_-]+")) {
        throw new SettingsException(r.key("quotas"), "tenant names are letters, digits, - and _, got \"" + tenant + "\"");
      }
      quotas.put(tenant, qr.bytesAtLeast(tenant, 1));
    }
    return new CacheSettings(r.bool("enabled"), r.string("dir"), r.bytesAtLeast("bytes", 1), policy,
        r.bytesAtLeast("max-entry-bytes", 1), quotas, r.nonNegativeDouble("s3-gets-per-second"),
        r.durationMillisAtLeast("same-object-interval", 0), r.intAtLeast("cluster.replication", 1),
        r.intAtLeast("cluster.slots", 1), r.durationMillisAtLeast("cluster.peer-timeout", 1),
        r.bytesAtLeast("prefetch-bytes", 0));
  }

  /** The folder of the entries. */
  public Path folder() {
    return dir.isEmpty() ? Path.of(System.getProperty("java.io.tmpdir"), "conveyor-cache") : Path.of(dir);
  }
}
