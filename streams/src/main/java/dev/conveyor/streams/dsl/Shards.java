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

  /**
   * Where a batch job writes its samples ({@link Pipeline#write}): WebDataset tar shards under
   * the folder {@code uri} ({@code s3://bucket/captions/} or {@code file:///data/captions/}),
   * about 256 MiB each unless {@link Out#shardSize} says otherwise.
   */
  public static Out to(String uri) {
    return new Out(uri, 256L << 20);
  }

  /** A sink's folder and shard size. */
  public record Out(String uri, long shardSize) {
    public Out {
      requireNonNull(uri, "uri is null");
      // checked now, where the author wrote it, as the job's settings will be
      new dev.conveyor.config.SinkSettings(uri, shardSize);
    }

    /** Shards of about {@code size} ("256MB", "64MiB", "1GiB"): a shard is committed at the end of the batch that fills it. */
    public Out shardSize(String size) {
      long bytes;
      try {
        bytes = com.typesafe.config.ConfigFactory.parseString("s = \"" + size + "\"").getBytes("s");
      } catch (com.typesafe.config.ConfigException e) {
        throw new IllegalArgumentException("shardSize(\"" + size + "\") is not a size such as \"256MB\" or \"64MiB\"");
      }
      return new Out(uri, bytes);
    }
  }
}
