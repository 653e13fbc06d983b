package dev.conveyor.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.ConveyorSettings;
import dev.conveyor.orchestrator.client.JobPlanner;
import dev.conveyor.streams.catalog.Catalog;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.manifest.ShardInfo;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.plan.WindowSlice;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.apache.pekko.stream.Materializer;

/**
 * A recipe over a catalog at scale: a synthetic dataset's {@code shards.json} and
 * {@code catalog.parquet} of {@code rows} samples ({@code perShard} to a shard; each row a key,
 * its place, its members and four fields drawn from a hash of its number: {@code label} 0–9,
 * {@code quality} in [0, 1), {@code width}, {@code lang}), made by DuckDB from {@code range(rows)};
 * then the job's recipe planned as {@code run} plans it — the manifest read, the catalog read
 * through the job's store, checked, queried with {@code where}, the chosen samples listed per
 * shard — and the plan sought to a mid-epoch cursor, down to a rank's next sample. Reports each
 * step's seconds and the heap's peak (run it with {@code -Xmx1g} to show it fits in 1 GiB).
 */
public final class CatalogBench {
  private CatalogBench() {}

  /** What one run measured. */
  public record Result(long rows, int shards, long chosen, String where, double makeSeconds, long catalogBytes,
                       double recipeSeconds, double seekSeconds, double peakHeapMb, long maxHeapMb) {
    public ObjectNode json() {
      return Json.object().put("rows", rows).put("shards", shards).put("chosen", chosen).put("where", where)
          .put("make_s", Json.fixed(makeSeconds, 2)).put("catalog_bytes", catalogBytes)
          .put("recipe_s", Json.fixed(recipeSeconds, 2)).put("seek_s", Json.fixed(seekSeconds, 3))
          .put("peak_heap_mb", Json.fixed(peakHeapMb, 1)).put("max_heap_mb", maxHeapMb);
    }

    public String text() {
      return String.format(Locale.ROOT, "catalog of %,d rows in %,d shards (%.1f MB of Parquet, made in %.1f s)%n"
              + "  where %s chose %,d: recipe planned in %.2f s (manifest, catalog read, checked and queried, chosen"
              + " samples listed), a mid-epoch seek %.3f s%n  heap peak %.0f MB of the %d MB allowed",
          rows, shards, catalogBytes / 1e6, makeSeconds, where, chosen, recipeSeconds, seekSeconds, peakHeapMb,
          maxHeapMb);
    }
  }

  public static Result run(Path dir, long rows, int perShard, String where, Materializer mat, Consumer<String> notice)
      throws Exception {
    int shards = Math.toIntExact((rows + perShard - 1) / perShard);
    long t0 = System.nanoTime();
    make(dir, rows, perShard, shards);
    double make = (System.nanoTime() - t0) / 1e9;
    notice.accept(String.format(Locale.ROOT, "made a catalog of %,d rows in %.1f s", rows, make));
    System.gc();
    resetPeaks();
    long t1 = System.nanoTime();
    ConveyorSettings settings = ConveyorSettings.fromConfig(ConfigFactory.parseString(
            "conveyor.job { shards = \"" + dir.resolve("shards.json").toUri() + "\", decode = none, world-size = 8,"
                + " batch-size = 256, where = \"\"\"" + where + "\"\"\" }")
        .withFallback(ConfigFactory.load()));
    Recipe recipe = new JobPlanner(mat, notice).plan(settings).recipe();
    double planned = (System.nanoTime() - t1) / 1e9;
    long t2 = System.nanoTime();
    DataPlan plan = new DataPlan(recipe);
    long steps = Math.max(1, recipe.shards().total() / (8L * 256));
    Cursor c = Cursor.start(recipe.fingerprint(), 8).atEpoch(3, 8);
    for (int r = 0; r < 8; r++) {
      c = c.withDelivered(r, steps / 2 + r);
    }
    List<WindowSlice> toRead = plan.rank(c, 8, 5).toRead();
    if (!toRead.isEmpty()) {
      plan.tasks(toRead.get(0).window());
    }
    double seek = (System.nanoTime() - t2) / 1e9;
    return new Result(rows, shards, recipe.shards().total(), where, make, Files.size(dir.resolve(Catalog.FILE_NAME)),
        planned, seek, peakHeapMb(), Runtime.getRuntime().maxMemory() >> 20);
  }

  /** The synthetic dataset's shards.json and catalog.parquet (no shard: the recipe reads none). */
  static void make(Path dir, long rows, int perShard, int shards) throws Exception {
    Files.createDirectories(dir);
    List<ShardInfo> infos = new ArrayList<>(shards);
    for (int s = 0; s < shards; s++) {
      long n = Math.min(perShard, rows - (long) s * perShard);
      infos.add(new ShardInfo(String.format(Locale.ROOT, "part-%06d.tar", s), n * 12_288, n, "", true));
    }
    String manifest = new Manifest(infos).toJson();
    Files.writeString(dir.resolve(Manifest.FILE_NAME), manifest, StandardCharsets.UTF_8);
    try (Connection db = DriverManager.getConnection("jdbc:duckdb:"); Statement st = db.createStatement()) {
      st.execute("SET threads = 2");
      st.execute("COPY (SELECT lpad(i::VARCHAR, 9, '0') AS key, 'part-' || lpad((i // " + perShard + ")::VARCHAR, 6, '0')"
          + " || '.tar' AS shard, (i % " + perShard + ")::INTEGER AS sample, (i % " + perShard + ") * 12288 AS \"offset\","
          + " 12288::BIGINT AS length, ['jpg', 'json'] AS members, 11776::BIGINT AS \"bytes.jpg\","
          + " 512::BIGINT AS \"bytes.json\", (hash(i) % 10)::BIGINT AS label, (hash(i * 7 + 1) % 1000) / 1000.0 AS quality,"
          + " 200 + (hash(i * 13 + 5) % 400)::BIGINT AS width, CASE WHEN hash(i * 3) % 4 = 0 THEN 'de' ELSE 'en' END AS lang"
          + " FROM range(" + rows + ") t(i)) TO '" + dir.resolve(Catalog.FILE_NAME) + "' (FORMAT parquet,"
          + " COMPRESSION zstd, KV_METADATA {corpus_version: '" + Catalog.corpusVersion(manifest) + "'})");
    }
  }

  private static void resetPeaks() {
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP) {
        p.resetPeakUsage();
      }
    }
  }

  private static double peakHeapMb() {
    long peak = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP) {
        peak += p.getPeakUsage().getUsed();
      }
    }
    return peak / 1e6;
  }
}
