package dev.conveyor.streams.manifest;

import static java.util.Objects.requireNonNull;

/** One shard as the manifest lists it; {@code indexed}: a {@link dev.conveyor.streams.store.ShardIndex} lies beside it. */
public record ShardInfo(String name, long bytes, long samples, String sha256, boolean indexed) {
  public ShardInfo {
    requireNonNull(name, "name is null");
    requireNonNull(sha256, "sha256 is null");
  }

  /** A shard without an index. */
  public ShardInfo(String name, long bytes, long samples, String sha256) {
    this(name, bytes, samples, sha256, false);
  }

  public ShardInfo withIndex() {
    return new ShardInfo(name, bytes, samples, sha256, true);
  }
}
