package dev.conveyor.cli.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.cli.CliResult;
import dev.conveyor.cli.Datasets;
import dev.conveyor.tools.datagen.DatasetSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batch-level stages ({@code mapBatches}): a stage over a batch's pictures as one array delivers
 * the bytes of the same work done sample by sample; a run stopped mid-way and resumed delivers
 * the rest exactly; a stage that throws fails the job naming the stage and the batch.
 */
class BatchStageRunTest {
  @TempDir
  static Path dir;

  static String shards;

  @BeforeAll
  static void data() throws Exception {
    shards = Datasets.generate(dir, "data", new DatasetSpec(40, 2, 64 * 1024, 8));
  }

  static CliResult run(String pipeline, String... more) {
    List<String> args = new ArrayList<>(List.of("run", "--pipeline", pipeline, "--shards", shards, "--world", "2",
        "--epochs", "2"));
    args.addAll(List.of(more));
    return CliResult.run(args.toArray(String[]::new));
  }

  @Test
  void aBatchStageDeliversWhatTheSameWorkSampleBySampleDeliversAndResumesExactly() throws Exception {
    Path batched = dir.resolve("batched.txt");
    Path sampled = dir.resolve("sampled.txt");
    CliResult a = run(Inverted.class.getName(), "--digest-out", batched.toString());
    assertThat(a.code()).as(a.err()).isZero();
    CliResult b = run(Inverted.PerSample.class.getName(), "--digest-out", sampled.toString());
    assertThat(b.code()).as(b.err()).isZero();
    assertThat(Files.readAllLines(batched)).hasSizeGreaterThan(10).isEqualTo(Files.readAllLines(sampled));

    Path head = dir.resolve("head.txt");
    Path tail = dir.resolve("tail.txt");
    Path cursors = dir.resolve("cursors");
    CliResult first = run(Inverted.class.getName(), "--max-steps", "3", "--checkpoint-dir", cursors.toString(),
        "--digest-out", head.toString());
    assertThat(first.code()).as(first.err()).isZero();
    CliResult rest = run(Inverted.class.getName(), "--resume", "latest", "--checkpoint-dir", cursors.toString(),
        "--digest-out", tail.toString());
    assertThat(rest.code()).as(rest.err()).isZero();
    List<String> both = new ArrayList<>(Files.readAllLines(head));
    both.addAll(Files.readAllLines(tail));
    assertThat(both).isEqualTo(Files.readAllLines(batched));
  }

  @Test
  void aBatchStageThatThrowsFailsTheJobNamingTheStageAndTheBatch() {
    CliResult r = run(Inverted.Throws.class.getName());
    assertThat(r.code()).as(r.err()).isNotZero();
    assertThat(r.err()).contains("the batch stage invert#b0 on batch").contains("out of memory on the device");
  }
}
