package dev.conveyor.cli.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.cli.ConveyorCli;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job of full batches behind a filter that keeps about one sample in ten ({@link KeepsFew}),
 * run as users run it: every batch full, every rank stepping alike though their parts keep
 * different numbers, what is left over counted, a stop at a random step resumed to the
 * uninterrupted batches, and a resume at another world size delivering what remained once.
 */
class FullBatchesJobTest {
  static final int IMAGES = 400;

  @TempDir
  static Path dir;

  static String shards;

  @BeforeAll
  static void data() throws Exception {
    new DatasetGenerator(new FileShardStore(), dir.resolve("scratch"), 2)
        .generate(new DatasetSpec(IMAGES, 0, 40 * 1024, 33), dir.resolve("data").toUri(), n -> { });
    shards = dir.resolve("data").resolve("shards.json").toUri().toString();
  }

  static PipelineRunTest.Run run(String... more) {
    return succeeded(List.of("run", "--pipeline", KeepsFew.class.getName(), "--shards", shards), more);
  }

  /** {@code conveyor} with {@code job}'s arguments and {@code more}, which must exit 0. */
  static PipelineRunTest.Run succeeded(List<String> job, String... more) {
    List<String> args = new ArrayList<>(job);
    args.addAll(List.of(more));
    PipelineRunTest.Run r = PipelineRunTest.cli(args.toArray(String[]::new));
    assertThat(r.code()).as(r.err() + r.out()).isZero();
    return r;
  }

  /** Keys per (epoch, rank, step), from a keys file ("epoch rank step key"). */
  static Map<String, List<String>> batches(Path keys) throws Exception {
    Map<String, List<String>> out = new HashMap<>();
    for (String l : Files.readAllLines(keys)) {
      String[] f = l.split(" ");
      out.computeIfAbsent(f[0] + " " + f[1] + " " + f[2], k -> new ArrayList<>()).add(f[3]);
    }
    return out;
  }

  /**
   * The digest lines of {@code job} (its run arguments) stopped after {@code stop} steps with
   * cursors saved, then run again from the latest one to the end: both runs' lines, sorted.
   */
  static List<String> stoppedAndResumed(List<String> job, int stop, String name) throws Exception {
    Path ckpt = dir.resolve(name + "-ckpt-" + stop);
    Path first = dir.resolve(name + "-first-" + stop + ".txt");
    Path rest = dir.resolve(name + "-rest-" + stop + ".txt");
    for (List<String> more : List.of(
        List.of("--max-steps", String.valueOf(stop), "--checkpoint-dir", ckpt.toString(), "--digest-out", first.toString()),
        List.of("--checkpoint-dir", ckpt.toString(), "--resume", "latest", "--digest-out", rest.toString()))) {
      succeeded(job, more.toArray(String[]::new));
    }
    assertThat(Files.readString(ckpt.resolve("latest.cursor"))).as("a cursor of full batches").startsWith("cv2.");
    List<String> resumed = new ArrayList<>(Files.readAllLines(first));
    resumed.addAll(Files.readAllLines(rest));
    return sorted(resumed);
  }

  static long kept() {
    return java.util.stream.IntStream.range(0, IMAGES).filter(i -> KeepsFew.keeps(String.valueOf(i))).count();
  }

  @Test
  void everyBatchIsFullEveryRankStepsAlikeAndTheLeftOverIsCounted() throws Exception {
    Path keys = dir.resolve("keys.txt");
    Path summary = dir.resolve("summary.json");
    run("--world", "2", "--epochs", "2", "--keys-out", keys.toString(), "--summary-json", summary.toString());
    Map<String, List<String>> batches = batches(keys);
    assertThat(batches.values()).allSatisfy(b -> assertThat(b).hasSize(4).allMatch(KeepsFew::keeps));
    for (int epoch = 0; epoch < 2; epoch++) {
      int e = epoch;
      Map<String, Long> perRank = batches.keySet().stream().filter(k -> k.startsWith(e + " "))
          .collect(Collectors.groupingBy(k -> k.split(" ")[1], Collectors.counting()));
      assertThat(perRank).as("epoch %d", epoch).containsOnlyKeys("0", "1");
      assertThat(perRank.get("0")).as("epoch %d: ranks step alike", epoch).isEqualTo(perRank.get("1")).isPositive();
      List<String> delivered = batches.entrySet().stream().filter(b -> b.getKey().startsWith(e + " "))
          .flatMap(b -> b.getValue().stream()).toList();
      assertThat(delivered).doesNotHaveDuplicates();
      assertThat((long) delivered.size()).isLessThanOrEqualTo(kept());
    }
    JsonNode s = Json.parse(Files.readString(summary));
    long samples = s.path("samples").asLong();
    assertThat(samples).isEqualTo(batches.size() * 4L);
    // every position of both epochs is delivered, filtered or left over
    assertThat(samples + s.path("filtered").asLong() + s.path("dropped_remainder").asLong())
        .isEqualTo(2L * IMAGES);
    assertThat(s.path("dropped_remainder").asLong()).isPositive();
  }

  @Test
  void aStopAtARandomStepResumedFromLatestGivesTheUninterruptedBatches() throws Exception {
    Path whole = dir.resolve("whole.txt");
    run("--world", "2", "--epochs", "2", "--digest-out", whole.toString());
    List<String> all = Files.readAllLines(whole);
    long seed = new SplittableRandom().nextLong();
    int steps = (int) all.stream().filter(l -> l.startsWith("0 ")).count() / 2;
    int stop = 1 + new SplittableRandom(seed).nextInt(steps + 2); // into the second epoch too
    List<String> filtered = List.of("run", "--pipeline", KeepsFew.class.getName(), "--shards", shards, "--world", "2",
        "--epochs", "2");
    assertThat(stoppedAndResumed(filtered, stop, "filtered")).as("seed %d: stop after %d steps", seed, stop)
        .isEqualTo(sorted(all));
  }

  @Test
  void aResumeAtThreeRanksDeliversWhatRemainedOnceInFullBatches() throws Exception {
    Path ckpt = dir.resolve("ckpt-elastic");
    Path first = dir.resolve("elastic-first.txt");
    Path rest = dir.resolve("elastic-rest.txt");
    run("--world", "2", "--epochs", "1", "--max-steps", "3", "--checkpoint-dir", ckpt.toString(),
        "--keys-out", first.toString());
    run("--world", "3", "--epochs", "1", "--checkpoint-dir", ckpt.toString(), "--resume", "latest",
        "--keys-out", rest.toString());
    Map<String, List<String>> after = batches(rest);
    assertThat(after).isNotEmpty();
    assertThat(after.values()).allSatisfy(b -> assertThat(b).hasSize(4));
    assertThat(after.keySet().stream().map(k -> k.split(" ")[1]).collect(Collectors.toSet())).hasSize(3);
    assertThat(after.keySet().stream().collect(Collectors.groupingBy(k -> k.split(" ")[1], Collectors.counting()))
        .values().stream().distinct()).as("the three ranks step alike").hasSize(1);
    assertThat(after.keySet()).allMatch(k -> Integer.parseInt(k.split(" ")[2]) >= 3); // steps go on from the stop
    List<String> delivered = new ArrayList<>();
    batches(first).values().forEach(delivered::addAll);
    after.values().forEach(delivered::addAll);
    assertThat(delivered).doesNotHaveDuplicates().allMatch(KeepsFew::keeps);
  }

  static PipelineRunTest.Run copies(String... more) {
    return succeeded(List.of("run", "--pipeline", SomeCopies.class.getName(), "--shards", shards, "--epochs", "1"),
        more);
  }

  @Test
  void aFlatMapsOutputsFillBatchesAndAStopBetweenTwoOutputsOfOneSampleResumesAtTheNext() throws Exception {
    Path keys = dir.resolve("copies-keys.txt");
    Path whole = dir.resolve("copies-digests.txt");
    copies("--world", "2", "--keys-out", keys.toString(), "--digest-out", whole.toString());
    Map<String, List<String>> batches = batches(keys);
    assertThat(batches.values()).allSatisfy(b -> assertThat(b).hasSize(4));
    List<String> outputs = batches.values().stream().flatMap(List::stream).toList();
    assertThat(outputs).doesNotHaveDuplicates().allMatch(k -> k.matches("\\d+/[0-2]"));
    // a stop where a batch ended inside a sample's outputs (its last key is not its sample's last output)
    List<String> midSample = batches.entrySet().stream().filter(b -> b.getKey().startsWith("0 0 "))
        .filter(b -> {
          String last = b.getValue().get(3);
          int j = Integer.parseInt(last.split("/")[1]);
          return j + 1 < SomeCopies.copies(last.split("/")[0]);
        }).map(b -> b.getKey().split(" ")[2]).toList();
    assertThat(midSample).as("some batch of rank 0 ends between two outputs of a sample").isNotEmpty();
    long seed = new SplittableRandom().nextLong();
    int stop = Integer.parseInt(midSample.get(new SplittableRandom(seed).nextInt(midSample.size()))) + 1;
    List<String> job = List.of("run", "--pipeline", SomeCopies.class.getName(), "--shards", shards, "--epochs", "1",
        "--world", "2");
    assertThat(stoppedAndResumed(job, stop, "copies")).as("seed %d: stop after %d steps", seed, stop)
        .isEqualTo(sorted(Files.readAllLines(whole)));
    Path ckpt = dir.resolve("copies-ckpt-" + stop);
    // and at three ranks from the same stop: every output of the rest once, in full batches
    Path three = dir.resolve("copies-three-" + stop + ".txt");
    Path firstKeys = dir.resolve("copies-first-keys-" + stop + ".txt");
    copies("--world", "2", "--max-steps", String.valueOf(stop), "--checkpoint-dir", ckpt + "-e",
        "--keys-out", firstKeys.toString());
    copies("--world", "3", "--checkpoint-dir", ckpt + "-e", "--resume", "latest", "--keys-out", three.toString());
    List<String> delivered = new ArrayList<>();
    batches(firstKeys).values().forEach(delivered::addAll);
    batches(three).values().forEach(b -> {
      assertThat(b).hasSize(4);
      delivered.addAll(b);
    });
    assertThat(delivered).as("seed %d, stop %d", seed, stop).doesNotHaveDuplicates();
  }

  @Test
  void packedTokenRowsAreWholeAndAStopInsideASampleResumesToTheUninterruptedBatches() throws Exception {
    List<String> packed = List.of("run", "--pipeline", TokenRows.class.getName(), "--shards", shards, "--epochs", "1",
        "--world", "2");
    Path whole = dir.resolve("rows-digests.txt");
    Path keys = dir.resolve("rows-keys.txt");
    Path summary = dir.resolve("rows-summary.json");
    succeeded(packed, "--digest-out", whole.toString(), "--keys-out", keys.toString(), "--summary-json",
        summary.toString());
    // each row names its pieces' samples; a sample's tokens are spread over at most a few rows, in full batches of 4
    Map<String, List<String>> rows = batches(keys);
    assertThat(rows.values()).allSatisfy(b -> assertThat(b).hasSize(4));
    long tokens = java.util.stream.IntStream.range(0, IMAGES).map(i -> TokenRows.length(String.valueOf(i))).sum();
    // the rows hold the tokens but those the ranks' parts hold after the epoch's last step (counted in the summary)
    assertThat(rows.size() * 4L * TokenRows.ROW).isLessThanOrEqualTo(tokens).isGreaterThan(tokens / 2);
    List<String> all = Files.readAllLines(whole);
    int steps = (int) all.size() / 2;
    long seed = new SplittableRandom().nextLong();
    int stop = 1 + new SplittableRandom(seed).nextInt(steps - 1);
    assertThat(stoppedAndResumed(packed, stop, "rows")).as("seed %d: stop after %d steps", seed, stop)
        .isEqualTo(sorted(all));
  }

  @Test
  void lengthBucketsMakeBatchesOfOneBucketAndResumeAtTheSameOrAnotherWorldExactly() throws Exception {
    List<String> job = List.of("run", "--pipeline", Bucketed.class.getName(), "--shards", shards, "--world", "2",
        "--epochs", "2");
    Path keys = dir.resolve("bucket-keys.txt");
    Path whole = dir.resolve("bucket-whole.txt");
    succeeded(job, "--keys-out", keys.toString(), "--digest-out", whole.toString());
    Map<String, List<String>> batches = batches(keys);
    assertThat(batches.values()).hasSizeGreaterThan(20).allSatisfy(b -> {
      int bucket = Bucketed.bucket(b.get(0));
      assertThat(b).hasSize(Bucketed.SIZES[bucket]).allMatch(k -> Bucketed.bucket(k) == bucket);
    });
    assertThat(batches.values().stream().map(b -> Bucketed.bucket(b.get(0))).distinct()).hasSize(3);
    List<String> all = Files.readAllLines(whole);
    long seed = new SplittableRandom().nextLong();
    int steps = (int) all.stream().filter(l -> l.startsWith("0 ")).count() / 2;
    int stop = 1 + new SplittableRandom(seed).nextInt(steps + 2); // into the second epoch too
    assertThat(stoppedAndResumed(job, stop, "bucket")).as("seed %d: stop after %d steps", seed, stop)
        .isEqualTo(sorted(all));
    // stopped inside the first epoch and resumed at three ranks: no sample twice
    Path ckpt = dir.resolve("ckpt-bucket-elastic");
    Path first = dir.resolve("bucket-elastic-first.txt");
    Path rest = dir.resolve("bucket-elastic-rest.txt");
    for (List<String> more : List.of(
        List.of("--world", "2", "--max-steps", "3", "--checkpoint-dir", ckpt.toString(), "--keys-out", first.toString()),
        List.of("--world", "3", "--checkpoint-dir", ckpt.toString(), "--resume", "latest", "--keys-out",
            rest.toString()))) {
      succeeded(List.of("run", "--pipeline", Bucketed.class.getName(), "--shards", shards, "--epochs", "1"),
          more.toArray(String[]::new));
    }
    List<String> delivered = new ArrayList<>();
    batches(first).values().forEach(delivered::addAll);
    batches(rest).values().forEach(delivered::addAll);
    assertThat(batches(rest).keySet().stream().map(k -> k.split(" ")[1]).distinct()).hasSize(3);
    assertThat(delivered).doesNotHaveDuplicates();
  }

  @Test
  void withoutFullBatchesAFlatMapsBatchHoldsEveryOutputOfItsPositions() throws Exception {
    Path keys = dir.resolve("copies-fixed-keys.txt");
    copies("--world", "2", "--set", "conveyor.job.full-batches=false", "--keys-out", keys.toString());
    long expected = java.util.stream.IntStream.range(0, IMAGES).map(i -> SomeCopies.copies(String.valueOf(i))).sum();
    assertThat(Files.readAllLines(keys)).hasSize((int) expected);
  }

  @Test
  void badPackingOrBucketsOrFullBatchesOfOneRankOfSeveralIsAConfigurationErrorNamingTheKey() throws Exception {
    for (String[] bad : new String[][] {
        {"conveyor.job { shards = \"" + shards + "\", pack { field = text, long-samples = trim } }",
            "conveyor.job.pack.long-samples"},
        {"conveyor.job { shards = \"" + shards + "\", pack { field = text, length = 0 } }", "conveyor.job.pack.length"},
        {"conveyor.job { shards = \"" + shards + "\", pack.field = text, bucket { field = text, batch-sizes = [4] } }",
            "conveyor.job.bucket.field"},
        {"conveyor.job { shards = \"" + shards + "\", bucket { field = text, boundaries = [8, 8], batch-sizes = [4, 2, 1] } }",
            "conveyor.job.bucket.boundaries"},
        {"conveyor.job { shards = \"" + shards + "\", bucket { field = text, boundaries = [8], batch-sizes = [4] } }",
            "conveyor.job.bucket.batch-sizes"},
        {"conveyor.job { shards = \"" + shards + "\", bucket { field = text, batch-sizes = [64], pool = 8 } }",
            "conveyor.job.bucket.pool"}}) {
      Path f = Files.writeString(dir.resolve("pack-" + bad[1].hashCode() + ".conf"), bad[0]);
      PipelineRunTest.Run p = PipelineRunTest.cli("run", f.toString());
      assertThat(p.code()).as(p.err()).isEqualTo(ConveyorCli.EXIT_USAGE);
      assertThat(p.err()).contains(bad[1]);
    }
    // one rank of several in this process: its ranks could not agree how long an epoch is
    PipelineRunTest.Run one = PipelineRunTest.cli("run", "--pipeline", KeepsFew.class.getName(), "--shards", shards,
        "--world", "2", "--set", "conveyor.job.rank=1");
    assertThat(one.code()).isEqualTo(ConveyorCli.EXIT_USAGE);
    assertThat(one.err()).contains("conveyor.job.rank").contains("full batches need every rank of the job in one job");
  }

  static List<String> sorted(List<String> lines) {
    return lines.stream().sorted().toList();
  }
}
