package dev.conveyor.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.util.Locale;

/** Reads typed values under one path and turns every failure into a {@link SettingsException}. */
final class ConfigReader {
  private final Config config;
  private final String prefix;

  ConfigReader(Config config, String prefix) {
    this.config = config.getConfig(prefix);
    this.prefix = prefix;
  }

  String key(String name) {
    return prefix + "." + name;
  }

  String string(String name) {
    return read(name, () -> config.getString(name));
  }

  java.util.List<String> stringList(String name) {
    return read(name, () -> config.getStringList(name));
  }

  java.util.List<Integer> intList(String name) {
    return read(name, () -> config.getIntList(name));
  }

  com.typesafe.config.Config config(String name) {
    return read(name, () -> config.getConfig(name));
  }

  java.util.List<? extends com.typesafe.config.Config> configList(String name) {
    return read(name, () -> config.getConfigList(name));
  }

  boolean bool(String name) {
    return read(name, () -> config.getBoolean(name));
  }

  double positiveDouble(String name) {
    double v = read(name, () -> config.getDouble(name));
    if (!(v > 0)) {
      throw new SettingsException(key(name), "must be greater than 0, got " + v);
    }
    return v;
  }

  double nonNegativeDouble(String name) {
    double v = read(name, () -> config.getDouble(name));
    if (!(v >= 0)) {
      throw new SettingsException(key(name), "must be 0 or more, got " + v);
    }
    return v;
  }

  long longAtLeast(String name, long min) {
    long v = read(name, () -> config.getLong(name));
    if (v < min) {
      throw new SettingsException(key(name), "must be at least " + min + ", got " + v);
    }
    return v;
  }

  int intAtLeast(String name, int min) {
    int v = read(name, () -> config.getInt(name));
    if (v < min) {
      throw new SettingsException(key(name), "must be at least " + min + ", got " + v);
    }
    return v;
  }

  long bytesAtLeast(String name, long min) {
    long v = read(name, () -> config.getBytes(name));
    if (v < min) {
      throw new SettingsException(key(name), "must be at least " + min + " bytes, got " + v);
    }
    return v;
  }

  long durationMillisAtLeast(String name, long min) {
    long v = read(name, () -> config.getDuration(name, java.util.concurrent.TimeUnit.MILLISECONDS));
    if (v < min) {
      throw new SettingsException(key(name), "must be at least " + min + " ms, got " + v);
    }
    return v;
  }

  <E extends Enum<E>> E enumValue(String name, Class<E> type) {
    String raw = string(name);
    for (E e : type.getEnumConstants()) {
      if (e.name().toLowerCase(Locale.ROOT).replace('_', '-').equals(raw)) {
        return e;
      }
    }
    StringBuilder allowed = new StringBuilder();
    for (E e : type.getEnumConstants()) {
      allowed.append(allowed.length() == 0 ? "" : " | ").append(e.name().toLowerCase(Locale.ROOT).replace('_', '-'));
    }
    throw new SettingsException(key(name), "must be one of " + allowed + ", got \"" + raw + "\"");
  }

  /**
   * A secret (a password, a token): "" when unset; otherwise it must have come from the
   * environment variable {@code envVar} through reference.conf's {@code ${?VAR}} (or from code),
   * never written in a file or given with --set, where it would sit on disk or in the process
   * list. The value is never part of a message.
   */
  String secret(String name, String envVar) {
    com.typesafe.config.ConfigValue v = read(name, () -> config.getValue(name));
    String s = read(name, () -> config.getString(name));
    String origin = v.origin().description();
    if (!s.isEmpty() && !origin.equals("env variables") && !origin.equals("hardcoded value")) {
      throw new SettingsException(key(name), "is a secret and is read only from the environment variable " + envVar
          + " (found in " + where(v.origin()) + "): remove it there and export " + envVar + " instead");
    }
    return s;
  }

  private static String where(com.typesafe.config.ConfigOrigin o) {
    return o.filename() != null ? o.filename() + (o.lineNumber() > 0 ? " line " + o.lineNumber() : "")
        : o.resource() != null ? o.resource() : "a --set value or a string";
  }

  private <T> T read(String name, java.util.function.Supplier<T> getter) {
    try {
      return getter.get();
    } catch (ConfigException.Missing e) {
      throw new SettingsException(key(name), "is missing (every key has a default in reference.conf: is it on the class path?)");
    } catch (ConfigException.WrongType | ConfigException.BadValue e) {
      throw new SettingsException(key(name), "has the wrong type or value: " + e.getMessage());
    }
  }
}
