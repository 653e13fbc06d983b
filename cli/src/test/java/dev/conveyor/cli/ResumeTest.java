package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.cursor.Cursor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cursors, checkpoints and resume end to end through the embedded S3 server. */
class ResumeTest {
  static final int SAMPLES = 60;

  @TempDir
  static Path dir;

  static S3Dataset data;

  @BeforeAll
  static void start() throws Exception {
    data = new S3Dataset(dir, SAMPLES - 4, 4, 80 * 1024);
  }

  @AfterAll
  static void stop() {
    data.close();
  }

  static List<String> lines(Path p) throws Exception {
    return Files.readAllLines(p);
  }

  static String token(CliResult r) {
    assertThat(r.code()).as(r.err()).isZero();
    return r.lastLine().substring("cursor: ".length());
  }

  @Test
  void stopAtEveryStepAndResumeFromLatestGivesTheUninterruptedDigestsAcrossEpochs() throws Exception {
    Path full = dir.resolve("full.txt");
    token(data.run("--world", "2", "--batch-size", "4", "--epochs", "2", "--digest-out", full.toString()));
    int steps = lines(full).size() / 2;
    assertThat(steps).as("two epochs of several steps").isGreaterThan(6);
    for (int k = 1; k < steps; k++) { // every stop point, across the epoch boundary too
      Path ck = dir.resolve("ck-" + k);
      Path head = dir.resolve("head-" + k + ".txt");
      Path tail = dir.resolve("tail-" + k + ".txt");
      token(data.run("--world", "2", "--batch-size", "4", "--epochs", "2", "--max-steps", "" + k,
          "--checkpoint-dir", ck.toString(), "--digest-out", head.toString()));
      assertThat(lines(head)).as("the first run stopped after " + k + " steps of both ranks").hasSize(2 * k)
          .isEqualTo(lines(full).subList(0, 2 * k));
      token(data.run("--world", "2", "--batch-size", "4", "--epochs", "2",
          "--checkpoint-dir", ck.toString(), "--resume", "latest", "--digest-out", tail.toString()));
      assertThat(lines(tail)).as("resumed after " + k + " steps").isEqualTo(lines(full).subList(2 * k, 2 * steps));
    }
  }

  @Test
  void anElasticResumeFromFourRanksToThreeDeliversEachRemainingSampleOnce() throws Exception {
    Path ck = dir.resolve("ck-elastic");
    Path before = dir.resolve("keys-before.txt");
    Path after = dir.resolve("keys-after.txt");
    token(data.run("--world", "4", "--batch-size", "3", "--max-steps", "2", "--checkpoint-dir", ck.toString(),
        "--keys-out", before.toString()));
    CliResult resumed = data.run("--world", "3", "--batch-size", "3", "--checkpoint-dir", ck.toString(),
        "--resume", "latest", "--keys-out", after.toString());
    String cursor = token(resumed);
    assertThat(resumed.err()).contains("elastic resume: the cursor was saved at world size 4, this run has 3");
    List<String> keys = Stream.concat(lines(before).stream(), lines(after).stream()).map(l -> l.split(" ")[3]).toList();
    assertThat(keys).hasSize(SAMPLES);
    assertThat(new HashSet<>(keys)).isEqualTo(new HashSet<>(IntStream.range(0, SAMPLES).mapToObj("%06d"::formatted).toList()));
    assertThat(lines(before)).hasSize(4 * 2 * 3);
    assertThat(lines(after).stream().map(l -> l.split(" ")[1]).distinct().sorted().toList()).containsExactly("0", "1", "2");
    assertThat(Cursor.decode(cursor).segments()).hasSize(2);
    // and the elastic remainder is itself deterministic
    Path again = dir.resolve("keys-again.txt");
    token(data.run("--world", "3", "--batch-size", "3", "--checkpoint-dir", dir.resolve("ck-other").toString(),
        "--resume", Files.readString(ck.resolve("cursor-000000-000000000001.cv")).trim(), "--keys-out", again.toString()));
    assertThat(lines(again)).isEqualTo(lines(after));
  }

  @Test
  void cursorsAreSavedEveryNStepsTheLastKAreKeptAndAnyOfThemResumes() throws Exception {
    Path ck = dir.resolve("ck-every");
    Path full = dir.resolve("every-full.txt");
    String last = token(data.run("--world", "2", "--batch-size", "2", "--checkpoint-dir", ck.toString(),
        "--set", "conveyor.job.checkpoint-every=3", "--set", "conveyor.job.checkpoint-keep=2", "--digest-out", full.toString()));
    int steps = lines(full).size() / 2;
    List<String> saved;
    try (Stream<Path> files = Files.list(ck)) {
      saved = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cv")).sorted().toList();
    }
    assertThat(saved).hasSize(2);
    assertThat(Files.readString(ck.resolve("latest.cursor")).trim()).isEqualTo(last);
    // the older kept cursor resumes too: its tail is the full run's tail
    String older = Files.readString(ck.resolve(saved.get(0))).trim();
    long done = Cursor.decode(older).current().batches(0);
    assertThat(done % 3).isZero();
    Path tail = dir.resolve("every-tail.txt");
    token(data.run("--world", "2", "--batch-size", "2", "--resume", older, "--digest-out", tail.toString()));
    assertThat(lines(tail)).isEqualTo(lines(full).subList((int) done * 2, steps * 2));
  }

  @Test
  void cursorsCanLiveInS3() throws Exception {
    String ck = "s3://data/checkpoints/run-1";
    Path head = dir.resolve("s3-head.txt");
    Path tail = dir.resolve("s3-tail.txt");
    Path full = dir.resolve("s3-full.txt");
    token(data.run("--world", "2", "--digest-out", full.toString(), "--batch-size", "5"));
    token(data.run("--world", "2", "--batch-size", "5", "--max-steps", "2", "--checkpoint-dir", ck, "--digest-out", head.toString()));
    assertThat(Files.exists(dir.resolve("s3/data/checkpoints/run-1/latest.cursor"))).isTrue();
    token(data.run("--world", "2", "--batch-size", "5", "--checkpoint-dir", ck, "--resume", "latest", "--digest-out", tail.toString()));
    List<String> joined = new ArrayList<>(lines(head));
    joined.addAll(lines(tail));
    assertThat(joined).isEqualTo(lines(full));
  }

  @Test
  void badCursorsExitWith2AndOneLineThatSaysWhatIsWrong() {
    String good = token(data.run("--world", "2", "--max-steps", "1"));
    char[] chars = good.toCharArray();
    chars[10] = chars[10] == 'x' ? 'y' : 'x';
    String[][] cases = {
        {new String(chars), "cursor checksum mismatch"},
        {good, "the cursor belongs to another recipe"},
        {"cv3" + good.substring(3), "cursor version cv3 is newer than this build"},
    };
    for (String[] c : cases) {
      String seed = c[1].contains("another recipe") ? "8" : "0";
      CliResult r = data.run("--world", "2", "--seed", seed, "--resume", c[0]);
      assertThat(r.code()).as(c[1]).isEqualTo(2);
      List<String> errors = r.err().lines().toList();
      assertThat(errors).singleElement().satisfies(l -> assertThat(l).startsWith("conveyor run: configuration error: --resume: ")
          .contains(c[1]));
    }
    CliResult none = data.run("--resume", "latest");
    assertThat(none.code()).isEqualTo(2);
    assertThat(none.err()).contains("\"latest\" and \"auto\" need a checkpoint directory");
  }

  @Test
  void resumeOrStartStartsWithoutACursorThenGoesOnFromTheNewestOneAndNeverStartsOverOnDamagedOnes() throws Exception {
    Path full = dir.resolve("auto-full.txt");
    token(data.run("--world", "2", "--batch-size", "4", "--digest-out", full.toString()));
    Path ck = dir.resolve("ck-auto");
    // no cursor yet: the start, said so
    Path head = dir.resolve("auto-head.txt");
    CliResult first = data.run("--world", "2", "--batch-size", "4", "--max-steps", "3", "--checkpoint-dir", ck.toString(),
        "--resume-or-start", "--digest-out", head.toString());
    token(first);
    assertThat(first.err()).contains("no cursor in the checkpoint directory yet: starting from the beginning");
    assertThat(lines(head)).isEqualTo(lines(full).subList(0, 6));
    // the same command again (as a restarted Job runs it), here through the job setting: the rest, from the cursor
    Path tail = dir.resolve("auto-tail.txt");
    token(data.run("--world", "2", "--batch-size", "4", "--checkpoint-dir", ck.toString(),
        "--set", "conveyor.job.resume=auto", "--digest-out", tail.toString()));
    assertThat(lines(tail)).isEqualTo(lines(full).subList(6, lines(full).size()));

    // cursors that are all damaged are refused: a run never silently starts over
    Path torn = dir.resolve("ck-torn");
    Files.createDirectories(torn);
    Files.writeString(torn.resolve("latest.cursor"), "cv1.not-a-cursor\n");
    CliResult refused = data.run("--world", "2", "--batch-size", "4", "--checkpoint-dir", torn.toString(),
        "--resume-or-start");
    assertThat(refused.code()).as(refused.err()).isEqualTo(2);
    assertThat(refused.err()).contains("conveyor.job.checkpoint-dir").contains("nothing to resume from");

    CliResult both = data.run("--resume", "latest", "--resume-or-start", "--checkpoint-dir", ck.toString());
    assertThat(both.code()).isEqualTo(2);
    assertThat(both.err()).contains("--resume and --resume-or-start: give one of them");
    CliResult noDir = data.run("--set", "conveyor.job.resume=auto");
    assertThat(noDir.code()).isEqualTo(2);
    assertThat(noDir.err()).contains("conveyor.job.resume").contains("checkpoint-dir, which is empty");
  }
}
