package dev.conveyor.streams.catalog;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.streams.json.Json;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Writes a dataset's {@code catalog.parquet}: one row per sample ({@link CatalogRow}), in the
 * order they are added (the manifest's shards, each in order), with the corpus version in the
 * file's key-value metadata. The columns: {@code key}, {@code shard} (its name in
 * {@code shards.json}), {@code sample} (its number in the shard), {@code offset} and
 * {@code length} (its bytes), {@code members} (the members' extensions), {@code bytes.EXT}
 * (each member's size; null where a sample has no such member), then the {@code json} fields
 * (one named as a column above as {@code json.NAME}): a field whose values are all integers is a {@code BIGINT}, all numbers a {@code DOUBLE}, all
 * booleans a {@code BOOLEAN}, else a {@code VARCHAR}. The rows go to a scratch file as they come
 * (a catalog of millions of rows is never held in memory); DuckDB writes the Parquet at the end.
 */
public final class CatalogWriter implements AutoCloseable {
  private enum Kind { LONG, DOUBLE, BOOLEAN, STRING }

  private final Path rows;
  private final BufferedWriter out;
  private final Map<String, Kind> fields = new LinkedHashMap<>();
  private final Map<String, Boolean> members = new LinkedHashMap<>();
  private long count;

  /** A writer whose scratch files go under {@code scratch}. */
  public CatalogWriter(Path scratch) throws IOException {
    Files.createDirectories(scratch);
    this.rows = Files.createTempFile(scratch, "catalog-", ".ndjson");
    this.out = Files.newBufferedWriter(rows, StandardCharsets.UTF_8);
  }

  /** Adds {@code batch}, after the rows added before. */
  public synchronized void add(List<CatalogRow> batch) {
    try {
      for (CatalogRow r : batch) {
        ObjectNode o = Json.object().put("key", r.key()).put("shard", r.shard()).put("sample", r.sample())
            .put("offset", r.offset()).put("length", r.length());
        r.members().keySet().forEach(o.putArray("members")::add);
        r.members().forEach((ext, size) -> {
          members.put(ext, true);
          o.put("bytes." + ext, size);
        });
        r.fields().forEach((field, v) -> {
          String name = column(field);
          fields.merge(name, kind(v), CatalogWriter::widen);
          o.putPOJO(name, v);
        });
        out.write(Json.compact(o));
        out.write('\n');
        count++;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not write the catalog's rows to " + rows, e);
    }
  }

  /** Rows added so far. */
  public synchronized long rows() {
    return count;
  }

  /** Writes the Parquet file of the rows added to {@code target}, its metadata naming {@code corpusVersion}. */
  public synchronized void finish(Path target, String corpusVersion) throws IOException {
    out.flush();
    StringJoiner columns = new StringJoiner(", ", "{", "}");
    columns.add("'key': 'VARCHAR'").add("'shard': 'VARCHAR'").add("'sample': 'INTEGER'").add("'offset': 'BIGINT'")
        .add("'length': 'BIGINT'").add("'members': 'VARCHAR[]'");
    members.keySet().forEach(ext -> columns.add(literal("bytes." + ext) + ": 'BIGINT'"));
    fields.forEach((name, kind) -> columns.add(literal(name) + ": '" + sqlType(kind) + "'"));
    try (Connection db = Catalog.open(); Statement st = db.createStatement()) {
      st.execute("COPY (SELECT * FROM read_json(" + literal(rows.toString()) + ", format = 'newline_delimited', "
          + "columns = " + columns + ")) TO " + literal(target.toString()) + " (FORMAT parquet, COMPRESSION zstd, "
          + "KV_METADATA {" + Catalog.VERSION_KEY + ": " + literal(corpusVersion) + "})");
    } catch (SQLException e) {
      throw new IOException("could not write the catalog " + target + ": " + e.getMessage(), e);
    }
  }

  @Override
  public synchronized void close() throws IOException {
    out.close();
    Files.deleteIfExists(rows);
  }

  /** The column of json field {@code field}: its name, or {@code json.NAME} where that is a column of the catalog's own. */
  static String column(String field) {
    return Catalog.RESERVED.contains(field) || field.startsWith("bytes.") ? "json." + field : field;
  }

  private static Kind kind(Object v) {
    return v instanceof Long ? Kind.LONG : v instanceof Double ? Kind.DOUBLE : v instanceof Boolean ? Kind.BOOLEAN
        : Kind.STRING;
  }

  private static Kind widen(Kind a, Kind b) {
    if (a == b) {
      return a;
    }
    boolean numbers = (a == Kind.LONG || a == Kind.DOUBLE) && (b == Kind.LONG || b == Kind.DOUBLE);
    return numbers ? Kind.DOUBLE : Kind.STRING;
  }

  private static String sqlType(Kind k) {
    return switch (k) {
      case LONG -> "BIGINT";
      case DOUBLE -> "DOUBLE";
      case BOOLEAN -> "BOOLEAN";
      case STRING -> "VARCHAR";
    };
  }

  /** {@code s} as an SQL string literal. */
  static String literal(String s) {
    return "'" + s.replace("'", "''") + "'";
  }
}
