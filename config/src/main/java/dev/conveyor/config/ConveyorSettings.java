package dev.conveyor.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

/** Everything a job process is configured with, parsed and validated at start-up. */
public record ConveyorSettings(JobSettings job, S3Settings s3, DecodeSettings decode, StageSettings stages) {

  /** Parses {@code config} (already layered over the defaults) and validates every key. */
  public static ConveyorSettings fromConfig(Config config) {
    return new ConveyorSettings(JobSettings.fromConfig(config), S3Settings.fromConfig(config), DecodeSettings.fromConfig(config),
        StageSettings.fromConfig(config));
  }

  /** The defaults of reference.conf, with nothing layered on them. */
  public static Config defaults() {
    return ConfigFactory.defaultReference();
  }
}
