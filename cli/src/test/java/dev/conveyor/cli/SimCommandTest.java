package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.streams.json.Json;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code conveyor sim} end to end, on two shipped scenarios: real node processes, the embedded S3
 * server behind the fault proxy, the nemesis, the checker and the report — each green, with the
 * mechanism the scenario exercises seen at work; and a scenario with a typo refused at start.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SimCommandTest {
  @TempDir
  Path dir;

  static Path scenario(String name) {
    return Path.of("..", "sim", "scenarios", name + ".conf");
  }

  /** Runs scenario {@code name} into {@code out}; checks what every green simulation must show; returns its verdict. */
  JsonNode green(String name, Path out, int faults) throws Exception {
    CliResult r = CliResult.run("sim", scenario(name).toString(), "--out", out.toString());
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.lastLine()).startsWith("verdict: ok (0 violation(s), " + faults + " fault(s) applied, 0 not applied)");
    JsonNode verdict = Json.parse(Files.readString(out.resolve("verdict.json")));
    assertThat(verdict.path("ok").asBoolean()).isTrue();
    assertThat(verdict.path("violations")).isEmpty();
    assertThat(verdict.path("faults_applied")).hasSize(faults);
    assertThat(verdict.path("faults_not_applied")).isEmpty();
    // the history holds every batch of the reference, and the faults with their times
    List<String> history = Files.readAllLines(out.resolve("history.jsonl"));
    List<String> reference = Files.readAllLines(out.resolve("reference.jsonl"));
    long refBatches = reference.stream().filter(l -> l.startsWith("{\"type\":\"batch\"")).count();
    assertThat(refBatches).isGreaterThan(100);
    assertThat(history.stream().filter(l -> l.startsWith("{\"type\":\"batch\""))).hasSizeGreaterThanOrEqualTo((int) refBatches);
    assertThat(history.stream().filter(l -> l.startsWith("{\"type\":\"fault\""))).hasSize(faults);
    assertThat(history.stream().filter(l -> l.startsWith("{\"type\":\"progress\""))).hasSizeGreaterThan(20);
    // the report and its timeline
    assertThat(Files.readString(out.resolve("report.html"))).contains("verdict: ok").contains("<img src=\"timeline.png\"");
    BufferedImage timeline = ImageIO.read(out.resolve("timeline.png").toFile());
    assertThat(timeline.getWidth()).isEqualTo(1000);
    return verdict;
  }

  @Test
  void aWorkerKilledAndStartedAgainMidJobGivesTheReferenceBatchesAndAGreenVerdict() throws Exception {
    Path out = dir.resolve("kill");
    green("kill", out, 2);
    // the killed worker's slices went to the other worker
    String summary = Files.readString(out.resolve("run-1").resolve("stdout.txt"));
    assertThat(summary).contains("2 shard reader(s)");
    assertThat(count(summary, "leased again")).as(summary).isPositive();
  }

  @Test
  void theCoordinatorsWorkerStoppedWithSigtermHandsItsLeasesBackAndTheJobOverAndTheVerdictIsGreen() throws Exception {
    Path out = dir.resolve("term");
    green("term", out, 1);
    // it handed its leases back (none leased again after a failure); the leaving coordinator saved
    // the cursor and its successor went on from it
    String summary = Files.readString(out.resolve("run-1").resolve("stdout.txt"));
    assertThat(count(summary, "handed back")).as(summary).isPositive();
    assertThat(count(summary, "leased again")).as(summary).isZero();
    assertThat(summary).contains("coordinator taken over 1 time(s)");
    assertThat(Files.readString(out.resolve("run-1").resolve("stderr.txt")))
        .contains("took the job over, going on from the last saved cursor");
    assertThat(Files.readString(out.resolve("node-2.log"))).contains("node: leaving the cluster").contains("node: stopped");
  }

  /** The count after {@code what} in a run's summary line ("slices leased 7, leased again 0, handed back 1"). */
  static long count(String summary, String what) {
    return Long.parseLong(summary.replaceAll("(?s).*" + what + " (\\d+).*", "$1"));
  }

  @Test
  void aScenarioWithATypoIsRefusedAtStartNamingTheKeyAndTheFix() throws Exception {
    Path typo = Files.writeString(dir.resolve("typo.conf"), "nodes = 3\nfaults = [ { at = \"batch 3\", acton = kill,"
        + " node = 2 } ]\n");
    CliResult r = CliResult.run("sim", typo.toString(), "--out", dir.resolve("typo-out").toString());
    assertThat(r.code()).isEqualTo(ConveyorCli.EXIT_USAGE);
    assertThat(r.err()).contains("faults[0].acton: is not a scenario key (did you mean \"action\"?)");
    assertThat(dir.resolve("typo-out")).doesNotExist();
  }
}
