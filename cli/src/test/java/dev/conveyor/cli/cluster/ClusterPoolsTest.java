package dev.conveyor.cli.cluster;

import static dev.conveyor.cli.cluster.NodeProcesses.cli;
import static dev.conveyor.cli.cluster.NodeProcesses.concat;
import static dev.conveyor.cli.cluster.NodeProcesses.freePort;
import static dev.conveyor.cli.cluster.NodeProcesses.get;
import static dev.conveyor.cli.cluster.NodeProcesses.seeds;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.cli.Datasets;
import dev.conveyor.cli.cluster.NodeProcesses.Cli;
import dev.conveyor.cli.pipeline.Captioned;
import dev.conveyor.cli.pipeline.RecaptionExampleTest;
import dev.conveyor.cli.pipeline.SinkJobTest;
import dev.conveyor.cli.pipeline.WritesCaptions;
import dev.conveyor.streams.json.Json;
import dev.conveyor.tools.datagen.DatasetSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Actor-pool stages and sinks on a cluster of node processes (every message through the wire
 * format): a pool asking a GPU is placed only on the worker that offers one, the other worker
 * reading and decoding all the same and sending its samples there, and the batches are those of
 * one process running the stage fused; a batch job whose worker holding a pool's actors
 * is SIGKILLed mid-job delivers the same batches and writes the same shards as one process; the
 * recaptioning example writes on the cluster what it writes in one process; a recipe over the
 * dataset's catalog delivers on the cluster what it delivers in one process.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ClusterPoolsTest {
  @TempDir
  Path dir;

  NodeProcesses nodes;

  @AfterEach
  void stop() throws Exception {
    if (nodes != null) {
      nodes.close();
    }
  }

  @Test
  void aGpuPoolRunsOnlyWhereOfferedAndABatchJobWithAWorkerKilledWritesWhatOneProcessWrites() throws Exception {
    nodes = new NodeProcesses(dir);
    String shards = Datasets.generate(dir, "data", new DatasetSpec(64, 0, 64 * 1024, 5));
    String[] job = {"run", "--shards", shards, "--world", "2", "--epochs", "2", "--batch-size", "4"};
    Path reference = dir.resolve("fused.txt");
    Cli ref = cli(concat(job, "--pipeline", Captioned.Fused.class.getName(), "--digest-out", reference.toString()));
    assertThat(ref.code()).as(ref.err()).isZero();

    int port = freePort();
    // the trainer host takes a batch every 40 ms, so that the job is still running when a worker is killed
    nodes.start("host", "conveyor.node { roles = [trainer-host], simulated-trainer-step = 40ms, port = " + port + ", "
        + seeds(port) + " }");
    nodes.start("worker1", "conveyor.node { roles = [worker], port = 0, resources.gpus = 1, " + seeds(port) + " }");
    Process worker2 = nodes.start("worker2", "conveyor.node { roles = [worker], port = 0, " + seeds(port) + " }");

    // explain --cluster says where the pool would run, as placement then runs it
    Cli explained = cli("explain", "--pipeline", Captioned.OnGpu.class.getName(), "--cluster", "127.0.0.1:" + port,
        "--json");
    assertThat(explained.code()).as(explained.err()).isZero();
    JsonNode plan = Json.parse(explained.out()).path("cluster");
    String worker1 = Json.parse(get(nodes.http("worker1") + "/status").body()).path("node").asText();
    String worker2Node = Json.parse(get(nodes.http("worker2") + "/status").body()).path("node").asText();
    assertThat(texts(plan.path("readers"))).as("both workers read").containsExactlyInAnyOrder(worker1, worker2Node);
    assertThat(texts(plan.path("poolHosts"))).as("only worker1 hosts the pool").containsExactly(worker1);
    JsonNode planned = null;
    for (JsonNode n : plan.path("nodes")) {
      if (n.path("node").asText().equals(worker1)) {
        planned = n;
      } else if (n.path("roles").toString().contains("worker")) {
        assertThat(n.path("cannotHost").asText()).contains("caption#1").contains("gpus=1");
      }
    }
    assertThat(planned).isNotNull();
    int plannedLimit = planned.path("pools").get(0).path("limit").asInt();

    Path gpu = dir.resolve("gpu.txt");
    Cli onGpu = cli(concat(job, "--pipeline", Captioned.OnGpu.class.getName(), "--cluster", "127.0.0.1:" + port,
        "--digest-out", gpu.toString()));
    assertThat(onGpu.code()).as(onGpu.err() + onGpu.out()).isZero();
    assertThat(Files.readAllLines(gpu)).hasSizeGreaterThan(10).isEqualTo(Files.readAllLines(reference));
    assertThat(pools("worker1")).as("worker1 offers the GPU: the pool is there, and captions every sample")
        .anySatisfy(p -> {
          assertThat(p.path("stage").asText()).isEqualTo("caption#1");
          assertThat(p.path("samples").asLong()).isEqualTo(2 * 64);
          assertThat(p.path("limit").asInt()).as("the limit explain said").isEqualTo(plannedLimit);
        });
    assertThat(pools("worker2")).as("worker2 offers none: no pool there").isEmpty();

    // a recipe over the dataset's catalog: its chosen samples' shards (on the wire) read on the cluster as in one process
    String[] chosen = {"run", "--shards", shards, "--world", "2", "--epochs", "1", "--batch-size", "4", "--decode",
        "none", "--where", "label <> 2"};
    Path chosenAlone = dir.resolve("where-one.txt");
    Path chosenOnCluster = dir.resolve("where-cluster.txt");
    Cli whereOne = cli(concat(chosen, "--digest-out", chosenAlone.toString()));
    Cli whereCluster = cli(concat(chosen, "--cluster", "127.0.0.1:" + port, "--digest-out",
        chosenOnCluster.toString()));
    assertThat(whereOne.code()).as(whereOne.err()).isZero();
    assertThat(whereCluster.code()).as(whereCluster.err()).isZero();
    assertThat(Files.readAllLines(chosenOnCluster)).hasSizeGreaterThan(4).isEqualTo(Files.readAllLines(chosenAlone));
    assertThat(latest("worker2", "readers").path("events").asLong())
        .as("worker2 read and decoded its share all the same").isPositive();
    JsonNode routed = latest("worker2", "routes");
    assertThat(routed.path("fronts").asInt()).as("worker2 sent to worker1's pool").isEqualTo(1);
    assertThat(routed.path("samplesSent").asLong()).as("its samples, captioned on worker1").isPositive()
        .isLessThan(2 * 64);

    // a batch job: the captions of a pool on both workers written by the trainer host's sinks,
    // worker2 (not the coordinator's) killed after a few batches: the files of one process's run
    String[] sinkJob = concat(job, "--pipeline", WritesCaptions.Slow.class.getName());
    Path one = dir.resolve("one-process");
    Cli oneRun = cli(concat(sinkJob, "--set", "conveyor.job.sink.to=\"" + one.toUri() + "\"", "--digest-out",
        dir.resolve("one-digests.txt").toString()));
    assertThat(oneRun.code()).as(oneRun.err()).isZero();
    Path killed = dir.resolve("killed");
    int delivered = (int) NodeProcesses.metric(get(nodes.http("host") + "/metrics").body(), "conveyor_rank_batches_total");
    CompletableFuture<Cli> run = CompletableFuture.supplyAsync(() -> cli(concat(sinkJob, "--cluster", "127.0.0.1:" + port,
        "--set", "conveyor.job.sink.to=\"" + killed.toUri() + "\"", "--digest-out",
        dir.resolve("killed-digests.txt").toString())));
    nodes.afterBatches("host", delivered + 4);
    assertThat(pools("worker2")).as("worker2 runs the pool before it is killed")
        .anySatisfy(p -> assertThat(p.path("samples").asLong()).isPositive());
    worker2.destroyForcibly();
    Cli after = run.get(180, TimeUnit.SECONDS);
    assertThat(after.code()).as(after.err() + after.out()).isZero();
    assertThat(Files.readAllLines(dir.resolve("killed-digests.txt")))
        .isEqualTo(Files.readAllLines(dir.resolve("one-digests.txt")));
    assertThat(SinkJobTest.files(killed)).as("the same shards, byte for byte").isEqualTo(SinkJobTest.files(one))
        .hasSizeGreaterThan(4);

    // the recaptioning example on what is left of the cluster writes what it writes in one process
    String videos = Datasets.generate(dir, "videos", new DatasetSpec(0, 8, 64 * 1024, 6));
    Path alone = dir.resolve("captions-one");
    Cli r1 = cli(RecaptionExampleTest.recaption(videos, alone));
    assertThat(r1.code()).as(r1.err()).isZero();
    Path clustered = dir.resolve("captions-cluster");
    Cli r2 = cli(RecaptionExampleTest.recaption(videos, clustered, "--cluster", "127.0.0.1:" + port));
    assertThat(r2.code()).as(r2.err() + r2.out()).isZero();
    assertThat(SinkJobTest.files(clustered)).isEqualTo(SinkJobTest.files(alone)).containsKey("shards.json");
  }

  static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(r -> out.add(r.asText()));
    return out;
  }

  /** The last entry of {@code part} in node {@code name}'s /status (its latest job's). */
  JsonNode latest(String name, String part) throws Exception {
    JsonNode all = Json.parse(get(nodes.http(name) + "/status").body()).path(part);
    return all.get(all.size() - 1);
  }

  /** The pools of the latest job in node {@code name}'s /status. */
  List<JsonNode> pools(String name) throws Exception {
    JsonNode status = Json.parse(get(nodes.http(name) + "/status").body());
    List<JsonNode> out = new ArrayList<>();
    status.path("pools").forEach(out::add);
    String latest = out.isEmpty() ? "" : out.get(out.size() - 1).path("job").asText();
    return out.stream().filter(p -> p.path("job").asText().equals(latest)).toList();
  }
}
