package dev.conveyor.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.conveyor.config.SettingsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Layers configuration: flags over {@code --set} pairs over a config file over reference.conf. */
final class ConfigOverlay {
  private Config config;

  ConfigOverlay(Optional<Path> file) {
    Config base = ConfigFactory.defaultReference();
    if (file.isPresent()) {
      Path f = file.get();
      if (!Files.isRegularFile(f)) {
        throw new ConveyorCli.UsageException("config file " + f + " does not exist");
      }
      try {
        base = ConfigFactory.parseFile(f.toFile()).withFallback(base);
      } catch (ConfigException e) {
        throw new ConveyorCli.UsageException("config file " + f + " is not valid HOCON: " + e.getMessage());
      }
    }
    this.config = base;
  }

  /** {@code layer}'s settings over what is there so far (a pipeline's, over its job file). */
  ConfigOverlay over(Config layer) {
    config = layer.withFallback(config);
    return this;
  }

  /** {@code --set key=value} pairs; values are HOCON (so "64MiB", true and lists work). */
  ConfigOverlay set(List<String> pairs) {
    for (String pair : pairs) {
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        throw new ConveyorCli.UsageException("--set takes KEY=VALUE, got \"" + pair + "\"");
      }
      String key = pair.substring(0, eq).trim();
      try {
        config = ConfigFactory.parseString(key + " = " + pair.substring(eq + 1)).withFallback(config);
      } catch (ConfigException e) {
        try {
          config = config.withValue(key, ConfigValueFactory.fromAnyRef(pair.substring(eq + 1)));
        } catch (ConfigException e2) {
          throw new SettingsException(key, "cannot be set from \"" + pair + "\": " + e2.getMessage());
        }
      }
    }
    return this;
  }

  /** One flag's value for {@code key}, if the flag was given. */
  ConfigOverlay flag(String key, Object value) {
    if (value != null) {
      config = config.withValue(key, ConfigValueFactory.fromAnyRef(value));
    }
    return this;
  }

  ConfigOverlay flags(Map<String, Object> values) {
    values.forEach(this::flag);
    return this;
  }

  Config config() {
    return config.resolve();
  }
}
