package dev.conveyor.cli;

import dev.conveyor.config.S3Settings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;

/** The options of commands that reach a store by themselves (datagen, index): where the S3 settings come from. */
final class S3Options {
  @Option(names = "--config", paramLabel = "FILE", description = "A config file with conveyor.s3 settings for s3:// data.")
  Path configFile;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Any setting, e.g. --set conveyor.s3.endpoint=http://127.0.0.1:9000")
  List<String> sets = new ArrayList<>();

  S3Settings settings() {
    return S3Settings.fromConfig(new ConfigOverlay(Optional.ofNullable(configFile)).set(sets).config());
  }
}
