package dev.conveyor.config;

import com.typesafe.config.Config;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Optional;

/**
 * How to reach the S3 endpoint that holds shards.
 *
 * @param endpoint        an explicit endpoint URL, empty for AWS itself
 * @param accessKeyId     static credentials, or empty (with {@code secretAccessKey}) for the default chain
 * @param secretAccessKey never logged: {@link #toString()} masks it
 */
public record S3Settings(
    Optional<URI> endpoint,
    String region,
    boolean pathStyle,
    String accessKeyId,
    String secretAccessKey,
    long partSizeBytes,
    int maxConcurrency,
    double targetThroughputGbps,
    long readBufferBytes,
    Reads reads) {

  /**
   * How shards are read: the loader's own ranged GETs, retries, watchdog, breaker and
   * concurrency control (the SDK's retries are off, so every retry is counted here).
   *
   * @param partsInFlight        ranged GETs of one shard in flight at once
   * @param memoryBudgetBytes    bytes all shards' extra parts (beyond one per shard) may hold at once
   * @param stallTimeoutMillis   a GET that receives no byte for this long is cut off and resumed
   * @param maxAttempts          attempts of one part in a row that bring no byte, before the read fails
   * @param baseDelayMillis      first backoff; it doubles each attempt, and a uniformly drawn part of it is slept (full jitter)
   * @param maxDelayMillis       cap of the backoff
   * @param breakerFailures      failures in a row (over all reads) that open the circuit breaker
   * @param breakerOpenMillis    how long the breaker stays open before one probe request is let through
   * @param maxOutageMillis      how long a read waits on an open breaker before it fails
   * @param minConcurrency       floor of the adaptive concurrency (AIMD: halved on throttling, +1 per window of successes)
   */
  public record Reads(int partsInFlight, long memoryBudgetBytes, long stallTimeoutMillis, int maxAttempts,
                      long baseDelayMillis, long maxDelayMillis, int breakerFailures, long breakerOpenMillis,
                      long maxOutageMillis, int minConcurrency) {
    static Reads fromConfig(ConfigReader r) {
      return new Reads(
          r.intAtLeast("read.parts-in-flight", 1),
          r.bytesAtLeast("read.memory-budget", 0),
          r.durationMillisAtLeast("read.stall-timeout", 1),
          r.intAtLeast("retry.max-attempts", 1),
          r.durationMillisAtLeast("retry.base-delay", 1),
          r.durationMillisAtLeast("retry.max-delay", 1),
          r.intAtLeast("breaker.failures", 1),
          r.durationMillisAtLeast("breaker.open-time", 1),
          r.durationMillisAtLeast("breaker.max-outage", 1),
          r.intAtLeast("min-concurrency", 1));
    }
  }

  public static final String PATH = "conveyor.s3";

  public S3Settings {
    if (accessKeyId.isEmpty() != secretAccessKey.isEmpty()) {
      throw new SettingsException(PATH + (accessKeyId.isEmpty() ? ".access-key-id" : ".secret-access-key"),
          "is empty while its partner is set: give both static credentials, or neither to use the default provider chain");
    }
  }

  public static S3Settings fromConfig(Config config) {
    ConfigReader r = new ConfigReader(config, PATH);
    return new S3Settings(
        endpoint(r),
        r.string("region"),
        r.bool("path-style"),
        r.string("access-key-id"),
        r.string("secret-access-key"),
        r.bytesAtLeast("part-size", 64 * 1024),
        r.intAtLeast("max-concurrency", 1),
        r.positiveDouble("target-throughput-gbps"),
        r.bytesAtLeast("read-buffer-size", 64 * 1024),
        Reads.fromConfig(r));
  }

  /** True when static credentials are configured. */
  public boolean hasStaticCredentials() {
    return !accessKeyId.isEmpty();
  }

  /** The same settings with another endpoint and static credentials, as the embedded server needs. */
  public S3Settings withEndpoint(URI uri, String keyId, String secret) {
    return new S3Settings(Optional.of(uri), region, true, keyId, secret,
        partSizeBytes, maxConcurrency, targetThroughputGbps, readBufferBytes, reads);
  }

  private static Optional<URI> endpoint(ConfigReader r) {
    String raw = r.string("endpoint");
    if (raw.isEmpty()) {
      return Optional.empty();
    }
    try {
      URI uri = new URI(raw);
      if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
        throw new SettingsException(r.key("endpoint"), "must be an http:// or https:// URL with a host, got \"" + raw + "\"");
      }
      return Optional.of(uri);
    } catch (URISyntaxException e) {
      throw new SettingsException(r.key("endpoint"), "is not a URL: " + e.getMessage());
    }
  }

  @Override
  public String toString() {
    return "S3Settings[endpoint=" + endpoint.map(URI::toString).orElse("aws") + ", region=" + region
        + ", pathStyle=" + pathStyle + ", accessKeyId=" + (accessKeyId.isEmpty() ? "<default chain>" : accessKeyId)
        + ", secretAccessKey=" + (secretAccessKey.isEmpty() ? "" : "****") + ", partSizeBytes=" + partSizeBytes
        + ", maxConcurrency=" + maxConcurrency + ", targetThroughputGbps=" + targetThroughputGbps
        + ", readBufferBytes=" + readBufferBytes + ", reads=" + reads + "]";
  }
}
