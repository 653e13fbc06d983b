package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.streams.cursor.Cursor;
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
 * mechanism the scenario exercises seen at work; and a scenario with a typo refused at start. The
 * two: the coordinator's worker killed and started again, and a rolling upgrade of every worker.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SimCommandTest {
  @TempDir
  Path dir;

  static Path scenario(String name) {
    return Path.of("..", "sim", "scenarios", name + ".conf");
  }

  /** What a worker that ended on its own (downed, it found itself removed) is recorded with when it is started again. */
  static final String RESPAWN = "(it ended on its own";

  /**
   * Runs scenario {@code name} into {@code out}; checks what every green simulation must show,
   * with {@code faults} applied (and undone) besides the restarts of workers that ended on their
   * own, whose number depends on when they stopped; returns its verdict.
   */
  static JsonNode green(String name, Path out, int faults) throws Exception {
    CliResult r = CliResult.run("sim", scenario(name).toString(), "--out", out.toString());
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.lastLine()).startsWith("verdict: ok (0 violation(s), ").contains(" fault(s) applied, 0 not applied)");
    JsonNode verdict = Json.parse(Files.readString(out.resolve("verdict.json")));
    assertThat(verdict.path("ok").asBoolean()).isTrue();
    assertThat(verdict.path("violations")).isEmpty();
    List<String> applied = new java.util.ArrayList<>();
    verdict.path("faults_applied").forEach(f -> applied.add(f.asText()));
    assertThat(applied.stream().filter(f -> !f.contains(RESPAWN))).hasSize(faults);
    assertThat(verdict.path("faults_not_applied")).isEmpty();
    // the history holds every batch of the reference, and the faults with their times
    List<String> history = Files.readAllLines(out.resolve("history.jsonl"));
    List<String> reference = Files.readAllLines(out.resolve("reference.jsonl"));
    long refBatches = reference.stream().filter(l -> l.startsWith("{\"type\":\"batch\"")).count();
    assertThat(refBatches).isGreaterThan(100);
    // (a batch a trainer took as its host was killed goes unreported: the checker notes each one)
    int unreported = verdict.path("notes").size();
    assertThat(unreported).as("batches taken unreported: " + verdict.path("notes")).isLessThanOrEqualTo(8);
    assertThat(history.stream().filter(l -> l.startsWith("{\"type\":\"batch\"")))
        .hasSizeGreaterThanOrEqualTo((int) refBatches - unreported);
    assertThat(history.stream().filter(l -> l.startsWith("{\"type\":\"fault\"") && !l.contains(RESPAWN))).hasSize(faults);
    assertThat(history.stream().filter(l -> l.startsWith("{\"type\":\"progress\""))).hasSizeGreaterThan(20);
    // the report and its timeline
    assertThat(Files.readString(out.resolve("report.html"))).contains("verdict: ok").contains("<img src=\"timeline.png\"");
    BufferedImage timeline = ImageIO.read(out.resolve("timeline.png").toFile());
    assertThat(timeline.getWidth()).isEqualTo(1000);
    return verdict;
  }

  @Test
  void theCoordinatorsWorkerKilledAndStartedAgainThenItsSuccessorStoppedGivesTheReferenceBatches() throws Exception {
    Path out = dir.resolve("kill");
    JsonNode verdict = green("kill", out, 3);
    // each fault struck at its own batch: the trainers were held there until it had
    assertThat(verdict.path("faults_applied").toString()).contains("kill node 2 at batch 30: at batch 30,")
        .contains("restart node 2 at batch 60: at batch 60,").contains("term node 3 at batch 100: at batch 100,");
    // the killed worker's slices went to the other worker, whose node took the coordinator over
    // and went on from a cursor saved past the start
    String summary = Files.readString(out.resolve("run-1").resolve("stdout.txt"));
    assertThat(summary).contains("2 shard reader(s)");
    assertThat(count(summary, "leased again")).as(summary).isPositive();
    // then node 3 left with SIGTERM: its leases handed back, the coordinator moved to node 2 again
    assertThat(count(summary, "handed back")).as(summary).isPositive();
    assertThat(summary).contains("coordinator taken over 2 time(s)");
    assertThat(Files.readString(out.resolve("node-3.log"))).contains("node: leaving the cluster").contains("node: stopped");
    String err = Files.readString(out.resolve("run-1").resolve("stderr.txt"));
    assertThat(err).contains("took the job over, going on from the last saved cursor");
    String recovered = err.replaceAll("(?s).*going on from the last saved cursor (\\S+).*", "$1");
    Cursor c = Cursor.decode(recovered);
    assertThat(c.epoch() * 1_000_000L + java.util.Arrays.stream(c.current().batches()).sum())
        .as("a cursor past the start: " + recovered).isPositive();
  }

  @Test
  void aRollingUpgradeOfEveryWorkerWithRenewedCertificatesMidJobGivesTheReferenceBatchesAndAGreenVerdict()
      throws Exception {
    Path out = dir.resolve("rolling-upgrade");
    JsonNode verdict = green("rolling-upgrade", out, 3);
    // each worker in turn: SIGTERM, it handed its leases back and left (exit 0, checked by the
    // nemesis), and came back with the next app-version; none of its slices was leased again after a
    // failure; the leaving coordinator saved the cursor and its successor went on from it
    String summary = Files.readString(out.resolve("run-1").resolve("stdout.txt"));
    assertThat(count(summary, "handed back")).as(summary).isPositive();
    assertThat(count(summary, "leased again")).as(summary).isZero();
    assertThat(summary).contains("coordinator taken over 1 time(s)");
    assertThat(Files.readString(out.resolve("run-1").resolve("stderr.txt")))
        .contains("took the job over, going on from the last saved cursor");
    // mutual TLS throughout: the trainer host kept the first certificate, each upgraded worker came
    // back with the renewed one (the same CA, another end date), and they went on together
    String first = Files.readString(out.resolve("node-1.log")).replaceAll("(?s).*remoting tls \\(mutual, (CN=node until \\S+)\\).*", "$1");
    assertThat(first).startsWith("CN=node until ");
    String renewal = verdict.path("faults_applied").get(0).asText();
    assertThat(renewal).startsWith("renew-certs at batch 5: at batch 5,").contains("the member store renewed: CN=node until ");
    String renewed = renewal.replaceAll(".*the member store renewed: (CN=node until \\S+).*", "$1");
    assertThat(renewed).isNotEqualTo(first);
    for (JsonNode fault : List.of(verdict.path("faults_applied").get(1), verdict.path("faults_applied").get(2))) {
      assertThat(fault.asText()).contains("app-version 1.1.0").contains("remoting tls (mutual, " + renewed + ")");
    }
    assertThat(verdict.path("faults_applied").toString()).contains("upgrade node 3 at batch 10: at batch 10,")
        .contains("upgrade node 2 at batch 150: at batch 150,");
    List<JsonNode> progress = new java.util.ArrayList<>();
    java.util.Map<Integer, Long> upgradedAt = new java.util.HashMap<>();
    for (String line : Files.readAllLines(out.resolve("history.jsonl"))) {
      if (line.startsWith("{\"type\":\"progress\"")) {
        progress.add(Json.parse(line));
      } else if (line.startsWith("{\"type\":\"fault\"") && line.contains("\"action\":\"upgrade\"")) {
        JsonNode f = Json.parse(line);
        upgradedAt.put(f.path("node").asInt(), f.path("t").asLong());
      }
    }
    for (int node : new int[] {2, 3}) {
      String log = Files.readString(out.resolve("node-" + node + ".log"));
      assertThat(log).contains("node: leaving the cluster").contains("node: stopped")
          .contains("up, roles [worker], app-version 1.0.0").contains("up, roles [worker], app-version 1.1.0");
      // the upgraded process read for the running job: a reading of its samples/s after the
      // upgrade struck shows it reading (the last reading alone may come as the job ends)
      long after = upgradedAt.get(node);
      assertThat(progress.stream().filter(p -> p.path("node").asInt() == node && p.path("t").asLong() > after)
          .mapToDouble(p -> p.path("samples").asDouble()).max().orElse(0))
          .as("samples/s node " + node + "'s new process read at its busiest").isPositive();
    }
    // a departure, not a failure: no node ever marked another unreachable
    for (int node = 1; node <= 3; node++) {
      assertThat(Files.readString(out.resolve("node-" + node + ".log"))).doesNotContain("UNREACHABLE");
    }
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
