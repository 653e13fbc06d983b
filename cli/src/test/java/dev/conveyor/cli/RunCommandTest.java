package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.manifest.Manifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code conveyor run} end to end over the embedded S3 server: real HTTP on 127.0.0.1, real shards. */
class RunCommandTest {
  static final int IMAGES = 40;
  static final int VIDEOS = 4;

  @TempDir
  static Path dir;

  static S3Dataset data;
  static Manifest manifest;
  static String shards;

  @BeforeAll
  static void start() throws Exception {
    data = new S3Dataset(dir, IMAGES, VIDEOS, 96 * 1024);
    manifest = data.manifest;
    shards = data.shards;
  }

  @AfterAll
  static void stop() {
    data.close();
  }

  static CliResult run(String... flags) {
    return CliResult.runAgainst(data.s3, "run", List.of(flags));
  }

  @Test
  void everySampleIsDeliveredOnceAcrossRanksAndTwoRunsWriteIdenticalDigests() throws Exception {
    Path d1 = dir.resolve("d1.txt");
    Path d2 = dir.resolve("d2.txt");
    Path keys = dir.resolve("keys.txt");
    Path summary = dir.resolve("summary.json");
    CliResult first = run("--shards", shards, "--world", "2", "--batch-size", "4",
        "--digest-out", d1.toString(), "--keys-out", keys.toString(), "--summary-json", summary.toString());
    assertThat(first.code()).as(first.err()).isZero();
    assertThat(first.lastLine()).startsWith("cursor: cv1.");
    CliResult second = run("--shards", shards, "--world", "2", "--batch-size", "4", "--digest-out", d2.toString());
    assertThat(second.code()).isZero();

    assertThat(Files.readAllLines(d1)).isNotEmpty().isEqualTo(Files.readAllLines(d2));
    List<String> delivered = Files.readAllLines(keys).stream().map(l -> l.split(" ")[3]).sorted().toList();
    assertThat(delivered).isEqualTo(IntStream.range(0, IMAGES + VIDEOS).mapToObj("%06d"::formatted).toList());
    var json = Json.parse(Files.readString(summary));
    assertThat(json.get("samples").asLong()).isEqualTo(manifest.samples());
    assertThat(json.get("bad_samples").asLong()).isZero();
    assertThat(json.get("cursor").asText()).isEqualTo(first.lastLine().substring("cursor: ".length()));
    assertThat(first.out()).contains("samples 44");
  }

  @Test
  void shardsNamedByTheirManifestAreTheSameRecipeAsShardsNamedByAPattern() throws Exception {
    Path byPattern = dir.resolve("by-pattern.txt");
    Path byManifest = dir.resolve("by-manifest.txt");
    CliResult a = run("--shards", shards, "--world", "2", "--digest-out", byPattern.toString());
    CliResult b = run("--shards", "s3://data/train/shards.json", "--world", "2", "--digest-out", byManifest.toString());
    assertThat(b.code()).as(b.err()).isZero();
    assertThat(Files.readAllLines(byManifest)).isNotEmpty().isEqualTo(Files.readAllLines(byPattern));
    assertThat(b.lastLine()).isEqualTo(a.lastLine());
  }

  @Test
  void digestLinesFollowTheContractAndRanksInterleaveInLockstep() throws Exception {
    Path d = dir.resolve("contract.txt");
    assertThat(run("--shards", shards, "--world", "2", "--batch-size", "5", "--digest-out", d.toString()).code()).isZero();
    List<String> lines = Files.readAllLines(d);
    assertThat(lines).allMatch(l -> l.matches("0 \\d+ [01] [0-9a-f]{64} [0-9a-f]{64}"));
    assertThat(lines.get(0)).startsWith("0 0 0 ");
    assertThat(lines.get(1)).startsWith("0 0 1 ");
  }

  /** The digest lines of one rank, in order: that rank's batch sequence. */
  static List<String> ofRank(Path digests, String rank) throws java.io.IOException {
    return Files.readAllLines(digests).stream().filter(l -> l.split(" ")[2].equals(rank)).toList();
  }

  @Test
  void aProcessServingOneRankDeliversExactlyThatRanksBatchesOfTheAllRanksRun() throws Exception {
    Path all = dir.resolve("all.txt");
    Path one = dir.resolve("one.txt");
    assertThat(run("--shards", shards, "--world", "3", "--batch-size", "4", "--digest-out", all.toString()).code()).isZero();
    CliResult r = run("--shards", shards, "--world", "3", "--rank", "1", "--batch-size", "4", "--digest-out", one.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("ranks 1,");
    assertThat(Files.readAllLines(one)).isNotEmpty().isEqualTo(ofRank(all, "1"));
  }

  @Test
  void badSettingsExitWith2AndNameTheKey() {
    CliResult r = run("--shards", shards, "--batch-size", "0");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("conveyor run: configuration error: conveyor.job.batch-size: must be at least 1, got 0");
    assertThat(run().err()).contains("conveyor.job.shards: is required");
    assertThat(run("--shards", "s3://data/x-{1..}.tar").err()).contains("conveyor.job.shards");
    assertThat(CliResult.run("run", "--no-such-flag").code()).isEqualTo(2);
    assertThat(CliResult.run("run", dir.resolve("missing.conf").toString()).err()).contains("does not exist");
  }
}
