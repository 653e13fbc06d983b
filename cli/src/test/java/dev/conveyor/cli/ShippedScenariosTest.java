package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.streams.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every scenario shipped in {@code sim/scenarios/} runs green in the suite: real node processes,
 * the fault proxy, the nemesis and the checker, each fault struck at the batch the scenario says
 * (the checker calls any other {@code fault-missed}). {@link SimCommandTest} runs {@code kill} and
 * {@code rolling-upgrade} with closer checks; this class runs the rest, and fails when a scenario
 * is shipped that neither runs. A partition needs root (CI is root): without network namespaces,
 * forced or not, it is recorded not applied and the verdict fails.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ShippedScenariosTest {
  /** The scenarios this class runs, with the faults (and recoveries) each verdict lists as applied. */
  static final Map<String, Integer> FAULTS = Map.of("stop-cont", 2, "partition", 2, "s3-storms", 10,
      "trainer-host-kill", 3, "random", 6);
  /** The ones {@link SimCommandTest} runs. */
  static final List<String> ELSEWHERE = List.of("kill", "rolling-upgrade");
  static final boolean ROOT = "root".equals(System.getProperty("user.name"));
  private static final Pattern AT_BATCH = Pattern.compile(" at batch (\\d+)[^:]*: at batch (\\d+),");

  @TempDir
  Path dir;

  static Stream<String> scenarios() {
    return FAULTS.keySet().stream().sorted();
  }

  @Test
  void everyShippedScenarioRunsInTheSuite() throws Exception {
    try (Stream<Path> files = Files.list(Path.of("..", "sim", "scenarios"))) {
      List<String> shipped = files.map(p -> p.getFileName().toString().replaceAll("\\.conf$", "")).sorted().toList();
      assertThat(shipped).hasSize(FAULTS.size() + ELSEWHERE.size());
      assertThat(shipped).allSatisfy(s -> assertThat(FAULTS.containsKey(s) || ELSEWHERE.contains(s)).as(s).isTrue());
    }
  }

  @ParameterizedTest
  @MethodSource("scenarios")
  void aShippedScenarioGivesTheReferenceBatchesWithEachFaultStruckWhereItSays(String name) throws Exception {
    Path out = dir.resolve(name);
    if (name.equals("partition") && !ROOT) { // no namespaces here: the partition cannot be applied
      assertNotApplied(CliResult.run("sim", SimCommandTest.scenario(name).toString(), "--out", out.toString()), out);
      return;
    }
    JsonNode verdict = SimCommandTest.green(name, out, FAULTS.get(name));
    int timedByBatch = 0;
    for (JsonNode f : verdict.path("faults_applied")) {
      Matcher m = AT_BATCH.matcher(f.asText());
      if (m.find()) {
        assertThat(m.group(2)).as(f.asText()).isEqualTo(m.group(1));
        timedByBatch++;
      }
    }
    assertThat(timedByBatch).as("faults timed by batch in " + verdict.path("faults_applied")).isPositive();
    for (JsonNode f : verdict.path("faults_applied")) {
      if (f.asText().startsWith("s3 healthy")) { // every S3 storm faulted requests (none: fault-missed)
        assertThat(f.asText()).doesNotContain(": 0 request(s)");
      }
    }
    if (name.equals("stop-cont")) { // the paused worker was downed, its slices leased again; back, it stopped
      String summary = Files.readString(out.resolve("run-1").resolve("stdout.txt"));
      assertThat(SimCommandTest.count(summary, "leased again")).as(summary).isPositive();
      Matcher cont = Pattern.compile("cont node 3 at \\d+ms: at batch (\\d+),").matcher(verdict.path("faults_applied").toString());
      assertThat(cont.find()).as(verdict.path("faults_applied").toString()).isTrue();
      long batches = Files.readAllLines(out.resolve("reference.jsonl")).stream().filter(l -> l.startsWith("{\"type\":\"batch\"")).count();
      assertThat(Long.parseLong(cont.group(1))).as("continued while the job still ran").isLessThan(batches);
      assertThat(Files.readString(out.resolve("node-3.log"))).contains("node: leaving the cluster").contains("node: stopped");
    }
    if (name.equals("partition")) { // a live minority (keep-majority): the cut-off worker downed itself, the rest went on
      assertThat(Files.readString(out.resolve("node-3.log"))).contains("SBR took decision DownReachable")
          .contains("including myself").contains("node: stopped");
      // downed while still cut off, it stopped, and was started again as its pod would be
      assertThat(verdict.path("faults_applied").toString()).contains("restart node 3 " + SimCommandTest.RESPAWN + ", exit ");
      // its slices went to other readers: leased again when their holders saw it removed, or — when its own
      // shutdown's hand-back reached them first (the link healed meanwhile) — handed back (both seen in CI)
      String summary = Files.readString(out.resolve("run-1").resolve("stdout.txt"));
      assertThat(SimCommandTest.count(summary, "leased again") + SimCommandTest.count(summary, "handed back"))
          .as(summary).isPositive();
    }
    if (name.equals("trainer-host-kill")) { // the same command run again, as a Job's retry: from the previous good cursor
      List<String> history = Files.readAllLines(out.resolve("history.jsonl"));
      assertThat(history.stream().filter(l -> l.startsWith("{\"type\":\"attempt\""))).hasSize(2);
      assertThat(Files.readString(out.resolve("run-2").resolve("stderr.txt")))
          .contains("latest.cursor is unreadable").contains("resuming from the previous good cursor");
      for (int run = 1; run <= 2; run++) {
        assertThat(Files.readString(out.resolve("run-" + run).resolve("command.txt"))).contains("--resume-or-start")
            .doesNotContain("--resume latest");
      }
    }
    if (name.equals("s3-storms")) { // the changed bytes were caught and read again, not dead-lettered
      String logs = Files.readString(out.resolve("node-2.log")) + Files.readString(out.resolve("node-3.log"));
      assertThat(logs).containsAnyOf("reading again from sample", "reading its index", "fetching it again");
    }
  }

  @Test
  void aPartitionWithoutNetworkNamespacesIsRecordedNotAppliedAndTheVerdictFails() throws Exception {
    Path scenario = Files.writeString(dir.resolve("cut.conf"), """
        nodes = 3
        job { shards = 4, samples = 160, world = 2, batch-size = 8, epochs = 2, decode = none, seed = 3, trainer-step = 20ms }
        faults = [
          { at = "batch 5", action = partition, node = 3 }
          { at = "3s", action = heal, node = 3 }
        ]
        expect { exit = 0 }
        """);
    Path out = dir.resolve("cut");
    assertNotApplied(CliResult.run("sim", scenario.toString(), "--out", out.toString(), "--no-namespaces"), out);
  }

  static void assertNotApplied(CliResult r, Path out) throws Exception {
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(ConveyorCli.EXIT_FAILURE);
    assertThat(r.lastLine()).startsWith("verdict: FAILED").contains("2 not applied");
    JsonNode verdict = Json.parse(Files.readString(out.resolve("verdict.json")));
    assertThat(verdict.path("ok").asBoolean()).isFalse();
    assertThat(verdict.path("faults_not_applied").toString()).contains("partition node 3").contains("not applied");
    assertThat(verdict.path("faults_applied").toString()).doesNotContain("partition");
  }
}
