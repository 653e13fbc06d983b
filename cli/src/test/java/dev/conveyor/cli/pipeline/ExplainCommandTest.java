package dev.conveyor.cli.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.cli.CliResult;
import dev.conveyor.cli.ConveyorCli;
import dev.conveyor.streams.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code conveyor explain}: the graph a job would run — its stages in order, where each runs, the
 * pools' asks and concurrency as the settings finally have them, how many actors each may have on
 * this machine — and where each setting came from; a refusal named as placement would name it.
 */
class ExplainCommandTest {
  @TempDir
  Path dir;

  static CliResult explain(String... args) {
    List<String> all = new ArrayList<>(List.of("explain"));
    all.addAll(List.of(args));
    return CliResult.run(all.toArray(String[]::new));
  }

  @Test
  void theJsonNamesEachStageWhereItRunsThePoolsAsSetAndWhereEachSettingCameFrom() throws Exception {
    Path job = Files.writeString(dir.resolve("job.conf"), "conveyor.job.epochs = 3\n");
    CliResult o = explain(job.toString(), "--pipeline", Captioned.class.getName(), "--world", "4", "--json",
        "--set", "conveyor.node.resources.cpus=8",
        "--set", "conveyor.job.pools=[{stage = \"caption#1\", resources {cpus = 2}, concurrency = [2, 6]}]");
    assertThat(o.code()).as(o.err()).isZero();
    JsonNode j = Json.parse(o.out());
    assertThat(j.path("pipeline").asText()).isEqualTo(Captioned.class.getName());
    assertThat(j.path("ranks").asInt()).isEqualTo(4);
    assertThat(j.path("stages")).hasSize(2);
    assertThat(j.path("stages").get(0).path("name").asText()).isEqualTo("filter#0");
    assertThat(j.path("stages").get(0).path("runs").asText()).isEqualTo("before-decode");
    JsonNode caption = j.path("stages").get(1);
    assertThat(caption.path("kind").asText()).isEqualTo("actor");
    assertThat(caption.path("resources").asText()).as("as --set has it").isEqualTo("cpus=2");
    assertThat(caption.path("min").asInt()).isEqualTo(2);
    JsonNode pool = j.path("pools").get(0);
    assertThat(pool.path("stage").asText()).isEqualTo("caption#1");
    assertThat(pool.path("hereLimit").asInt()).as("8 cpus hold 4 actors of 2").isEqualTo(4);
    JsonNode from = j.path("settingsFrom");
    assertThat(from.path("conveyor.job.pools").asText()).isEqualTo("--set");
    assertThat(from.path("conveyor.job.world-size").asText()).isEqualTo("a flag");
    assertThat(from.path("conveyor.job.epochs").asText()).contains("job.conf").contains("line 1");
    assertThat(from.path("conveyor.job.batch-size").asText()).isEqualTo("pipeline " + Captioned.class.getName());
    assertThat(from.path("conveyor.job.seed").asText()).isEqualTo("reference.conf");
  }

  @Test
  void theTextSaysWhyThisMachineCannotHostAPoolAndAFusedPipelineHasNone() {
    CliResult gpu = explain("--pipeline", Captioned.OnGpu.class.getName());
    assertThat(gpu.code()).as(gpu.err()).isZero();
    assertThat(gpu.out()).contains("2. caption#1").contains("in the actor pool caption#1")
        .contains("cpus=1, gpus=1 per actor, concurrency [1, 2]").contains("none: the stage caption#1 asks");
    CliResult fused = explain("--pipeline", Captioned.Fused.class.getName());
    assertThat(fused.out()).contains("fused in the decoders").doesNotContain("actor pools");
    CliResult bad = explain("--pipeline", "no.such.Pipeline");
    assertThat(bad.code()).isEqualTo(ConveyorCli.EXIT_USAGE);
    assertThat(bad.err()).contains("conveyor.job.pipeline");
  }
}
