package dev.conveyor.cli.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.cli.CliResult;
import dev.conveyor.cli.ConveyorCli;
import dev.conveyor.cli.Datasets;
import dev.conveyor.streams.json.Json;
import dev.conveyor.tools.datagen.DatasetSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An actor-pool stage in a job, run as an author runs it ({@code run --pipeline}): the batches
 * are byte for byte those of the same stage fused in the decoders, in plan order though its
 * actors finish out of turn; each actor makes its instance once; a sample whose actor threw is
 * retried and delivered; a stage asking a GPU of a node without one is refused at placement
 * with exit 2 naming the stage, its ask and the node's offer, and runs where a GPU is offered;
 * and a stage that cannot be made stops the job naming it.
 */
class ActorStageRunTest {
  static final int IMAGES = 48;

  @TempDir
  static Path dir;

  static String shards;

  @BeforeAll
  static void data() throws Exception {
    shards = Datasets.generate(dir, "data", new DatasetSpec(IMAGES, 4, 64 * 1024, 33));
  }

  static CliResult run(String pipeline, String name, String... more) {
    List<String> args = new ArrayList<>(List.of("run", "--pipeline", pipeline, "--shards", shards, "--world", "2",
        "--epochs", "2", "--digest-out", dir.resolve(name + "-digests.txt").toString(), "--summary-json",
        dir.resolve(name + "-summary.json").toString()));
    args.addAll(List.of(more));
    return CliResult.run(args.toArray(String[]::new));
  }

  static List<String> digests(String name) throws Exception {
    return Files.readAllLines(dir.resolve(name + "-digests.txt"));
  }

  @Test
  void aPooledStageDeliversTheBatchesOfTheSameStageFusedEachActorMakingItsInstanceOnce() throws Exception {
    CliResult fused = run(Captioned.Fused.class.getName(), "fused");
    assertThat(fused.code()).as(fused.err()).isZero();
    int before = Captioned.Captioner.MADE.get();
    CliResult pooled = run(Captioned.class.getName(), "pooled", "--set", "conveyor.node.resources.cpus=3");
    int made = Captioned.Captioner.MADE.get() - before;
    assertThat(pooled.code()).as(pooled.err()).isZero();
    assertThat(digests("pooled")).as("batch digests, in order").isEqualTo(digests("fused")).hasSizeGreaterThan(IMAGES / 4);
    assertThat(made).as("instances made: one per actor (1 to 3)").isBetween(1, 3);
    JsonNode s = Json.parse(Files.readString(dir.resolve("pooled-summary.json")));
    assertThat(s.path("bad_samples").asLong()).isZero();
  }

  @Test
  void aSampleWhoseActorThrewIsRetriedOnAFreshInstanceAndTheBatchesAreThoseOfAnUndisturbedRun() throws Exception {
    CliResult calm = run(Captioned.class.getName(), "calm");
    assertThat(calm.code()).as(calm.err()).isZero();
    Captioned.Captioner.FAIL_ONCE.addAll(List.of(7, 30, 41));
    CliResult disturbed = run(Captioned.class.getName(), "disturbed");
    assertThat(disturbed.code()).as(disturbed.err()).isZero();
    assertThat(Captioned.Captioner.FAIL_ONCE).as("each failure happened").isEmpty();
    assertThat(digests("disturbed")).isEqualTo(digests("calm"));
    JsonNode s = Json.parse(Files.readString(dir.resolve("disturbed-summary.json")));
    assertThat(s.path("bad_samples").asLong()).isZero();
  }

  @Test
  void aStageAskingAGpuOfANodeWithNoneIsRefusedAtPlacementNamingItAndRunsWhereOneIsOffered() throws Exception {
    CliResult none = run(Captioned.OnGpu.class.getName(), "gpu-none");
    assertThat(none.code()).as(none.out() + none.err()).isEqualTo(ConveyorCli.EXIT_USAGE);
    assertThat(none.err()).contains("caption#1").contains("gpus=1").contains("offers (cpus=")
        .contains("conveyor.job.pools");
    assertThat(none.err().lines().count()).as("one line").isEqualTo(1);

    CliResult unnamed = run(Captioned.OnGpu.class.getName(), "gpu-unnamed", "--set",
        "conveyor.job.pools=[{stage = \"other#1\", concurrency = [1, 1]}]");
    assertThat(unnamed.code()).as(unnamed.err()).isEqualTo(ConveyorCli.EXIT_USAGE);
    assertThat(unnamed.err()).contains("conveyor.job.pools").contains("[other#1]").contains("[caption#1]");

    CliResult offered = run(Captioned.OnGpu.class.getName(), "gpu-offered", "--set", "conveyor.node.resources.gpus=1");
    assertThat(offered.code()).as(offered.err()).isZero();
    CliResult fused = run(Captioned.Fused.class.getName(), "gpu-reference");
    assertThat(fused.code()).as(fused.err()).isZero();
    assertThat(digests("gpu-offered")).isEqualTo(digests("gpu-reference"));
  }

  @Test
  void aStageWhoseConstructorKeepsFailingStopsTheJobWithExit3NamingTheStageAndTheError() {
    CliResult r = run(Captioned.Unmakeable.class.getName(), "unmakeable");
    assertThat(r.code()).as(r.err()).isEqualTo(3);
    assertThat(r.err()).contains("over max-bad-fraction").contains("the stage caption#1 could not be made")
        .contains("constructor failed 3 times in a row").contains("no weights at /models/captioner.bin");
  }
}

