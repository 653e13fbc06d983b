package dev.conveyor.streams.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Collection;

/**
 * The project's one way to read and write JSON (Jackson): the summary, the nodes' status,
 * {@code shards.json}, captions and the benchmarks' figures. Documents are built as trees so
 * that each writer names its fields in the order a reader sees them.
 */
public final class Json {
  private static final ObjectMapper MAPPER = JsonMapper.builder().build();

  private Json() {}

  public static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  public static ArrayNode strings(Collection<String> items) {
    ArrayNode a = MAPPER.createArrayNode();
    items.forEach(a::add);
    return a;
  }

  /**
   * {@code value} with {@code places} decimals, for {@link ObjectNode#put(String, BigDecimal)};
   * null (written as JSON null) when it is not finite.
   */
  public static BigDecimal fixed(double value, int places) {
    return Double.isFinite(value) ? BigDecimal.valueOf(value).setScale(places, RoundingMode.HALF_EVEN) : null;
  }

  /** On one line, as status endpoints and benchmark output print it. */
  public static String compact(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e); // a tree of plain nodes always writes
    }
  }

  /** Indented, ending with a newline, as files are written. */
  public static String pretty(JsonNode node) {
    try {
      return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n";
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses {@code text}; a failure is an {@link IllegalArgumentException} saying where and why. */
  public static JsonNode parse(String text) {
    try {
      JsonNode node = MAPPER.readTree(text);
      if (node == null || node.isMissingNode()) {
        throw new IllegalArgumentException("not valid JSON (empty)");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not valid JSON (" + e.getOriginalMessage() + ", line "
          + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")", e);
    }
  }

  /** {@code text} parsed, or a missing node when it is absent (null) or not valid JSON (not every json member is). */
  public static JsonNode parseOrMissing(String text) {
    if (text == null) {
      return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }
    try {
      return parse(text);
    } catch (IllegalArgumentException e) {
      return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }
  }
}
