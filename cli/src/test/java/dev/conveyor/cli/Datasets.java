package dev.conveyor.cli;

import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** Synthetic datasets for tests, made by {@code datagen}'s generator. */
public final class Datasets {
  private Datasets() {}

  /** {@code spec}'s dataset in {@code dir}/{@code name} (scratch beside it); the URI of its {@code shards.json}. */
  public static String generate(Path dir, String name, DatasetSpec spec) throws Exception {
    new DatasetGenerator(new FileShardStore(), dir.resolve(name + "-scratch"), 2)
        .generate(spec, dir.resolve(name).toUri(), n -> { });
    return dir.resolve(name).resolve("shards.json").toUri().toString();
  }

  /** Every row of the catalog in {@code file}, as one line each (every column), in the file's order. */
  public static List<String> catalogRows(Path file) throws Exception {
    List<String> rows = new ArrayList<>();
    try (Connection db = DriverManager.getConnection("jdbc:duckdb:"); Statement st = db.createStatement();
         ResultSet rs = st.executeQuery("SELECT * FROM read_parquet('" + file + "')")) {
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        StringBuilder row = new StringBuilder();
        for (int i = 1; i <= n; i++) {
          row.append(rs.getMetaData().getColumnName(i)).append('=').append(rs.getString(i)).append(' ');
        }
        rows.add(row.toString().strip());
      }
    }
    return rows;
  }
}
