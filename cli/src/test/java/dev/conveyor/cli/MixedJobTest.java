package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A job file that mixes two sources, run as users run it: its batches, its resume, and its mistakes. */
class MixedJobTest {
  @TempDir
  static Path dir;

  static Path job;

  @BeforeAll
  static void data() throws Exception {
    for (String[] d : new String[][] {{"a", "120", "1"}, {"b", "40", "2"}}) {
      CliResult g = CliResult.run("datagen", "--images", d[1], "--videos", "0", "--seed", d[2], "--shard-size", "100KB", "--quiet",
          "--out", dir.resolve(d[0]).toUri().toString());
      assertThat(g.code()).as(g.err()).isZero();
    }
    job = dir.resolve("mix.conf");
    Files.writeString(job, """
        conveyor.job {
          sources = [ { shards = "%s", weight = 0.7, name = photos }
                      { shards = "%s", weight = 0.3, repeat = true, name = art } ]
          batch-size = 10
          world-size = 2
          epochs = 2
        }
        """.formatted(dir.resolve("a").resolve("shards.json").toUri(), dir.resolve("b").resolve("shards.json").toUri()));
  }

  static CliResult run(String... flags) {
    List<String> args = new ArrayList<>(List.of("run", job.toString()));
    args.addAll(List.of(flags));
    CliResult r = CliResult.run(args.toArray(String[]::new));
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    return r;
  }

  @Test
  void aMixStoppedAtARandomStepAndResumedFromLatestGivesTheUninterruptedBatches() throws Exception {
    Path full = dir.resolve("full.txt");
    Path summary = dir.resolve("summary.json");
    CliResult whole = run("--digest-out", full.toString(), "--summary-json", summary.toString());
    // 120 of photos, 7 a batch: 8 whole batches per rank per epoch (56 of its 60), 4 left over on each, twice;
    // art gives 3 a batch, starting another pass of its 40 when it runs out
    assertThat(whole.out()).contains("batches 32 ").contains("drop-last remainder 16")
        .contains("sources: photos 224 samples (bad 0, filtered 0), art 96 samples (bad 0, filtered 0)");
    com.fasterxml.jackson.databind.JsonNode json = dev.conveyor.streams.json.Json.parse(Files.readString(summary));
    assertThat(json.path("sources").toString()).isEqualTo("[{\"name\":\"photos\",\"samples\":224,\"bad\":0,"
        + "\"filtered\":0},{\"name\":\"art\",\"samples\":96,\"bad\":0,\"filtered\":0}]");
    List<String> lines = Files.readAllLines(full);
    long seed = new SplittableRandom().nextLong();
    int k = 1 + new SplittableRandom(seed).nextInt(lines.size() / 2 - 1);
    assertThat(stoppedAndResumed(List.of(), k, "fixed")).as("seed %d: stopped after %d steps", seed, k)
        .isEqualTo(lines);
  }

  /**
   * The digest lines of the job with {@code flags}, stopped after {@code k} steps with cursors saved
   * (in {@code ck-NAME}) and run again from the latest one to the end: both runs' lines.
   */
  static List<String> stoppedAndResumed(List<String> flags, int k, String name) throws Exception {
    Path ck = dir.resolve("ck-" + name);
    Path head = dir.resolve(name + "-head.txt");
    Path tail = dir.resolve(name + "-tail.txt");
    List<String> first = new ArrayList<>(flags);
    first.addAll(List.of("--max-steps", "" + k, "--checkpoint-dir", ck.toString(), "--digest-out", head.toString()));
    run(first.toArray(String[]::new));
    List<String> second = new ArrayList<>(flags);
    second.addAll(List.of("--checkpoint-dir", ck.toString(), "--resume", "latest", "--digest-out", tail.toString()));
    run(second.toArray(String[]::new));
    List<String> resumed = new ArrayList<>(Files.readAllLines(head));
    resumed.addAll(Files.readAllLines(tail));
    return resumed;
  }

  @Test
  void aFilteredMixResumedAtThreeRanksDeliversEverySampleThatRemainedOnceAndNoFilteredOne() throws Exception {
    // the pipeline's own sources are placeholders: --set names the test's (a pipeline's settings are over the job file)
    List<String> pipeline = List.of("--pipeline", MixedFilter.class.getName(), "--epochs", "1", "--set",
        "conveyor.job.sources=[{shards=\"" + dir.resolve("a").resolve("shards.json").toUri() + "\", weight=0.7, name=photos},"
            + " {shards=\"" + dir.resolve("b").resolve("shards.json").toUri() + "\", weight=0.3, repeat=true, name=art}]");
    Path ck = dir.resolve("ck-elastic");
    Path head = dir.resolve("elastic-head.txt");
    Path tail = dir.resolve("elastic-tail.txt");
    Path summary = dir.resolve("elastic-summary.json");
    List<String> first = new ArrayList<>(pipeline);
    first.addAll(List.of("--max-steps", "3", "--checkpoint-dir", ck.toString(), "--keys-out", head.toString()));
    run(first.toArray(String[]::new));
    List<String> second = new ArrayList<>(pipeline);
    second.addAll(List.of("--world", "3", "--checkpoint-dir", ck.toString(), "--resume", "latest", "--keys-out",
        tail.toString(), "--summary-json", summary.toString()));
    run(second.toArray(String[]::new));
    List<String> photos = new ArrayList<>();
    for (Path p : List.of(head, tail)) {
      for (String l : Files.readAllLines(p)) {
        String key = l.split(" ")[3];
        assertThat(MixedFilter.keeps(key.split("/")[1])).as("%s: a filtered sample is never delivered", key).isTrue();
        if (key.startsWith("a/")) {
          photos.add(key);
        }
      }
    }
    assertThat(Files.readAllLines(tail)).isNotEmpty()
        .allMatch(l -> List.of("0", "1", "2").contains(l.split(" ")[1]));
    // photos does not repeat: each of its kept samples at most once across the two runs, and those
    // not delivered are left over at the epoch's end (counted), never lost
    assertThat(photos).doesNotHaveDuplicates();
    long kept = java.util.stream.IntStream.range(0, 120).filter(i -> MixedFilter.keeps(String.valueOf(i))).count();
    com.fasterxml.jackson.databind.JsonNode s = dev.conveyor.streams.json.Json.parse(Files.readString(summary));
    assertThat((long) photos.size()).isLessThanOrEqualTo(kept)
        .isGreaterThanOrEqualTo(kept - s.path("dropped_remainder").asLong());
  }

  /** The filtered mix of the job file's sources, with these flags. */
  static List<String> filteredMix(String... flags) {
    List<String> args = new ArrayList<>(List.of("--pipeline", MixedFilter.class.getName(), "--set",
        "conveyor.job.sources=[{shards=\"" + dir.resolve("a").resolve("shards.json").toUri() + "\", weight=0.7, name=photos},"
            + " {shards=\"" + dir.resolve("b").resolve("shards.json").toUri() + "\", weight=0.3, repeat=true, name=art}]"));
    args.addAll(List.of(flags));
    return args;
  }

  @Test
  void fullBatchesOfAFilteredMixAreFullCountEachSourceAndResumeAtTheSameOrAnotherWorldExactly() throws Exception {
    Path keys = dir.resolve("full-mix-keys.txt");
    Path whole = dir.resolve("full-mix-whole.txt");
    Path summary = dir.resolve("full-mix-summary.json");
    run(filteredMix("--full-batches", "--keys-out", keys.toString(), "--digest-out", whole.toString(), "--summary-json",
        summary.toString()).toArray(String[]::new));
    java.util.Map<String, List<String>> batches = new java.util.TreeMap<>();
    for (String l : Files.readAllLines(keys)) {
      String[] f = l.split(" ");
      batches.computeIfAbsent(f[0] + " " + f[1] + " " + f[2], b -> new ArrayList<>()).add(f[3]);
    }
    // a filter leaves out one sample in three, yet every batch holds ten kept samples, mostly photos
    assertThat(batches.values()).isNotEmpty().allSatisfy(b -> assertThat(b).hasSize(10)
        .allMatch(key -> MixedFilter.keeps(key.split("/")[1])));
    long photos = batches.values().stream().flatMap(List::stream).filter(key -> key.startsWith("a/")).count();
    com.fasterxml.jackson.databind.JsonNode s = dev.conveyor.streams.json.Json.parse(Files.readString(summary));
    com.fasterxml.jackson.databind.JsonNode src = s.path("sources");
    assertThat(src.get(0).path("samples").asLong()).isEqualTo(photos);
    assertThat(src.get(0).path("samples").asLong() + src.get(1).path("samples").asLong())
        .isEqualTo(s.path("samples").asLong()).isEqualTo(10L * batches.size());
    assertThat(src.get(0).path("filtered").asLong()).isPositive();
    assertThat(photos).isBetween(5L * batches.size(), 9L * batches.size());
    // stopped at a random step and resumed from the latest cursor: the uninterrupted batches
    List<String> all = Files.readAllLines(whole);
    long seed = new SplittableRandom().nextLong();
    int k = 1 + new SplittableRandom(seed).nextInt(all.size() / 2 - 1);
    assertThat(stoppedAndResumed(filteredMix("--full-batches"), k, "full-mix")).as("seed %d: stopped after %d steps",
        seed, k).isEqualTo(all);
    assertThat(Files.readString(dir.resolve("ck-full-mix").resolve("latest.cursor"))).as("a cursor of positions")
        .startsWith("cv2.");
    // stopped again and resumed at three ranks: full batches, no photo twice
    Path ck3 = dir.resolve("ck-full-mix-3");
    Path head3 = dir.resolve("full-mix-head3.txt");
    Path tail3 = dir.resolve("full-mix-tail3.txt");
    run(filteredMix("--full-batches", "--epochs", "1", "--max-steps", "3", "--checkpoint-dir", ck3.toString(),
        "--keys-out", head3.toString()).toArray(String[]::new));
    run(filteredMix("--full-batches", "--epochs", "1", "--world", "3", "--checkpoint-dir", ck3.toString(), "--resume",
        "latest", "--keys-out", tail3.toString()).toArray(String[]::new));
    List<String> delivered = new ArrayList<>();
    java.util.Map<String, Integer> sizes = new java.util.HashMap<>();
    for (Path p : List.of(head3, tail3)) {
      for (String l : Files.readAllLines(p)) {
        String[] f = l.split(" ");
        delivered.add(f[3]);
        sizes.merge(p + " " + f[1] + " " + f[2], 1, Integer::sum);
      }
    }
    assertThat(sizes.values()).allMatch(n -> n == 10);
    assertThat(Files.readAllLines(tail3).stream().map(l -> l.split(" ")[1]).distinct()).hasSize(3);
    assertThat(delivered.stream().filter(key -> key.startsWith("a/"))).doesNotHaveDuplicates();
  }

  @Test
  void aJobFileWithShardsAndSourcesOrABadSourceExitsWith2NamingTheKey() throws Exception {
    String[][] bad = {
        {"conveyor.job { shards = \"file:///x.tar\", sources = [ { shards = \"file:///a.tar\" } ] }", "conveyor.job.sources"},
        {"conveyor.job.sources = [ { shards = \"file:///a.tar\", weight = 0 } ]", "conveyor.job.sources[0].weight"},
        {"conveyor.job.sources = [ { shards = \"file:///a.tar\", wieght = 1 } ]", "conveyor.job.sources[0].wieght"},
    };
    for (int i = 0; i < bad.length; i++) {
      Path f = dir.resolve("bad-" + i + ".conf");
      Files.writeString(f, bad[i][0]);
      CliResult r = CliResult.run("run", f.toString());
      assertThat(r.code()).as(r.err()).isEqualTo(2);
      assertThat(r.err()).contains(bad[i][1]);
    }
  }
}
