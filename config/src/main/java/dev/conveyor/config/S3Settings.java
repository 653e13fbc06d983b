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
    long readBufferBytes) {

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
        r.bytesAtLeast("part-size", 5L * 1024 * 1024),
        r.intAtLeast("max-concurrency", 1),
        r.positiveDouble("target-throughput-gbps"),
        r.bytesAtLeast("read-buffer-size", 64 * 1024));
  }

  /** True when static credentials are configured. */
  public boolean hasStaticCredentials() {
    return !accessKeyId.isEmpty();
  }

  /** The same settings with another endpoint and static credentials, as the embedded server needs. */
  public S3Settings withEndpoint(URI uri, String keyId, String secret) {
    return new S3Settings(Optional.of(uri), region, true, keyId, secret,
        partSizeBytes, maxConcurrency, targetThroughputGbps, readBufferBytes);
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
        + ", readBufferBytes=" + readBufferBytes + "]";
  }
}
