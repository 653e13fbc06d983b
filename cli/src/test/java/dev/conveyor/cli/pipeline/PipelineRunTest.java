package dev.conveyor.cli.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.cli.ConveyorCli;
import dev.conveyor.cli.Examples;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pipelines written with the DSL, run as an author runs them: the examples' jar on
 * {@code --classpath}, named by {@code --pipeline}. (The same pipeline on a cluster of node
 * processes is in ClusterNodesTest.)
 */
class PipelineRunTest {
  static final int IMAGES = 40;
  static final int VIDEOS = 6;
  static final String SMALL = "conveyor.decode.video={frames=2,short-side=32,crop-height=32,crop-width=32}";

  @TempDir
  static Path dir;

  static String shards;

  @BeforeAll
  static void data() throws Exception {
    new DatasetGenerator(new FileShardStore(), dir.resolve("scratch"), 2)
        .generate(new DatasetSpec(IMAGES, VIDEOS, 96 * 1024, 21), dir.resolve("data").toUri(), n -> { });
    shards = dir.resolve("data").resolve("shards.json").toUri().toString();
  }

  record Run(int code, String out, String err) {
    String cursor() {
      return out.lines().reduce((a, b) -> b).orElse("");
    }
  }

  static Run cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = ConveyorCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(code, out.toString(), err.toString());
  }

  /** The image classifier example over the test data, 2 ranks, batches of 4, with {@code more} flags. */
  static Run classifier(String... more) {
    List<String> args = new ArrayList<>(List.of("run", "--pipeline", "dev.conveyor.examples.ImageClassifier",
        "--classpath", Examples.jar().toString(), "--shards", shards, "--world", "2", "--batch-size", "4",
        "--epochs", "2"));
    args.addAll(List.of(more));
    Run r = cli(args.toArray(String[]::new));
    assertThat(r.code()).as(r.err() + r.out()).isZero();
    return r;
  }

  static List<String> lines(Path p) throws Exception {
    return Files.readAllLines(p);
  }

  @Test
  void theFilterLeavesOutExactlyTheClipsAtTheirPlacesAndTheSummaryCountsThem() throws Exception {
    Path keys = dir.resolve("pipeline-keys.txt");
    Path summary = dir.resolve("pipeline-summary.json");
    classifier("--keys-out", keys.toString(), "--summary-json", summary.toString());
    // the same recipe by flags alone: every sample, clips too, at the same plan places
    Path all = dir.resolve("flags-keys.txt");
    Run flags = cli("run", "--shards", shards, "--world", "2", "--batch-size", "4", "--epochs", "2",
        "--keys-out", all.toString());
    assertThat(flags.code()).as(flags.err()).isZero();
    Set<String> clips = videoKeys();
    assertThat(clips).hasSize(VIDEOS);
    List<String> expected = lines(all).stream().filter(l -> !clips.contains(l.split(" ")[3])).toList();
    assertThat(lines(keys)).as("each image at its epoch, rank and step; no clip").isEqualTo(expected);
    JsonNode s = Json.parse(Files.readString(summary));
    assertThat(s.path("filtered").asLong()).isEqualTo(2L * VIDEOS);
    assertThat(s.path("samples").asLong()).isEqualTo(2L * IMAGES);
    assertThat(s.path("bad_samples").asLong()).isZero();

    // a job file naming the pipeline runs the same job
    Path job = Files.writeString(dir.resolve("classifier.conf"),
        "conveyor.job.pipeline = \"dev.conveyor.examples.ImageClassifier\"\n");
    Path fromFile = dir.resolve("job-file-keys.txt");
    Run r = cli("run", job.toString(), "--classpath", Examples.jar().toString(), "--shards", shards, "--world", "2",
        "--batch-size", "4", "--epochs", "2", "--keys-out", fromFile.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(lines(fromFile)).isEqualTo(lines(keys));
  }

  @Test
  void theClipSamplerDeliversASeededShareOfTheClipsAndNothingElseTheSameOnEveryRun() throws Exception {
    List<String> sampler = List.of("run", "--pipeline", "dev.conveyor.examples.VideoClipSampler", "--classpath",
        Examples.jar().toString(), "--shards", shards, "--world", "2", "--set",
        "conveyor.decode.video={frames=4,short-side=32,crop-height=32,crop-width=32}");
    Path keys = dir.resolve("clip-keys.txt");
    Path summary = dir.resolve("clip-summary.json");
    Path digests = dir.resolve("clip-digests.txt");
    List<String> firstArgs = new ArrayList<>(sampler);
    firstArgs.addAll(List.of("--keys-out", keys.toString(), "--summary-json", summary.toString(), "--digest-out",
        digests.toString()));
    Run first = cli(firstArgs.toArray(String[]::new));
    assertThat(first.code()).as(first.err()).isZero();
    Set<String> clips = videoKeys();
    List<String> delivered = lines(keys).stream().map(l -> l.split(" ")[3]).toList();
    assertThat(clips).containsAll(delivered);
    JsonNode s = Json.parse(Files.readString(summary));
    // a seeded share of the clips: at least one (a sampler that dropped everything would pass otherwise), at most all
    assertThat(delivered).as("clips delivered").hasSizeBetween(1, VIDEOS).doesNotHaveDuplicates();
    assertThat(s.path("samples").asLong()).isEqualTo(delivered.size());
    assertThat(s.path("filtered").asLong()).as("every image filtered, and the clips not kept").isGreaterThanOrEqualTo(IMAGES);
    assertThat(s.path("samples").asLong() + s.path("filtered").asLong()).isEqualTo(IMAGES + VIDEOS);
    Path again = dir.resolve("clip-digests-again.txt");
    List<String> secondArgs = new ArrayList<>(sampler);
    secondArgs.addAll(List.of("--digest-out", again.toString()));
    Run second = cli(secondArgs.toArray(String[]::new));
    assertThat(second.code()).as(second.err()).isZero();
    assertThat(lines(again)).as("the same clips left out, reversed the same way").isEqualTo(lines(digests));
  }

  /** The keys of the clips in the test data (their members end in .mp4). */
  static Set<String> videoKeys() throws Exception {
    Set<String> keys = new java.util.TreeSet<>();
    try (var files = Files.list(dir.resolve("data"))) {
      for (Path shard : files.filter(f -> f.toString().endsWith(".tar")).toList()) {
        keys.addAll(tarNames(shard).stream().filter(n -> n.endsWith(".mp4"))
            .map(n -> n.substring(0, n.indexOf('.'))).collect(Collectors.toSet()));
      }
    }
    return keys;
  }

  static List<String> tarNames(Path tar) throws Exception {
    byte[] b = Files.readAllBytes(tar);
    List<String> names = new ArrayList<>();
    for (int at = 0; at + 512 <= b.length && b[at] != 0; ) {
      names.add(new String(b, at, 100, java.nio.charset.StandardCharsets.US_ASCII).replaceAll("\u0000.*", ""));
      long size = Long.parseLong(new String(b, at + 124, 11, java.nio.charset.StandardCharsets.US_ASCII).trim(), 8);
      at += 512 + (int) ((size + 511) / 512 * 512);
    }
    return names;
  }

  @Test
  void stoppedAtARandomStepAndResumedThePipelineDeliversTheUninterruptedBatches() throws Exception {
    Path full = dir.resolve("full.txt");
    Run whole = classifier("--digest-out", full.toString());
    int steps = lines(full).size() / 2;
    long seed = System.nanoTime();
    int k = 1 + new Random(seed).nextInt(steps - 1);
    Path ck = dir.resolve("ck");
    Path head = dir.resolve("head.txt");
    Path tail = dir.resolve("tail.txt");
    classifier("--max-steps", "" + k, "--checkpoint-dir", ck.toString(), "--digest-out", head.toString());
    Run resumed = classifier("--checkpoint-dir", ck.toString(), "--resume", "latest", "--digest-out", tail.toString());
    List<String> both = new ArrayList<>(lines(head));
    both.addAll(lines(tail));
    assertThat(both).as("stopped after step " + k + " of " + steps + " (seed " + seed + ")").isEqualTo(lines(full));
    assertThat(resumed.cursor()).isEqualTo(whole.cursor());
    // the pipeline is part of the recipe: its cursor does not resume the same shards read by flags alone
    Run other = cli("run", "--shards", shards, "--world", "2", "--batch-size", "4", "--epochs", "2", "--decode", "auto",
        "--resume", whole.cursor().substring("cursor: ".length()));
    assertThat(other.code()).as(other.err()).isEqualTo(ConveyorCli.EXIT_USAGE);
    assertThat(other.err()).contains("fingerprint");
  }

  @Test
  void aStageThatThrowsDeadLettersItsSampleNamingTheStageAndTheRunGoesOn() throws Exception {
    Path dead = dir.resolve("dead.txt");
    Path summary = dir.resolve("throws-summary.json");
    Run r = cli("run", "--pipeline", ThrowsOnSome.class.getName(), "--shards", shards, "--world", "2",
        "--dead-letter", dead.toString(), "--summary-json", summary.toString(), "--set", SMALL);
    assertThat(r.code()).as(r.err() + r.out()).isZero();
    List<String> letters = lines(dead);
    int total = IMAGES + VIDEOS;
    long poisoned = java.util.stream.IntStream.range(0, total).filter(i -> i % ThrowsOnSome.EVERY == ThrowsOnSome.AT).count();
    assertThat(letters).hasSize((int) poisoned).allSatisfy(l -> assertThat(l)
        .contains("the stage labeller#0 failed").contains("no label for"));
    JsonNode s = Json.parse(Files.readString(summary));
    assertThat(s.path("samples").asLong()).as("every other sample delivered").isEqualTo(total - poisoned);
    assertThat(s.path("bad_samples").asLong()).isEqualTo(poisoned);
  }

  @Test
  void aPipelineThatCannotBeFoundOrBuiltIsAConfigurationErrorNamingTheFix() {
    Run missing = cli("run", "--pipeline", "dev.conveyor.examples.NoSuchPipeline", "--shards", shards);
    assertThat(missing.code()).isEqualTo(ConveyorCli.EXIT_USAGE);
    assertThat(missing.err()).contains("conveyor.job.pipeline").contains("no class dev.conveyor.examples.NoSuchPipeline")
        .contains("--classpath");
    Run noJar = cli("run", "--pipeline", "x.Y", "--classpath", dir.resolve("nope.jar").toString(), "--shards", shards);
    assertThat(noJar.code()).isEqualTo(ConveyorCli.EXIT_USAGE);
    assertThat(noJar.err()).contains("nope.jar does not exist");
    Run raw = cli("run", "--pipeline", "dev.conveyor.examples.ImageClassifier", "--classpath", Examples.jar().toString(),
        "--shards", shards, "--decode", "none");
    assertThat(raw.code()).isEqualTo(ConveyorCli.EXIT_USAGE);
    assertThat(raw.err()).contains("stages run in its decoders");
  }
}
