package dev.conveyor.streams.dsl;

import static java.util.Objects.requireNonNull;

import dev.conveyor.streams.plan.ShardList;

/**
 * Where a pipeline's samples come from: a shard URI pattern with brace expansion
 * ({@code s3://bucket/train/part-{000000..000099}.tar}, {@code file:///data/{img,vid}-{0..3}.tar})
 * or a {@code shards.json} manifest. Checked when the pipeline is built; {@code --shards}
 * overrides it at run time.
 */
public record Shards(String pattern) {
  public Shards {
    requireNonNull(pattern, "pattern is null");
    try {
      ShardList.parse(pattern);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Shards.of(\"" + pattern + "\"): " + e.getMessage(), e);
    }
  }

  public static Shards of(String pattern) {
    return new Shards(pattern);
  }
}
