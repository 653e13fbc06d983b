package dev.conveyor.streams.synth;

import static java.util.Objects.requireNonNull;

/** One shard as the manifest lists it. */
public record ShardInfo(String name, long bytes, long samples, String sha256) {
  public ShardInfo {
    requireNonNull(name, "name is null");
    requireNonNull(sha256, "sha256 is null");
  }
}
