package dev.conveyor.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One source of a mixed job:
 * {@code conveyor.job.sources = [ { shards, weight, repeat, name, where, corpus-version, catalog } ]}.
 *
 * @param name   what its counts are reported under (default: {@code source-<index>})
 * @param shards its shards, as {@code conveyor.job.shards} names them (a pattern or a shards.json)
 * @param weight its share of every batch, relative to the others' (default 1)
 * @param repeat whether it starts another pass when it runs out, instead of ending the epoch
 * @param selection which of its samples it gives, by its catalog ({@link Selection#ALL}: every one)
 */
public record SourceSettings(String name, String shards, double weight, boolean repeat, Selection selection) {
  static final String PATH = JobSettings.PATH + ".sources";
  private static final Set<String> KEYS = Set.of("name", "shards", "weight", "repeat", "where", "corpus-version",
      "catalog");

  /** A source of every one of its samples. */
  public SourceSettings(String name, String shards, double weight, boolean repeat) {
    this(name, shards, weight, repeat, Selection.ALL);
  }

  /** The sources a job lists (none: it names {@code shards}); each problem names its key. */
  static List<SourceSettings> list(Config config) {
    List<? extends ConfigValue> values;
    try {
      values = config.getList(PATH);
    } catch (ConfigException e) {
      throw new SettingsException(PATH, "is a list of sources, e.g. [ { shards = \"s3://b/a-{0..9}.tar\", weight = 0.7 } ]");
    }
    List<SourceSettings> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < values.size(); i++) {
      String at = PATH + "[" + i + "]";
      if (values.get(i).valueType() != ConfigValueType.OBJECT) {
        throw new SettingsException(at, "is a source: { shards = \"...\", weight = 0.5 }");
      }
      ConfigObject o = (ConfigObject) values.get(i);
      for (String key : o.keySet()) {
        if (!KEYS.contains(key)) {
          throw new SettingsException(at + "." + key, "is not a source setting: a source has shards, weight, repeat,"
              + " name, where, corpus-version and catalog");
        }
      }
      Config c = o.toConfig();
      String shards = read(c, at, "shards", () -> c.getString("shards"), "");
      if (shards.isBlank()) {
        throw new SettingsException(at + ".shards", "is required: the source's shards, e.g. \"s3://b/a-{0..9}.tar\"");
      }
      double weight = read(c, at, "weight", () -> c.getDouble("weight"), 1.0);
      if (!(weight > 0) || Double.isInfinite(weight)) {
        throw new SettingsException(at + ".weight", "is a source's share: a positive number, got " + weight);
      }
      boolean repeat = read(c, at, "repeat", () -> c.getBoolean("repeat"), false);
      String name = read(c, at, "name", () -> c.getString("name"), "source-" + i);
      if (!names.add(name)) {
        throw new SettingsException(at + ".name", "\"" + name + "\" names another source too: names are unique");
      }
      Selection selection = Selection.read(read(c, at, "where", () -> c.getString("where"), ""),
          read(c, at, "corpus-version", () -> c.getString("corpus-version"), ""),
          read(c, at, "catalog", () -> c.getString("catalog"), ""), at);
      out.add(new SourceSettings(name, shards, weight, repeat, selection));
    }
    if (!out.isEmpty() && out.stream().allMatch(SourceSettings::repeat)) {
      throw new SettingsException(PATH, "every source repeats, so nothing would end an epoch: leave repeat = false on one");
    }
    return List.copyOf(out);
  }

  private static <T> T read(Config c, String at, String key, java.util.function.Supplier<T> get, T otherwise) {
    if (!c.hasPath(key)) {
      return otherwise;
    }
    try {
      return get.get();
    } catch (ConfigException e) {
      throw new SettingsException(at + "." + key, "has the wrong type: " + e.getMessage().replaceAll(".*: ", ""));
    }
  }
}
