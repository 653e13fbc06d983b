package dev.conveyor.streams.store;

import dev.conveyor.config.S3Settings;
import java.net.URI;

/** Picks the store for a URI scheme. */
public final class ShardStores {
  private ShardStores() {}

  /** A store for {@code scheme} ({@code s3} or {@code file}); the caller closes it. */
  public static ShardStore forScheme(String scheme, S3Settings s3) {
    return switch (scheme) {
      case "s3" -> new S3ShardStore(s3);
      case "file" -> new FileShardStore();
      default -> throw new IllegalArgumentException("unsupported shard scheme \"" + scheme + "\": use s3:// or file://");
    };
  }

  /** A store for the scheme of {@code uri}. */
  public static ShardStore forUri(URI uri, S3Settings s3) {
    return forScheme(uri.getScheme() == null ? "" : uri.getScheme(), s3);
  }
}
