package dev.conveyor.streams.catalog;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.streams.json.Json;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One sample of a dataset as its catalog lists it: its key, its shard and place in it (the
 * sample's number and its bytes {@code [offset, offset + length)}, as the shard's index has
 * them), its members' sizes by extension, and the fields of its {@code json} member, flattened
 * (a nested object's fields as {@code a.b}; numbers, strings and booleans; an array as its JSON
 * text).
 */
public record CatalogRow(String key, String shard, int sample, long offset, long length, Map<String, Long> members,
                         Map<String, Object> fields) {
  public CatalogRow {
    requireNonNull(key, "key is null");
    requireNonNull(shard, "shard is null");
    members = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(members));
    fields = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(fields));
  }

  /**
   * The fields of a {@code json} member's bytes, flattened; empty when they are not a JSON object
   * (the sample is listed all the same, without fields).
   */
  public static Map<String, Object> fields(byte[] json) {
    Map<String, Object> out = new LinkedHashMap<>();
    JsonNode root;
    try {
      root = Json.parse(new String(json, java.nio.charset.StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      return out;
    }
    if (root != null && root.isObject()) {
      flatten("", root, out);
    }
    return out;
  }

  private static void flatten(String prefix, JsonNode node, Map<String, Object> out) {
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      String name = prefix + f.getKey();
      JsonNode v = f.getValue();
      if (v.isObject()) {
        flatten(name + ".", v, out);
      } else if (v.isIntegralNumber() && v.canConvertToLong()) {
        out.put(name, v.longValue());
      } else if (v.isNumber()) {
        out.put(name, v.doubleValue());
      } else if (v.isBoolean()) {
        out.put(name, v.booleanValue());
      } else if (v.isTextual()) {
        out.put(name, v.textValue());
      } else if (v.isArray()) {
        out.put(name, Json.compact(v));
      } // null: no value
    }
  }
}
