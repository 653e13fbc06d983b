package dev.conveyor.streams.catalog;

import static dev.conveyor.streams.catalog.CatalogWriter.literal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A dataset's catalog ({@value #FILE_NAME}, beside {@code shards.json}): one row per sample, its
 * shard and place, its members' sizes and its {@code json} fields ({@link CatalogWriter}), the
 * corpus version in its metadata. A recipe's {@code where} is SQL over its columns, run by an
 * embedded DuckDB; what it chooses is, per shard, the numbers of the chosen samples.
 */
public final class Catalog implements AutoCloseable {
  public static final String FILE_NAME = "catalog.parquet";
  static final String VERSION_KEY = "corpus_version";
  static final Set<String> RESERVED = Set.of("key", "shard", "sample", "offset", "length", "members");
  private static final Pattern UNKNOWN_COLUMN = Pattern.compile("Referenced column \"?([^\"\\s]+)\"? not found");

  /** Why a catalog or a query over it cannot be used: one line, naming what is wrong. */
  public static final class CatalogException extends Exception {
    private static final long serialVersionUID = 1L;

    public CatalogException(String message) {
      super(message);
    }
  }

  /** A column of the catalog: its name and SQL type. */
  public record Column(String name, String type) {}

  /**
   * What a {@code where} chose: the numbers of the chosen samples of each shard that has any
   * (ascending) and where the last of them ends in the shard, how many of how many rows, and
   * the chosen samples' bytes.
   */
  public record Chosen(Map<String, int[]> samples, Map<String, Long> ends, long chosen, long rows, long bytes) {}

  private final Path file;
  private final Connection db;
  private final List<Column> columns;
  /** What the queries read: the catalog's rows (a table function or a subquery). */
  private final String rows;

  private Catalog(Path file, Connection db, List<Column> columns, String rows) {
    this.file = file;
    this.db = db;
    this.columns = columns;
    this.rows = rows;
  }

  /**
   * The dataset's catalog in {@code own} joined with {@code other}, a Parquet catalog written by
   * another tool: one row per sample, {@code key} and {@code shard} (as {@code shards.json} names
   * it) and whatever fields it has; a {@code where} runs over both catalogs' columns (theirs where
   * both have a field), and the dataset's catalog places the samples. A row of {@code other} that names a sample the dataset does not
   * hold, or names one twice, is refused.
   */
  public static Catalog joined(Path own, Path other) throws CatalogException {
    Catalog dataset = open(own);
    Connection db = dataset.db;
    String theirs = "read_parquet(" + literal(other.toString()) + ")";
    try (Statement st = db.createStatement()) {
      List<String> names = describe(db, theirs).stream().map(Column::name).toList();
      if (!names.contains("key") || !names.contains("shard")) {
        throw new CatalogException("the catalog " + other + " needs the columns \"key\" and \"shard\" (it has "
            + String.join(", ", names) + ")");
      }
      // the dataset's columns, then theirs (a field both have: theirs, the newer word)
      StringJoiner select = new StringJoiner(", ");
      for (Column c : dataset.columns) {
        if (List.of("key", "shard", "sample", "offset", "length").contains(c.name()) || !names.contains(c.name())) {
          select.add("c." + sqlName(c.name()));
        }
      }
      names.stream().filter(n -> !n.equals("key") && !n.equals("shard")).forEach(n -> select.add("o." + sqlName(n)));
      String placed = "(SELECT " + select + " FROM " + theirs + " o JOIN " + dataset.rows + " c USING (shard, key))";
      try (ResultSet rs = st.executeQuery("SELECT count(*), count(DISTINCT (shard, key)) FROM " + theirs)) {
        rs.next();
        long all = rs.getLong(1);
        if (rs.getLong(2) != all) {
          throw new CatalogException("the catalog " + other + " names " + (all - rs.getLong(2)) + " sample(s) twice");
        }
        try (ResultSet missing = db.createStatement().executeQuery("SELECT shard, key FROM " + theirs + " o ANTI JOIN "
            + dataset.rows + " c USING (shard, key) LIMIT 1")) {
          if (missing.next()) {
            throw new CatalogException("the catalog " + other + " names samples the dataset does not hold (first: "
                + missing.getString(1) + " " + missing.getString(2) + "): it is not a catalog of this dataset");
          }
        }
      }
      return new Catalog(own, db, describe(db, placed), placed);
    } catch (SQLException e) {
      close(db);
      throw new CatalogException("the catalog " + other + " cannot be read as Parquet: " + firstLine(e));
    } catch (CatalogException e) {
      close(db);
      throw e;
    }
  }

  /** The catalog in {@code file}: a Parquet file with at least the columns {@code key} and {@code shard}. */
  public static Catalog open(Path file) throws CatalogException {
    if (!Files.isRegularFile(file)) {
      throw new CatalogException("no catalog at " + file);
    }
    Connection db = null;
    try {
      db = open();
      String rows = "read_parquet(" + literal(file.toString()) + ")";
      List<Column> columns = describe(db, rows);
      List<String> names = columns.stream().map(Column::name).toList();
      for (String needed : List.of("key", "shard", "sample", "offset", "length")) {
        if (!names.contains(needed)) {
          throw new CatalogException("the catalog " + file + " has no column \"" + needed + "\" (it has "
              + String.join(", ", names) + ")");
        }
      }
      return new Catalog(file, db, columns, rows);
    } catch (SQLException e) {
      close(db);
      throw new CatalogException("the catalog " + file + " cannot be read as Parquet: " + firstLine(e));
    } catch (CatalogException e) {
      close(db);
      throw e;
    }
  }

  /** The columns of {@code rows} (a table function or a subquery), in order. */
  private static List<Column> describe(Connection db, String rows) throws SQLException {
    List<Column> columns = new ArrayList<>();
    try (Statement st = db.createStatement(); ResultSet rs = st.executeQuery("DESCRIBE SELECT * FROM " + rows)) {
      while (rs.next()) {
        columns.add(new Column(rs.getString("column_name"), rs.getString("column_type")));
      }
    }
    return List.copyOf(columns);
  }

  /** The catalog's columns, in order. */
  public List<Column> columns() {
    return columns;
  }

  /** The corpus version its metadata names, if it names one. */
  public Optional<String> version() throws CatalogException {
    try (Statement st = db.createStatement();
         ResultSet rs = st.executeQuery("SELECT decode(value) FROM parquet_kv_metadata(" + literal(file.toString())
             + ") WHERE decode(key) = " + literal(VERSION_KEY))) {
      return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
    } catch (SQLException e) {
      throw new CatalogException("the catalog " + file + "'s metadata cannot be read: " + firstLine(e));
    }
  }

  /**
   * The samples {@code where} (SQL over the columns; blank: every sample) chooses. A syntax error
   * or a column the catalog lacks is a {@link CatalogException} naming it and listing the columns.
   */
  public Chosen choose(String where) throws CatalogException {
    String filter = where.isBlank() ? "TRUE" : "(" + where + ")";
    String from = "FROM " + rows;
    Map<String, int[]> samples = new LinkedHashMap<>();
    Map<String, Long> ends = new LinkedHashMap<>();
    long chosen = 0;
    long bytes = 0;
    try (Statement st = db.createStatement()) {
      long rows;
      try (ResultSet rs = st.executeQuery("SELECT count(*) " + from)) {
        rs.next();
        rows = rs.getLong(1);
      }
      try (ResultSet rs = st.executeQuery("SELECT shard, list(sample ORDER BY sample), sum(length), "
          + "max(\"offset\" + length) " + from
          + " WHERE " + filter + " GROUP BY shard ORDER BY shard")) {
        while (rs.next()) {
          Array list = rs.getArray(2);
          Object[] items = (Object[]) list.getArray();
          int[] numbers = new int[items.length];
          for (int i = 0; i < items.length; i++) {
            numbers[i] = ((Number) items[i]).intValue();
          }
          samples.put(rs.getString(1), numbers);
          ends.put(rs.getString(1), rs.getLong(4));
          chosen += numbers.length;
          bytes += rs.getLong(3);
        }
      }
      return new Chosen(samples, ends, chosen, rows, bytes);
    } catch (SQLException e) {
      throw new CatalogException(whyNot(where, e));
    }
  }

  private String whyNot(String where, SQLException e) {
    String columnsText = String.join(", ", columns.stream().map(c -> quoted(c.name())).toList());
    Matcher m = UNKNOWN_COLUMN.matcher(e.getMessage());
    if (m.find()) {
      return "where = \"" + where + "\": the catalog has no column " + m.group(1) + "; its columns: " + columnsText;
    }
    return "where = \"" + where + "\" is not a filter over the catalog: " + firstLine(e) + " (its columns: "
        + columnsText + ")";
  }

  /** A column's name quoted, as SQL always accepts it. */
  private static String sqlName(String name) {
    return "\"" + name.replace("\"", "\"\"") + "\"";
  }

  /** A column's name as SQL names it: quoted when it is not a plain identifier (a json field's {@code a.b}). */
  static String quoted(String name) {
    return name.matches("[A-Za-z_][A-Za-z0-9_]*") ? name : "\"" + name.replace("\"", "\"\"") + "\"";
  }

  /** The corpus version of a dataset whose {@code shards.json} is {@code manifest}: its sha256. */
  public static String corpusVersion(String manifest) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(manifest.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An in-memory DuckDB, at most 2 threads and 512 MB of native memory (a planner, not a query server). */
  static Connection open() throws SQLException {
    try {
      Class.forName("org.duckdb.DuckDBDriver");
    } catch (ClassNotFoundException e) {
      throw new SQLException("DuckDB's JDBC driver is not on the class path", e);
    }
    Connection c = DriverManager.getConnection("jdbc:duckdb:");
    try (Statement st = c.createStatement()) {
      st.execute("SET threads = 2");
      st.execute("SET memory_limit = '512MB'");
    }
    return c;
  }

  private static String firstLine(SQLException e) {
    String m = String.valueOf(e.getMessage()).strip();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  private static void close(Connection db) {
    if (db != null) {
      try {
        db.close();
      } catch (SQLException ignored) {
        // nothing to keep
      }
    }
  }

  @Override
  public void close() {
    close(db);
  }
}
