package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code run --decode auto} end to end over the embedded S3 server. */
class DecodeRunTest {
  static final String SMALL = "conveyor.decode { image { short-side = 64, crop-height = 56, crop-width = 56 },"
      + " video { frames = 4, short-side = 64, crop-height = 56, crop-width = 56 }, augment.horizontal-flip = true }";

  @TempDir
  static Path dir;

  static S3Dataset data;
  static Path job;

  @BeforeAll
  static void start() throws Exception {
    data = new S3Dataset(dir, 24, 3, 64 * 1024);
    job = Files.writeString(dir.resolve("decode.conf"), SMALL);
  }

  @AfterAll
  static void stop() {
    data.close();
  }

  CliResult run(String... flags) {
    String[] all = new String[flags.length + 1];
    all[0] = job.toString();
    System.arraycopy(flags, 0, all, 1, flags.length);
    return data.run(all);
  }

  @Test
  void decodedBatchesAreTheSameWhateverTheDecoderPoolSize() throws Exception {
    Path one = dir.resolve("pool1.txt");
    Path four = dir.resolve("pool4.txt");
    Path summary = dir.resolve("summary.json");
    CliResult a = run("--decode", "auto", "--world", "2", "--batch-size", "4", "--set", "conveyor.job.decoders.pool=1",
        "--set", "conveyor.job.stage-parallelism=1", "--digest-out", one.toString(), "--summary-json", summary.toString());
    assertThat(a.code()).as(a.err()).isZero();
    CliResult b = run("--decode", "auto", "--world", "2", "--batch-size", "4", "--set", "conveyor.job.decoders.pool=4",
        "--set", "conveyor.job.stage-parallelism=8", "--digest-out", four.toString());
    assertThat(b.code()).as(b.err()).isZero();
    assertThat(Files.readAllLines(four)).isNotEmpty().isEqualTo(Files.readAllLines(one));
    var json = Json.parse(Files.readString(summary));
    assertThat(json.get("samples").asLong()).isEqualTo(27);
    assertThat(json.get("bad_samples").asLong()).isZero();
    // 24 pictures of 56 x 56 x 3 and 3 clips of 4 x 56 x 56 x 3, collated
    assertThat(json.get("bytes").asLong()).isEqualTo(24L * 56 * 56 * 3 + 3L * 4 * 56 * 56 * 3);
  }

  @Test
  void aDecodingJobWithSeededAugmentationStoppedAndResumedGivesTheTensorsOfAnUninterruptedRun() throws Exception {
    String[] job = {"--decode", "auto", "--world", "2", "--batch-size", "4", "--epochs", "2",
        "--set", "conveyor.decode.augment.random-crop=on"}; // and flips, from SMALL: both seeded per sample
    Path full = dir.resolve("aug-full.txt");
    Path head = dir.resolve("aug-head.txt");
    Path tail = dir.resolve("aug-tail.txt");
    Path ck = dir.resolve("aug-ck");
    assertThat(run(concat(job, "--digest-out", full.toString())).code()).isZero();
    CliResult first = run(concat(job, "--max-steps", "5", "--checkpoint-dir", ck.toString(), "--digest-out",
        head.toString()));
    assertThat(first.code()).as(first.err()).isZero();
    assertThat(Files.readAllLines(head)).as("stopped after 5 steps of both ranks, into the second epoch").hasSize(10);
    CliResult rest = run(concat(job, "--resume", "latest", "--checkpoint-dir", ck.toString(), "--digest-out",
        tail.toString()));
    assertThat(rest.code()).as(rest.err()).isZero();
    List<String> joined = new java.util.ArrayList<>(Files.readAllLines(head));
    joined.addAll(Files.readAllLines(tail));
    assertThat(joined).isEqualTo(Files.readAllLines(full));
  }

  static String[] concat(String[] a, String... b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  @Test
  void decodedAndRawRunsAreDifferentRecipes() {
    String raw = data.run("--world", "2", "--max-steps", "1").lastLine();
    String decoded = run("--decode", "auto", "--world", "2", "--max-steps", "1").lastLine();
    assertThat(decoded).startsWith("cursor: cv1.").isNotEqualTo(raw);
    CliResult wrong = run("--decode", "auto", "--world", "2", "--resume", raw.substring("cursor: ".length()));
    assertThat(wrong.code()).isEqualTo(2);
    assertThat(wrong.err()).contains("--resume: the cursor belongs to another recipe");
  }

  @Test
  void askingForCudaWithoutADeviceWarnsOnceAndDecodesOnTheCpuToTheSameBytes() throws Exception {
    Path cpu = dir.resolve("cpu.txt");
    Path cuda = dir.resolve("cuda.txt");
    assertThat(run("--decode", "auto", "--digest-out", cpu.toString()).code()).isZero();
    CliResult r = run("--decode", "auto", "--set", "conveyor.decode.hwaccel=cuda", "--digest-out", cuda.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err().lines().filter(l -> l.contains("no CUDA device"))).hasSize(1);
    assertThat(Files.readAllLines(cuda)).isEqualTo(Files.readAllLines(cpu));
  }
}
