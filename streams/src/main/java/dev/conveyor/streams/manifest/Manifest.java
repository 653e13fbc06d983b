package dev.conveyor.streams.manifest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.streams.json.Json;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code shards.json}: every shard of a dataset with its size, sample count and SHA-256, and
 * for a shard with a per-sample byte index beside it the index's name
 * ({@code "index": "NAME.idx.json"}, see {@link dev.conveyor.streams.store.ShardIndex});
 * written beside the shards by {@code conveyor datagen} and {@code conveyor index}.
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
      names.add(child(base, shards.get(i).name()).toString());
      counts[i] = Math.toIntExact(shards.get(i).samples());
    }
    return new dev.conveyor.streams.plan.ShardSet(names, counts);
  }

  /** The file {@code name} in the dataset folder {@code base} (with or without its trailing slash). */
  public static java.net.URI child(java.net.URI base, String name) {
    String b = base.toString();
    return java.net.URI.create(b.endsWith("/") ? b + name : b + "/" + name);
  }

  /** Entries by name, for many look-ups. */
  public Map<String, ShardInfo> byName() {
    Map<String, ShardInfo> m = new HashMap<>();
    shards.forEach(s -> m.put(s.name(), s));
    return m;
  }

  public String toJson() {
    ObjectNode m = Json.object().put("version", 1).put("samples", samples()).put("bytes", bytes());
    ArrayNode list = m.putArray("shards");
    for (ShardInfo s : shards) {
      ObjectNode o = list.addObject().put("name", s.name()).put("bytes", s.bytes()).put("samples", s.samples())
          .put("sha256", s.sha256());
      if (s.indexed()) {
        o.put("index", s.name() + dev.conveyor.streams.store.ShardIndex.SUFFIX);
      }
    }
    return Json.pretty(m);
  }

  /** Parses a manifest; the message of a failure says which field is wrong. */
  public static Manifest parse(String json) {
    JsonNode root;
    try {
      root = Json.parse(json);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a valid " + FILE_NAME + ": " + e.getMessage(), e);
    }
    JsonNode list = root.path("shards");
    if (!list.isArray()) {
      throw new IllegalArgumentException("not a valid " + FILE_NAME + ": it has no \"shards\" list");
    }
    List<ShardInfo> shards = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      JsonNode s = list.get(i);
      String name = text(s, i, "name");
      boolean indexed = false;
      if (!s.path("index").isMissingNode()) {
        if (!text(s, i, "index").equals(name + dev.conveyor.streams.store.ShardIndex.SUFFIX)) {
          throw new IllegalArgumentException("not a valid " + FILE_NAME + ": shards[" + i + "].index must be \""
              + name + dev.conveyor.streams.store.ShardIndex.SUFFIX + "\" (the index lies beside its shard)");
        }
        indexed = true;
      }
      shards.add(new ShardInfo(name, number(s, i, "bytes"), number(s, i, "samples"), text(s, i, "sha256"), indexed));
    }
    return new Manifest(shards);
  }

  private static String text(JsonNode shard, int i, String field) {
    JsonNode v = shard.path(field);
    if (!v.isTextual()) {
      throw new IllegalArgumentException("not a valid " + FILE_NAME + ": shards[" + i + "]." + field + " must be a string");
    }
    return v.textValue();
  }

  private static long number(JsonNode shard, int i, String field) {
    JsonNode v = shard.path(field);
    if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
      throw new IllegalArgumentException("not a valid " + FILE_NAME + ": shards[" + i + "]." + field
          + " must be a whole number ≥ 0");
    }
    return v.asLong();
  }
}
