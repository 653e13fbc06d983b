package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.json.Json;
import dev.conveyor.tools.s3.EmbeddedS3;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.manifest.ShardInfo;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad shards over S3: a non-tar object, a tar cut mid-member, a tar cut at a header boundary
 * (which commons-compress would end silently) and a missing shard. Each gives one readable
 * dead-letter line naming the shard and the reason; skip goes on, fail exits 3.
 */
class BadInputTest {
  @TempDir
  static Path dir;

  static EmbeddedS3 s3;
  static final String SHARDS = "s3://bad/part-{000000..000004}.tar";

  @BeforeAll
  static void start() throws Exception {
    Path bucket = Files.createDirectories(dir.resolve("s3/bad"));
    byte[] good = tar(4, "good");
    byte[] cutMid = tar(4, "mid");
    byte[] cutHeader = tar(4, "hdr");
    Files.write(bucket.resolve("part-000000.tar"), good);
    Files.writeString(bucket.resolve("part-000001.tar"), "<html>this is an error page, not a tar</html>\n".repeat(20));
    Files.write(bucket.resolve("part-000002.tar"), Arrays.copyOf(cutMid, 512 * 5 + 100));
    // each sample is two members of one block each: cut after the second sample's members
    Files.write(bucket.resolve("part-000003.tar"), Arrays.copyOf(cutHeader, 4 * 1024));
    // part-000004.tar is missing. The manifest gives the cut files' sizes and no sha256 ("-"), so
    // the bytes pass the integrity check and what is tested here is the tar reader's handling of
    // damage the manifest's sample counts reveal (a manifest that disagrees with the bytes
    // dead-letters the whole shard: FaultyReadsTest in sim).
    Manifest m = new Manifest(List.of(
        new ShardInfo("part-000000.tar", good.length, 4, "-"),
        new ShardInfo("part-000002.tar", 512 * 5 + 100, 4, "-"),
        new ShardInfo("part-000003.tar", 4 * 1024, 4, "-")));
    Files.writeString(bucket.resolve("shards.json"), m.toJson());
    s3 = EmbeddedS3.start(dir.resolve("s3"), 0);
  }

  @AfterAll
  static void stop() {
    s3.close();
  }

  /** A tar of {@code n} samples, each KEY.bin (300 bytes) + KEY.txt, written as GNU tar would (no end padding beyond two blocks). */
  static byte[] tar(int n, String prefix) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarArchiveOutputStream t = new TarArchiveOutputStream(out, 512)) {
      for (int i = 0; i < n; i++) {
        for (String ext : List.of("bin", "txt")) {
          byte[] data = (prefix + i + ext).repeat(ext.equals("bin") ? 30 : 1).getBytes(StandardCharsets.UTF_8);
          TarArchiveEntry e = new TarArchiveEntry(String.format("%s%04d.%s", prefix, i, ext));
          e.setSize(data.length);
          t.putArchiveEntry(e);
          t.write(data);
          t.closeArchiveEntry();
        }
      }
    }
    return out.toByteArray();
  }

  static CliResult run(String... more) {
    List<String> args = new java.util.ArrayList<>(List.of("--shards", SHARDS));
    args.addAll(List.of(more));
    return CliResult.runAgainst(s3, "run", args);
  }

  @Test
  void withSkipTheRunGoesOnAndEveryBadShardHasALineNamingItAndTheReason() throws Exception {
    Path dead = dir.resolve("dead.txt");
    Path summary = dir.resolve("summary.json");
    CliResult r = run("--on-bad-sample", "skip", "--set", "conveyor.job.max-bad-fraction=1.0",
        "--dead-letter", dead.toString(), "--summary-json", summary.toString());
    assertThat(r.code()).as(r.err()).isZero();
    List<String> lines = Files.readAllLines(dead);
    // shards no manifest lists are counted first: their problems come first, in shard order
    assertThat(lines.get(0)).startsWith("s3://bad/part-000001.tar * bad tar header").endsWith("(not a tar archive?)");
    assertThat(lines.get(1)).isEqualTo("s3://bad/part-000004.tar * not found (HTTP 404 NoSuchKey)");
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("s3://bad/part-000002.tar mid0001 truncated mid-member 'mid0001.bin'"));
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("s3://bad/part-000003.tar hdr0001 truncated at a header boundary"));
    // the planned samples the cut shards no longer hold are each accounted for
    for (String shard : List.of("part-000002.tar", "part-000003.tar")) {
      for (int i = 1; i < 4; i++) {
        String prefix = "s3://bad/" + shard + " #" + i + " sample " + i + " is missing";
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith(prefix));
      }
    }
    assertThat(lines).hasSize(2 + 2 + 6);
    var json = Json.parse(Files.readString(summary));
    assertThat(json.get("bad_samples").asLong()).isEqualTo(lines.size());
    // the good shard's 4 samples, plus the whole sample before each cut
    assertThat(json.get("samples").asLong()).isEqualTo(4 + 1 + 1);
    assertThat(r.out()).contains("bad samples " + lines.size());
  }

  @Test
  void aShardCutAtAHeaderBoundaryWithItsEndMarkerIntactIsCaughtByTheManifest() throws Exception {
    byte[] full = tar(4, "eof");
    byte[] cut = Arrays.copyOf(full, 4 * 1024 + 1024); // two samples, then two zero blocks: a "complete" tar
    Arrays.fill(cut, 4 * 1024, cut.length, (byte) 0);
    Path bucket = dir.resolve("s3/short");
    Files.createDirectories(bucket);
    Files.write(bucket.resolve("part-000000.tar"), cut);
    // the manifest's size is the cut file's: only its sample count disagrees
    Files.writeString(bucket.resolve("shards.json"), new Manifest(List.of(new ShardInfo("part-000000.tar", cut.length, 4, "-"))).toJson());
    EmbeddedS3.addMissingETags(bucket);
    Path dead = dir.resolve("dead-short.txt");
    CliResult r = CliResult.runAgainst(s3, "run", List.of("--shards", "s3://short/part-000000.tar",
        "--set", "conveyor.job.max-bad-fraction=1.0", "--dead-letter", dead.toString()));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(Files.readAllLines(dead)).containsExactlyInAnyOrder(
        "s3://short/part-000000.tar #2 sample 2 is missing: the shard ended after 2 readable samples but the plan counts"
            + " at least 4 (shards.json out of date, or the shard is damaged)",
        "s3://short/part-000000.tar #3 sample 3 is missing: the shard ended after 2 readable samples but the plan counts"
            + " at least 4 (shards.json out of date, or the shard is damaged)");
  }

  @Test
  void whenDeadLettersPassMaxBadFractionTheRunFailsWithExitCode3AndSaysWhy() {
    CliResult r = run("--on-bad-sample", "skip");
    assertThat(r.code()).isEqualTo(3);
    assertThat(r.err().lines().filter(l -> l.startsWith("conveyor run:"))).singleElement().satisfies(l -> assertThat(l)
        .startsWith("conveyor run: 10 of 16 samples consumed were bad (62.5%), over max-bad-fraction 0.100; the last: ")
        .endsWith("(see --dead-letter for all; raise conveyor.job.max-bad-fraction to go on)"));
  }

  @Test
  void withFailTheFirstBadShardStopsTheRunWithExitCode3AndOneLine() {
    CliResult r = run("--on-bad-sample", "fail");
    assertThat(r.code()).isEqualTo(3);
    assertThat(r.err().lines().filter(l -> l.startsWith("conveyor run:"))).singleElement().satisfies(l -> assertThat(l)
        .startsWith("conveyor run: bad sample in s3://bad/part-000001.tar: *: bad tar header at byte 0")
        .endsWith("(not a tar archive?) (on-bad-sample = fail; use --on-bad-sample skip to skip and record such samples)"));
  }
}
