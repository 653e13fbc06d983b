package dev.conveyor.streams.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog as written and queried: json fields flattened into typed columns (nested objects
 * as {@code a.b}, mixed numbers widened, a field named like a catalog column kept as
 * {@code json.NAME}); a {@code where} chooses exactly the rows a Java predicate over the same
 * fields does; the corpus version comes back from the file's metadata; a syntax error or an
 * unknown column is refused naming it and listing the columns; a file that is not a catalog is
 * refused.
 */
class CatalogTest {
  @TempDir
  Path dir;

  static byte[] json(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** 3 shards × 40 samples, with random fields: quality (a double), label (an int), meta.lang, and a key field. */
  List<CatalogRow> rows() {
    List<CatalogRow> out = new ArrayList<>();
    SplittableRandom r = new SplittableRandom(5);
    for (int shard = 0; shard < 3; shard++) {
      long offset = 0;
      for (int i = 0; i < 40; i++) {
        String key = String.format("%02d%03d", shard, i);
        double quality = Math.round(r.nextDouble() * 100) / 100.0;
        String text = "{\"key\": \"" + key + "\", \"quality\": " + (i == 0 ? "1" : String.valueOf(quality))
            + ", \"label\": " + r.nextInt(5) + ", \"meta\": {\"lang\": \"" + (r.nextBoolean() ? "en" : "de")
            + "\", \"ok\": " + r.nextBoolean() + "}, \"tags\": [1, 2], \"gone\": null}";
        Map<String, Long> members = new LinkedHashMap<>();
        members.put("jpg", 1000L + i);
        members.put("json", (long) text.length());
        long length = 3072 + i;
        out.add(new CatalogRow(key, "part-" + shard + ".tar", i, offset, length, members, CatalogRow.fields(json(text))));
        offset += length;
      }
    }
    return out;
  }

  Path written(List<CatalogRow> rows) throws Exception {
    Path file = dir.resolve("catalog.parquet");
    try (CatalogWriter w = new CatalogWriter(dir.resolve("scratch"))) {
      w.add(rows.subList(0, 50));
      w.add(rows.subList(50, rows.size()));
      assertThat(w.rows()).isEqualTo(rows.size());
      w.finish(file, "v-123");
    }
    assertThat(dir.resolve("scratch")).isEmptyDirectory();
    return file;
  }

  @Test
  void fieldsAreFlattenedIntoTypedColumnsAndTheVersionIsInTheMetadata() throws Exception {
    try (Catalog c = Catalog.open(written(rows()))) {
      Map<String, String> types = new LinkedHashMap<>();
      c.columns().forEach(col -> types.put(col.name(), col.type()));
      assertThat(types).containsEntry("key", "VARCHAR").containsEntry("shard", "VARCHAR")
          .containsEntry("sample", "INTEGER").containsEntry("offset", "BIGINT").containsEntry("length", "BIGINT")
          .containsEntry("members", "VARCHAR[]").containsEntry("bytes.jpg", "BIGINT")
          .containsEntry("quality", "DOUBLE") // 1 in the first sample, fractions after: widened
          .containsEntry("label", "BIGINT").containsEntry("meta.lang", "VARCHAR").containsEntry("meta.ok", "BOOLEAN")
          .containsEntry("tags", "VARCHAR").containsEntry("json.key", "VARCHAR").doesNotContainKey("gone");
      assertThat(c.version()).contains("v-123");
    }
  }

  @Test
  void aWhereChoosesExactlyTheRowsItsPredicateHolds() throws Exception {
    List<CatalogRow> rows = rows();
    try (Catalog c = Catalog.open(written(rows))) {
      Catalog.Chosen chosen = c.choose("quality > 0.5 AND \"meta.lang\" = 'en' AND label <> 3");
      Map<String, List<Integer>> expected = new LinkedHashMap<>();
      long bytes = 0;
      for (CatalogRow r : rows) {
        Map<String, Object> f = r.fields();
        if (((Number) f.get("quality")).doubleValue() > 0.5 && f.get("meta.lang").equals("en")
            && (Long) f.get("label") != 3) {
          expected.computeIfAbsent(r.shard(), s -> new ArrayList<>()).add(r.sample());
          bytes += r.length();
        }
      }
      Map<String, List<Integer>> actual = new LinkedHashMap<>();
      chosen.samples().forEach((shard, s) -> actual.put(shard, java.util.Arrays.stream(s).boxed().toList()));
      assertThat(actual).isEqualTo(expected);
      assertThat(chosen.chosen()).isEqualTo(expected.values().stream().mapToLong(List::size).sum()).isPositive()
          .isLessThan(rows.size());
      assertThat(chosen.rows()).isEqualTo(rows.size());
      assertThat(chosen.bytes()).isEqualTo(bytes);
      assertThat(c.choose("").chosen()).as("no filter: every sample").isEqualTo(rows.size());
      assertThat(c.choose("label > 100").samples()).as("nothing chosen").isEmpty();
    }
  }

  @Test
  void aBadFilterIsRefusedNamingWhatIsWrongAndListingTheColumns() throws Exception {
    try (Catalog c = Catalog.open(written(rows()))) {
      assertThatThrownBy(() -> c.choose("qualty > 0.5")).isInstanceOf(Catalog.CatalogException.class)
          .hasMessageContaining("no column qualty").hasMessageContaining("quality, label")
          .hasMessageContaining("\"meta.lang\"");
      assertThatThrownBy(() -> c.choose("quality >> AND 3")).isInstanceOf(Catalog.CatalogException.class)
          .hasMessageContaining("is not a filter over the catalog").hasMessageContaining("syntax error")
          .hasMessageContaining("its columns: key, shard");
    }
  }

  @Test
  void aFileThatIsNotACatalogIsRefused() throws Exception {
    Path text = Files.writeString(dir.resolve("x.parquet"), "not parquet");
    assertThatThrownBy(() -> Catalog.open(text)).hasMessageContaining("cannot be read as Parquet");
    assertThatThrownBy(() -> Catalog.open(dir.resolve("none.parquet"))).hasMessageContaining("no catalog at");
    Path other = dir.resolve("other.parquet");
    try (var db = Catalog.open(); var st = db.createStatement()) {
      st.execute("COPY (SELECT 'a' AS key, 1 AS n) TO '" + other + "' (FORMAT parquet)");
    }
    assertThatThrownBy(() -> Catalog.open(other)).hasMessageContaining("has no column \"shard\" (it has key, n)");
  }
}
