package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.S3Settings;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.store.S3ShardStore;
import dev.conveyor.streams.store.ShardIndex;
import dev.conveyor.streams.catalog.Catalog;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.manifest.ShardInfo;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code conveyor index} over S3 rebuilds what datagen wrote — the same indexes, the same
 * shards.json and the same catalog rows — for a dataset that has none of them; and with them, an epoch split between three
 * ranks reads each shard's bytes once, with the same batches as reading shards whole.
 */
class IndexCommandTest {
  @TempDir
  static Path dir;

  static S3Dataset data;
  static S3ShardStore store;
  static ActorSystem system;

  @BeforeAll
  static void start() throws Exception {
    data = new S3Dataset(dir, 40, 2, 96 * 1024);
    store = new S3ShardStore(data.s3.settings(S3Settings.fromConfig(ConfigFactory.defaultReference())));
    system = ActorSystem.create("index-test");
  }

  @AfterAll
  static void stop() {
    store.close();
    system.terminate();
    data.close();
  }

  static String get(String key) throws Exception {
    return store.read(URI.create("s3://data/train/" + key))
        .runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), Materializer.createMaterializer(system))
        .toCompletableFuture().get().decodeString(StandardCharsets.UTF_8);
  }

  /** The dataset's catalog as the store holds it now, copied to a file named after {@code who}. */
  static Path catalog(String who) throws Exception {
    Path file = dir.resolve(who + "-catalog.parquet");
    ByteString b = store.read(URI.create("s3://data/train/" + Catalog.FILE_NAME))
        .runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), Materializer.createMaterializer(system))
        .toCompletableFuture().get();
    Files.write(file, b.toArray());
    return file;
  }

  @Test
  void indexRebuildsWhatDatagenWroteAndTheSplitShardsAreThenReadOnce() throws Exception {
    assertThat(data.manifest.shards()).hasSizeGreaterThanOrEqualTo(3).allMatch(ShardInfo::indexed);
    String manifest = get(Manifest.FILE_NAME);
    Map<String, String> indexes = new HashMap<>();
    for (ShardInfo s : data.manifest.shards()) {
      indexes.put(s.name(), get(s.name() + ShardIndex.SUFFIX));
      store.delete(URI.create("s3://data/train/" + s.name() + ShardIndex.SUFFIX)).toCompletableFuture().get();
    }
    store.delete(URI.create("s3://data/train/" + Manifest.FILE_NAME)).toCompletableFuture().get();
    Path datagens = catalog("datagen");
    store.delete(URI.create("s3://data/train/" + Catalog.FILE_NAME)).toCompletableFuture().get();

    CliResult r = CliResult.runAgainst(data.s3, "index", List.of("--in", "s3://data/train"));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("no shards.json under s3://data/train");
    assertThat(r.out()).contains("index: " + data.manifest.shards().size() + " of " + data.manifest.shards().size()
        + " shards indexed (42 samples");
    assertThat(Manifest.parse(get(Manifest.FILE_NAME))).isEqualTo(Manifest.parse(manifest));
    for (ShardInfo s : data.manifest.shards()) {
      assertThat(get(s.name() + ShardIndex.SUFFIX)).as(s.name()).isEqualTo(indexes.get(s.name()));
    }
    assertThat(Datasets.catalogRows(catalog("index"))).as("the catalog index writes is the one datagen wrote")
        .hasSize(42).isEqualTo(Datasets.catalogRows(datagens));

    Path ranged = dir.resolve("ranged.json");
    Path whole = dir.resolve("whole.json");
    CliResult a = data.run("--world", "3", "--batch-size", "4", "--decode", "none", "--summary-json", ranged.toString(),
        "--digest-out", dir.resolve("ranged.txt").toString());
    CliResult b = data.run("--world", "3", "--batch-size", "4", "--decode", "none", "--summary-json", whole.toString(),
        "--digest-out", dir.resolve("whole.txt").toString(), "--set", "conveyor.job.manifest=none");
    assertThat(a.code()).as(a.err()).isZero();
    assertThat(b.code()).as(b.err()).isZero();
    assertThat(Files.readAllLines(dir.resolve("ranged.txt"))).isEqualTo(Files.readAllLines(dir.resolve("whole.txt")));
    long total = data.manifest.bytes();
    JsonNode withIndex = Json.parse(Files.readString(ranged)).path("reads");
    JsonNode without = Json.parse(Files.readString(whole)).path("reads");
    assertThat(without.path("bytes").asLong()).as("read whole, split shards once per rank").isGreaterThan(total * 11 / 10);
    assertThat(withIndex.path("bytes").asLong()).as("read with the indexes").isLessThanOrEqualTo(total * 102 / 100);
  }

  @Test
  void aFolderWithNoShardsIsAUsageError() {
    CliResult r = CliResult.runAgainst(data.s3, "index", List.of("--in", "s3://data/nothing-here"));
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("no shards.json and no .tar shards under s3://data/nothing-here");
  }
}
