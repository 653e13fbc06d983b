package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.streams.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code conveyor pack}: a folder or a JSONL list into verified shards that {@code run} reads. */
class PackCommandTest {
  @TempDir
  Path dir;

  static void write(Path f, int bytes, long seed) throws Exception {
    Files.createDirectories(f.getParent());
    byte[] b = new byte[bytes];
    new Random(seed).nextBytes(b);
    Files.write(f, b);
  }

  /** The keys {@code run} delivers from the packed shards at {@code uri} (one rank, raw bytes, in shard order). */
  static Set<String> keys(String manifest, Path out) throws Exception {
    CliResult r = CliResult.run("run", "--shards", manifest, "--keys-out", out.toString(),
        "--set", "conveyor.job.shuffle.enabled=false");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("bad samples 0");
    Set<String> keys = new TreeSet<>();
    Files.readAllLines(out).forEach(l -> keys.add(l.split(" ", 4)[3]));
    return keys;
  }

  @Test
  void aFolderWithLongNamesDuplicateKeysAndUnreadableFilesIsPackedAndEachProblemReported() throws Exception {
    Path in = dir.resolve("in");
    String deep = "d".repeat(120) + "/" + "e".repeat(90); // a member name of 220+ bytes: a PAX path header
    for (int i = 0; i < 5; i++) {
      write(in.resolve("cats/" + i + ".jpg"), 2000 + i, i);
      write(in.resolve("cats/" + i + ".cls"), 3, 100 + i);
    }
    write(in.resolve(deep + "/0007.jpg"), 700, 7);
    write(in.resolve(deep + "/0007.json"), 20, 8);
    write(in.resolve("cats/3.JPG"), 10, 9); // a second jpg of sample cats/3, differing only in case
    write(in.resolve("dogs/Rex.jpg"), 10, 10);
    write(in.resolve("dogs/rex.jpg"), 10, 11); // a key differing from dogs/Rex only in case
    write(in.resolve("dogs/bone.jpg"), 10, 12);
    Files.createSymbolicLink(in.resolve("dogs/bone.cls"), dir.resolve("gone")); // unreadable: a link to nothing
    write(in.resolve("NOTES"), 5, 13); // no extension
    Path out = dir.resolve("out");
    CliResult r = CliResult.run("pack", "--in", in.toString(), "--out", out.toUri().toString(), "--shard-size", "8kB");
    assertThat(r.code()).as(r.err()).isEqualTo(ConveyorCli.EXIT_DATA);
    assertThat(r.err().lines().filter(l -> l.startsWith("pack: ")).toList()).containsExactlyInAnyOrder(
        "pack: NOTES: member name has no extension (no dot in the basename): left out",
        "pack: cats/3.jpg: duplicate member: cats/3.JPG and cats/3.jpg differ only in case: the sample is left out",
        "pack: dogs/rex.jpg: duplicate key: dogs/rex differs from dogs/Rex only in case (they collide on"
            + " case-insensitive file systems): left out",
        "pack: dogs/bone.cls: unreadable file " + in.resolve("dogs/bone.cls") + " (a link to nothing): the sample is left out");
    assertThat(r.out()).contains("pack: 6 samples in").contains("4 problem(s), listed above: their samples left out");
    assertThat(r.err()).as("no terminal: no progress bar").doesNotContain("\r");
    JsonNode manifest = Json.parse(Files.readString(out.resolve("shards.json")));
    assertThat(manifest.path("samples").asLong()).isEqualTo(6);
    assertThat(manifest.path("shards").size()).as("8 kB shards").isGreaterThan(1);
    for (JsonNode s : manifest.path("shards")) {
      assertThat(out.resolve(s.path("name").asText() + ".idx.json")).exists();
      assertThat(s.path("index").asText()).isEqualTo(s.path("name").asText() + ".idx.json");
    }
    Set<String> delivered = keys(out.resolve("shards.json").toUri().toString(), dir.resolve("keys.txt"));
    assertThat(delivered).containsExactlyInAnyOrder("cats/0", "cats/1", "cats/2", "cats/4", deep + "/0007", "dogs/Rex");
  }

  @Test
  void aJsonlListIsPackedInLineOrderAndItsBadLinesReported() throws Exception {
    Path media = dir.resolve("media");
    write(media.resolve("a.jpg"), 100, 1);
    write(media.resolve("b.jpg"), 100, 2);
    write(media.resolve("b.txt"), 10, 3);
    Path list = Files.writeString(dir.resolve("list.jsonl"), String.join("\n",
        "{\"key\": \"s/0002\", \"jpg\": \"media/b.jpg\", \"txt\": \"media/b.txt\"}",
        "{\"key\": \"s/0001\", \"jpg\": \"media/a.jpg\"}",
        "{\"key\": \"s/0001\", \"jpg\": \"media/b.jpg\"}",
        "{\"key\": \"s/0003\", \"jpg\": \"media/missing.jpg\"}",
        "not json",
        "{\"key\": \"s/0004.x\", \"jpg\": \"media/a.jpg\"}",
        "") + "\n");
    Path out = dir.resolve("out");
    CliResult r = CliResult.run("pack", "--in", list.toString(), "--out", out.toUri().toString());
    assertThat(r.code()).as(r.err()).isEqualTo(ConveyorCli.EXIT_DATA);
    assertThat(r.err()).contains("pack: list.jsonl line 3: duplicate key s/0001 (first on line 2): left out")
        .contains("pack: s/0003.jpg: unreadable file " + media.resolve("missing.jpg") + " (no such file)")
        .contains("pack: list.jsonl line 5: not a JSON object: left out")
        .contains("pack: list.jsonl line 6: key \"s/0004.x\" has a dot in");
    Path keys = dir.resolve("keys.txt");
    keys(out.resolve("shards.json").toUri().toString(), keys);
    assertThat(Files.readAllLines(keys)).as("line order kept: one shard, one batch")
        .containsExactly("0 0 0 s/0002", "0 0 0 s/0001");
  }

  @Test
  void aPackKilledMidwayAndRunAgainEndsWithTheShardsOfAnUninterruptedPack() throws Exception {
    Path in = dir.resolve("in");
    for (int i = 0; i < 150; i++) {
      write(in.resolve(String.format("%04d.bin", i)), 3_000 + 37 * i, i);
      write(in.resolve(String.format("%04d.cls", i)), 2, 1000 + i);
    }
    Path killed = dir.resolve("killed");
    Path clean = dir.resolve("clean");
    List<String> pack = List.of("pack", "--in", in.toString(), "--shard-size", "8kB", "--out");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), "dev.conveyor.cli.ConveyorCli"));
    cmd.addAll(pack);
    cmd.add(killed.toUri().toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("killed.log").toFile()).start();
    Path state = killed.resolve("shards.pack.json");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!(Files.exists(state) && Json.parseOrMissing(Files.readString(state)).path("shards").size() >= 3)) {
      assertThat(p.isAlive()).as("the pack runs until it is killed: " + Files.readString(dir.resolve("killed.log"))).isTrue();
      assertThat(System.nanoTime()).as("3 shards within 60 s").isLessThan(deadline);
      Thread.sleep(2);
    }
    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // kill -9, mid-pack
    assertThat(killed.resolve("shards.json")).as("killed before it finished").doesNotExist();
    int finishedBefore = Json.parse(Files.readString(state)).path("shards").size();

    List<String> again = new ArrayList<>(pack);
    again.add(killed.toUri().toString());
    CliResult rerun = CliResult.run(again.toArray(String[]::new));
    assertThat(rerun.code()).as(rerun.err()).isZero();
    assertThat(rerun.out()).contains(finishedBefore + " kept from an earlier run");
    List<String> whole = new ArrayList<>(pack);
    whole.add(clean.toUri().toString());
    CliResult uninterrupted = CliResult.run(whole.toArray(String[]::new));
    assertThat(uninterrupted.code()).as(uninterrupted.err()).isZero();
    assertThat(uninterrupted.out()).contains("150 samples in").contains("0 kept from an earlier run");

    List<String> names;
    try (var files = Files.list(clean)) {
      names = files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".tar") || n.endsWith(".json"))
          .sorted().toList();
    }
    assertThat(names.stream().filter(n -> n.endsWith(".tar")).count()).isGreaterThan(finishedBefore);
    for (String n : names) {
      assertThat(Files.readAllBytes(killed.resolve(n))).as(n + " identical after the kill and the rerun")
          .isEqualTo(Files.readAllBytes(clean.resolve(n)));
    }
    assertThat(Datasets.catalogRows(killed.resolve("catalog.parquet"))).as("the catalog lists the kept shards too")
        .hasSize(150).isEqualTo(Datasets.catalogRows(clean.resolve("catalog.parquet")));
  }
}
