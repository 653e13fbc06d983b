package dev.conveyor.config;

import com.typesafe.config.Config;

/**
 * Where a batch job writes its samples instead of feeding trainers: the {@code conveyor.job.sink}
 * section (a pipeline's {@code .write(Shards.to(…))} sets it). Each rank writes WebDataset tar
 * shards of about {@code shardSize} bytes under {@code to}, each committed whole, with its
 * per-sample index; {@code shards.json} lists them when the job ends.
 *
 * @param to        a folder: {@code s3://bucket/prefix/} or {@code file:///dir/}
 * @param shardSize a shard is committed once it holds this many bytes (at a batch's end), or at
 *                  the end of its rank's epoch
 */
public record SinkSettings(String to, long shardSize) {
  public static final String PATH = JobSettings.PATH + ".sink";

  public SinkSettings {
    if (!(to.startsWith("s3://") || to.startsWith("file:/"))) {
      throw new SettingsException(PATH + ".to", "is a folder URI, s3://bucket/prefix/ or file:///dir/, got \"" + to
          + "\"");
    }
    if (!to.endsWith("/")) {
      to = to + "/";
    }
    if (shardSize < 1) {
      throw new SettingsException(PATH + ".shard-size", "must be at least 1 byte, got " + shardSize);
    }
  }

  /** The sink the configuration names, if {@code to} is set. */
  public static java.util.Optional<SinkSettings> fromConfig(Config config) {
    ConfigReader r = new ConfigReader(config, PATH);
    String to = r.string("to");
    return to.isBlank() ? java.util.Optional.empty()
        : java.util.Optional.of(new SinkSettings(to.strip(), r.bytesAtLeast("shard-size", 1)));
  }
}
