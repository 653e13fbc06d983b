package dev.conveyor.streams.synth;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code shards.json}: every shard of a dataset with its size, sample count and SHA-256,
 * written beside the shards by {@code conveyor datagen}.
 */
public record Manifest(List<ShardInfo> shards) {
  public static final String FILE_NAME = "shards.json";

  public Manifest {
    shards = List.copyOf(shards);
  }

  public long samples() {
    return shards.stream().mapToLong(ShardInfo::samples).sum();
  }

  public long bytes() {
    return shards.stream().mapToLong(ShardInfo::bytes).sum();
  }

  /** The shards as a recipe lists them: each one's URI under {@code base} (where they lie) and its sample count. */
  public dev.conveyor.streams.plan.ShardSet shardSet(java.net.URI base) {
    List<String> names = new ArrayList<>();
    int[] counts = new int[shards.size()];
    for (int i = 0; i < counts.length; i++) {
      names.add(DatasetGenerator.child(base, shards.get(i).name()).toString());
      counts[i] = Math.toIntExact(shards.get(i).samples());
    }
    return new dev.conveyor.streams.plan.ShardSet(names, counts);
  }

  /** Entries by name, for many look-ups. */
  public Map<String, ShardInfo> byName() {
    Map<String, ShardInfo> m = new HashMap<>();
    shards.forEach(s -> m.put(s.name(), s));
    return m;
  }

  public String toJson() {
    StringBuilder b = new StringBuilder("{\n  \"version\": 1,\n  \"samples\": ").append(samples())
        .append(",\n  \"bytes\": ").append(bytes()).append(",\n  \"shards\": [\n");
    for (int i = 0; i < shards.size(); i++) {
      ShardInfo s = shards.get(i);
      b.append("    {\"name\": ").append(Json.quote(s.name()))
          .append(", \"bytes\": ").append(s.bytes())
          .append(", \"samples\": ").append(s.samples())
          .append(", \"sha256\": ").append(Json.quote(s.sha256())).append('}')
          .append(i + 1 < shards.size() ? ",\n" : "\n");
    }
    return b.append("  ]\n}\n").toString();
  }

  /** Parses a manifest; the message of a failure says which field is wrong. */
  public static Manifest parse(String json) {
    try {
      Config c = ConfigFactory.parseString(json, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
      List<ShardInfo> shards = new ArrayList<>();
      for (Config s : c.getConfigList("shards")) {
        shards.add(new ShardInfo(s.getString("name"), s.getLong("bytes"), s.getLong("samples"), s.getString("sha256")));
      }
      return new Manifest(shards);
    } catch (ConfigException e) {
      throw new IllegalArgumentException("not a valid " + FILE_NAME + ": " + e.getMessage(), e);
    }
  }
}
