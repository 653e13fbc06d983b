package dev.conveyor.cli.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.cli.CliResult;
import dev.conveyor.cli.Datasets;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.manifest.ShardInfo;
import dev.conveyor.streams.store.ShardIndex;
import dev.conveyor.tools.datagen.DatasetSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A recipe over the dataset's catalog: {@code where} chooses exactly the samples whose
 * {@code json} member satisfies it (checked against the members read by an independent tar
 * reader, or the files a dataset was packed from — not against the catalog), reads only their
 * bytes (at most 1.05× theirs), and a run stopped at a random step and resumed — at the same
 * world size or another — delivers what an uninterrupted one does. {@code conveyor recipe} says
 * beforehand what the run then reports; a mix's sources choose their own; another tool's
 * catalog joins in; a dataset on S3 is chosen from alike. Refused, exit 2, saying why: a bad or
 * empty {@code where}, another corpus version, a catalog row past its shard's end, a cursor
 * saved under another choice or before a catalog row changed (naming the versions).
 */
class CatalogRecipeTest {
  @TempDir
  static Path dir;

  static String shards;
  /** Per label, the keys of the samples whose json says it, and their bytes in their shards (by the indexes). */
  static final Map<Integer, TreeSet<String>> KEYS = new TreeMap<>();
  static final Map<Integer, Long> BYTES = new TreeMap<>();

  @BeforeAll
  static void dataset() throws Exception {
    shards = Datasets.generate(dir, "data", new DatasetSpec(160, 0, 96 * 1024, 11));
    Path data = dir.resolve("data");
    Manifest m = Manifest.parse(Files.readString(data.resolve("shards.json")));
    for (ShardInfo s : m.shards()) {
      ShardIndex index = ShardIndex.parse(Files.readString(data.resolve(s.name() + ShardIndex.SUFFIX)));
      List<String> keys = new ArrayList<>();
      try (TarArchiveInputStream tar = new TarArchiveInputStream(Files.newInputStream(data.resolve(s.name())))) {
        for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
          String key = e.getName().substring(0, e.getName().indexOf('.'));
          if (keys.isEmpty() || !keys.get(keys.size() - 1).equals(key)) {
            keys.add(key);
          }
          if (e.getName().endsWith(".json")) {
            int label = Json.parse(new String(tar.readAllBytes())).path("label").asInt();
            KEYS.computeIfAbsent(label, l -> new TreeSet<>()).add(key);
            BYTES.merge(label, index.range(keys.size() - 1, keys.size()).length(), Long::sum);
          }
        }
      }
    }
  }

  /** A label some, but far from all, samples have. */
  static int label() {
    return KEYS.entrySet().stream().filter(e -> e.getValue().size() >= 8).min(Map.Entry.comparingByKey())
        .orElseThrow().getKey();
  }

  static CliResult run(String... args) {
    List<String> all = new ArrayList<>(List.of("run", "--shards", shards, "--world", "2", "--batch-size", "2",
        "--decode", "none"));
    all.addAll(List.of(args));
    return CliResult.run(all.toArray(String[]::new));
  }

  static TreeSet<String> keys(Path keysOut) throws Exception {
    TreeSet<String> keys = new TreeSet<>();
    Files.readAllLines(keysOut).forEach(l -> keys.add(l.split(" ", 4)[3]));
    return keys;
  }

  @Test
  void aWhereChoosesExactlyTheSamplesWhoseJsonSatisfiesItAndReadsOnlyTheirBytes() throws Exception {
    int label = label();
    Path keysOut = dir.resolve("keys.txt");
    Path summary = dir.resolve("summary.json");
    CliResult r = run("--where", "label = " + label, "--keys-out", keysOut.toString(), "--summary-json",
        summary.toString(), "--set", "conveyor.job.drop-last=false");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("recipe: where label = " + label + " chose " + KEYS.get(label).size() + " of 160");
    assertThat(keys(keysOut)).isEqualTo(KEYS.get(label)).hasSizeLessThan(160);
    JsonNode reads = Json.parse(Files.readString(summary)).path("reads");
    long chosenBytes = BYTES.get(label);
    assertThat(reads.path("bytes").asLong()).as("the chosen samples' bytes (%d) and their shards' indexes", chosenBytes)
        .isLessThanOrEqualTo(chosenBytes * 105 / 100);
    long all = BYTES.values().stream().mapToLong(Long::longValue).sum();
    assertThat(chosenBytes).isLessThan(all / 2);

    // conveyor recipe says the same before any shard is read: the id, what was chosen, the bytes a pass reads
    CliResult recipe = CliResult.run("recipe", "--shards", shards, "--world", "2", "--batch-size", "2", "--decode",
        "none", "--where", "label = " + label, "--json");
    assertThat(recipe.code()).as(recipe.err()).isZero();
    JsonNode j = Json.parse(recipe.out());
    assertThat(j.path("id").asText()).isEqualTo(Json.parse(Files.readString(summary)).path("recipe").asText())
        .hasSize(16);
    assertThat(j.path("chosen").asLong()).isEqualTo(KEYS.get(label).size());
    assertThat(j.path("samples").asLong()).isEqualTo(160);
    assertThat(j.path("pass_bytes").asLong()).isEqualTo(chosenBytes);
    long perShard = 0;
    for (JsonNode s : j.path("per_shard")) {
      perShard += s.path("chosen").asLong();
    }
    assertThat(perShard).isEqualTo(KEYS.get(label).size());
    assertThat(j.path("where").get(0).path("corpus_version").asText()).isEqualTo(
        dev.conveyor.streams.catalog.Catalog.corpusVersion(manifestJson()));
    CliResult text = CliResult.run("recipe", "--shards", shards, "--where", "label = " + label);
    assertThat(text.out()).startsWith("recipe " + j.path("id").asText() + ": " + KEYS.get(label).size() + " of 160 samples")
        .contains("conveyor.job: where label = " + label + " chose").contains("a pass reads 0.");
    CliResult otherSeed = CliResult.run("recipe", "--shards", shards, "--where", "label = " + label, "--seed", "9",
        "--json");
    assertThat(Json.parse(otherSeed.out()).path("id").asText()).as("another seed, another recipe")
        .isNotEqualTo(j.path("id").asText());
  }

  @Test
  void stoppedAtAnyStepAndResumedItDeliversWhatAnUninterruptedRunDoes() throws Exception {
    String where = "label <> " + label(); // most samples: several steps per rank
    Path whole = dir.resolve("whole.txt");
    CliResult all = run("--where", where, "--epochs", "2", "--digest-out", whole.toString());
    assertThat(all.code()).as(all.err()).isZero();
    List<String> expected = sorted(Files.readAllLines(whole));
    int steps = expected.size() / 2; // per rank, both epochs
    int stop = 1 + new java.util.SplittableRandom(11).nextInt(steps - 1);
    Path ckpt = dir.resolve("ckpt");
    Path first = dir.resolve("first.txt");
    Path rest = dir.resolve("rest.txt");
    CliResult a = run("--where", where, "--epochs", "2", "--max-steps", String.valueOf(stop), "--checkpoint-dir",
        ckpt.toString(), "--digest-out", first.toString());
    CliResult b = run("--where", where, "--epochs", "2", "--checkpoint-dir", ckpt.toString(), "--resume", "latest",
        "--digest-out", rest.toString());
    assertThat(a.code()).as(a.err()).isZero();
    assertThat(b.code()).as(b.err()).isZero();
    List<String> resumed = new ArrayList<>(Files.readAllLines(first));
    resumed.addAll(Files.readAllLines(rest));
    assertThat(sorted(resumed)).as("stopped at step %d of %d and resumed", stop, steps).isEqualTo(expected);

    // the same job file over another choice (another where): the cursor is refused, naming what chose
    CliResult other = run("--where", "label = " + label(), "--epochs", "2", "--checkpoint-dir", ckpt.toString(),
        "--resume", "latest");
    assertThat(other.code()).isEqualTo(2);
    assertThat(other.err()).contains("the cursor belongs to another recipe")
        .contains("this job reads the samples chosen by where \"label = " + label() + "\" over corpus version");
  }

  @Test
  void aDatasetOnS3IsChosenFromTheSameWayItsCatalogReadThroughTheStore() throws Exception {
    try (var s3 = dev.conveyor.tools.s3.EmbeddedS3.start(dir.resolve("s3"), 0);
         var store = new dev.conveyor.streams.store.S3ShardStore(s3.settings(dev.conveyor.config.S3Settings.fromConfig(
             com.typesafe.config.ConfigFactory.defaultReference())))) {
      store.ensureBucket("data").toCompletableFuture().join();
      try (var files = Files.list(dir.resolve("data"))) {
        for (Path f : files.toList()) {
          store.write(java.net.URI.create("s3://data/train/" + f.getFileName()), f).toCompletableFuture().join();
        }
      }
      int label = label();
      Path keysOut = dir.resolve("s3-keys.txt");
      CliResult r = CliResult.runAgainst(s3, "run", List.of("--shards", "s3://data/train/shards.json", "--world", "2",
          "--batch-size", "2", "--decode", "none", "--where", "label = " + label, "--keys-out", keysOut.toString()));
      assertThat(r.code()).as(r.err()).isZero();
      assertThat(keys(keysOut)).isEqualTo(KEYS.get(label));
    }
  }

  @Test
  void eachSourceOfAMixChoosesItsOwnSamples() throws Exception {
    int a = label();
    int b = KEYS.entrySet().stream().filter(e -> e.getKey() != a && e.getValue().size() >= 8).findFirst().orElseThrow()
        .getKey();
    Path job = Files.writeString(dir.resolve("mix.conf"), "conveyor.job.sources = [\n"
        + "  { name = a, shards = \"" + shards + "\", where = \"label = " + a + "\" }\n"
        + "  { name = b, shards = \"" + shards + "\", where = \"label = " + b + "\", repeat = true } ]\n");
    Path keysOut = dir.resolve("mix-keys.txt");
    Path summary = dir.resolve("mix-summary.json");
    CliResult r = CliResult.run("run", job.toString(), "--world", "1", "--batch-size", "2", "--decode", "none",
        "--keys-out", keysOut.toString(), "--summary-json", summary.toString());
    assertThat(r.code()).as(r.err()).isZero();
    TreeSet<String> both = new TreeSet<>(KEYS.get(a));
    both.addAll(KEYS.get(b));
    TreeSet<String> delivered = keys(keysOut);
    assertThat(both).as("only chosen samples").containsAll(delivered);
    assertThat(delivered).as("a does not repeat: the epoch is its pass").containsAll(KEYS.get(a));
    JsonNode sources = Json.parse(Files.readString(summary)).path("sources");
    assertThat(sources.get(0).path("samples").asLong()).isEqualTo(KEYS.get(a).size());
    assertThat(sources.get(1).path("samples").asLong()).as("1:1, batch by batch").isEqualTo(KEYS.get(a).size());
    assertThat(r.err()).contains("recipe: where label = " + a + " chose " + KEYS.get(a).size() + " of 160")
        .contains("recipe: where label = " + b + " chose " + KEYS.get(b).size() + " of 160");
  }

  @Test
  void aCatalogWrittenByAnotherToolIsJoinedToTheDatasetsByKeyAndShard() throws Exception {
    // another tool's scores: key, shard and "aesthetic", the key's number modulo 7
    Path theirs = dir.resolve("scores.parquet");
    try (var db = java.sql.DriverManager.getConnection("jdbc:duckdb:"); var st = db.createStatement()) {
      st.execute("COPY (SELECT shard, key, CAST(key AS INTEGER) % 7 AS aesthetic FROM read_parquet('"
          + dir.resolve("data/catalog.parquet") + "') ORDER BY random()) TO '" + theirs + "' (FORMAT parquet)");
    }
    int label = label();
    TreeSet<String> expected = new TreeSet<>();
    KEYS.get(label).stream().filter(k -> Integer.parseInt(k) % 7 < 4).forEach(expected::add);
    Path keysOut = dir.resolve("joined-keys.txt");
    CliResult r = run("--where", "label = " + label + " AND aesthetic < 4", "--catalog", theirs.toUri().toString(),
        "--keys-out", keysOut.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(keys(keysOut)).isEqualTo(expected).isNotEmpty();

    Path stray = dir.resolve("stray.parquet");
    try (var db = java.sql.DriverManager.getConnection("jdbc:duckdb:"); var st = db.createStatement()) {
      st.execute("COPY (SELECT 'part-000000.tar' AS shard, 'no-such-key' AS key, 1 AS aesthetic) TO '" + stray
          + "' (FORMAT parquet)");
    }
    CliResult refused = run("--where", "aesthetic = 1", "--catalog", stray.toUri().toString());
    assertThat(refused.code()).isEqualTo(2);
    assertThat(refused.err()).contains("conveyor.job.where").contains("names samples the dataset does not hold (first:"
        + " part-000000.tar no-such-key)");
  }

  @Test
  void aWhereOverAPackedDatasetChoosesBySeveralFieldsNestedOnesToo() throws Exception {
    Path in = dir.resolve("files");
    Files.createDirectories(in);
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(23);
    TreeSet<String> expected = new TreeSet<>();
    for (int i = 0; i < 80; i++) {
      String key = String.format("%04d", i);
      byte[] body = new byte[2000 + rnd.nextInt(3000)];
      rnd.nextBytes(body);
      Files.write(in.resolve(key + ".bin"), body);
      double quality = rnd.nextInt(100) / 100.0;
      String lang = rnd.nextBoolean() ? "en" : "de";
      Files.writeString(in.resolve(key + ".json"), "{\"quality\": " + quality + ", \"meta\": {\"lang\": \"" + lang
          + "\", \"source\": \"crawl\"}, \"tags\": [\"a\"]}");
      if (quality > 0.5 && lang.equals("en")) {
        expected.add(key);
      }
    }
    Path packed = dir.resolve("packed");
    CliResult pack = CliResult.run("pack", "--in", in.toString(), "--out", packed.toUri().toString(), "--shard-size",
        "40kB");
    assertThat(pack.code()).as(pack.err()).isZero();
    Path keysOut = dir.resolve("packed-keys.txt");
    CliResult r = CliResult.run("run", "--shards", packed.resolve("shards.json").toUri().toString(), "--decode", "none",
        "--world", "2", "--batch-size", "2", "--set", "conveyor.job.drop-last=false", "--where",
        "quality > 0.5 AND \"meta.lang\" = 'en'", "--keys-out", keysOut.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(keys(keysOut)).isEqualTo(expected).hasSizeBetween(5, 60);
  }

  @Test
  void anElasticResumeOfAChoiceDeliversEveryChosenSampleOnce() throws Exception {
    String where = "label <> " + label();
    TreeSet<String> chosen = new TreeSet<>();
    KEYS.forEach((l, keys) -> {
      if (l != label()) {
        chosen.addAll(keys);
      }
    });
    Path ckpt = dir.resolve("elastic-ckpt");
    Path first = dir.resolve("elastic-first.txt");
    Path rest = dir.resolve("elastic-rest.txt");
    CliResult a = run("--where", where, "--set", "conveyor.job.drop-last=false", "--max-steps", "5", "--checkpoint-dir",
        ckpt.toString(), "--keys-out", first.toString());
    List<String> three = new ArrayList<>(List.of("run", "--shards", shards, "--world", "3", "--batch-size", "2",
        "--decode", "none", "--where", where, "--set", "conveyor.job.drop-last=false", "--checkpoint-dir",
        ckpt.toString(), "--resume", "latest", "--keys-out", rest.toString()));
    CliResult b = CliResult.run(three.toArray(String[]::new));
    assertThat(a.code()).as(a.err()).isZero();
    assertThat(b.code()).as(b.err()).isZero();
    assertThat(b.err()).contains("elastic resume");
    List<String> delivered = new ArrayList<>();
    for (Path p : List.of(first, rest)) {
      Files.readAllLines(p).forEach(l -> delivered.add(l.split(" ", 4)[3]));
    }
    assertThat(delivered).as("each chosen sample once, 2 ranks then 3").hasSize(chosen.size())
        .containsExactlyInAnyOrderElementsOf(chosen);
  }

  static List<String> sorted(List<String> lines) {
    return lines.stream().sorted().toList();
  }

  @Test
  void aBadWhereAWrongVersionOrAnEmptyChoiceIsAUsageErrorSayingWhy() {
    CliResult unknown = run("--where", "labl = 1");
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).contains("conveyor.job.where").contains("no column labl")
        .contains("its columns: key, shard, sample").contains("label").contains("width");
    CliResult syntax = run("--where", "label = = 1");
    assertThat(syntax.code()).isEqualTo(2);
    assertThat(syntax.err()).contains("conveyor.job.where").contains("is not a filter over the catalog")
        .contains("syntax error");
    CliResult none = run("--where", "label > 1000");
    assertThat(none.code()).isEqualTo(2);
    assertThat(none.err()).contains("\"label > 1000\" chooses none of the catalog's 160 samples");
    CliResult version = run("--where", "label = 1", "--corpus-version", "0123abcd");
    assertThat(version.code()).isEqualTo(2);
    assertThat(version.err()).contains("conveyor.job.corpus-version").contains("is 0123abcd, but the dataset at")
        .contains("is of corpus version " + dev.conveyor.streams.catalog.Catalog.corpusVersion(manifestJson()));
  }

  static String manifestJson() {
    try {
      return Manifest.parse(Files.readString(dir.resolve("data/shards.json"))).toJson();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** A copy of the dataset in {@code name}, its catalog rewritten by {@code select} (SQL over the original's rows). */
  static Path alteredCopy(String name, String select) throws Exception {
    Path copy = dir.resolve(name);
    Files.createDirectories(copy);
    try (var files = Files.list(dir.resolve("data"))) {
      for (Path f : files.toList()) {
        if (!f.getFileName().toString().equals("catalog.parquet")) {
          Files.copy(f, copy.resolve(f.getFileName()));
        }
      }
    }
    rewriteCatalog(copy, select);
    return copy;
  }

  /** Writes {@code data}'s catalog as {@code select} over the original dataset's rows ({@code rows}) makes it. */
  static void rewriteCatalog(Path data, String select) throws Exception {
    String version = dev.conveyor.streams.catalog.Catalog.corpusVersion(manifestJson());
    try (var db = java.sql.DriverManager.getConnection("jdbc:duckdb:"); var st = db.createStatement()) {
      st.execute("CREATE VIEW rows AS SELECT * FROM read_parquet('" + dir.resolve("data/catalog.parquet") + "')");
      st.execute("COPY (" + select + ") TO '" + data.resolve("catalog.parquet") + "' (FORMAT parquet,"
          + " KV_METADATA {corpus_version: '" + version + "'})");
    }
  }

  @Test
  void aCatalogThatDoesNotDescribeItsShardsIsRefused() throws Exception {
    Path copy = alteredCopy("past-end", "SELECT * REPLACE (CASE WHEN key = '000000' THEN \"offset\" + 100000000"
        + " ELSE \"offset\" END AS \"offset\") FROM rows");
    CliResult r = CliResult.run("run", "--shards", copy.resolve("shards.json").toUri().toString(), "--decode", "none",
        "--where", "key = '000000'");
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err()).contains("places a sample of part-000000.tar up to byte").contains("past its")
        .contains("the catalog does not describe these shards");
  }

  @Test
  void aCursorSavedBeforeACatalogRowChangedIsRefusedNamingTheVersions() throws Exception {
    Path copy = alteredCopy("changing", "SELECT * FROM rows");
    String where = "label = " + label();
    List<String> job = List.of("run", "--shards", copy.resolve("shards.json").toUri().toString(), "--decode", "none",
        "--world", "2", "--batch-size", "2", "--where", where, "--checkpoint-dir", copy.resolve("ckpt").toString());
    List<String> stopped = new ArrayList<>(job);
    stopped.addAll(List.of("--max-steps", "1"));
    CliResult first = CliResult.run(stopped.toArray(String[]::new));
    assertThat(first.code()).as(first.err()).isZero();
    // one sample that had the label no longer has it
    rewriteCatalog(copy, "SELECT * REPLACE (CASE WHEN key = (SELECT min(key) FROM rows WHERE " + where + ") THEN -1"
        + " ELSE label END AS label) FROM rows");
    List<String> resumed = new ArrayList<>(job);
    resumed.addAll(List.of("--resume", "latest"));
    CliResult again = CliResult.run(resumed.toArray(String[]::new));
    assertThat(again.code()).as(again.out()).isEqualTo(2);
    assertThat(again.err()).contains("the cursor belongs to another recipe").contains("over corpus version "
        + dev.conveyor.streams.catalog.Catalog.corpusVersion(manifestJson()) + ", catalog ");
  }
}
