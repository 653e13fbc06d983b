package dev.conveyor.cli.cluster;

import static dev.conveyor.cli.cluster.NodeProcesses.cli;
import static dev.conveyor.cli.cluster.NodeProcesses.concat;
import static dev.conveyor.cli.cluster.NodeProcesses.freePort;
import static dev.conveyor.cli.cluster.NodeProcesses.get;
import static dev.conveyor.cli.cluster.NodeProcesses.metric;
import static dev.conveyor.cli.cluster.NodeProcesses.seeds;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.cli.ConveyorCli;
import dev.conveyor.cli.cluster.NodeProcesses.Cli;
import dev.conveyor.cli.cluster.NodeProcesses.Got;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster from the command line: three `conveyor node` processes on 127.0.0.1 (a trainer
 * host, two workers; every message serialized, serialize-messages = on) and `conveyor run
 * --cluster` submitting to them give the batch digests of a single-process `conveyor run` —
 * also when the trainer host is killed — and the nodes' HTTP endpoints show what they did. (The
 * coordinator's worker killed mid-job and started again, a worker paused past the failure
 * detector and a rolling upgrade are `conveyor sim` scenarios: SimCommandTest and
 * ShippedScenariosTest.)
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ClusterNodesTest {
  @TempDir
  Path dir;

  NodeProcesses nodes;

  @org.junit.jupiter.api.BeforeEach
  void processes() {
    nodes = new NodeProcesses(dir);
  }

  @AfterEach
  void stop() throws Exception {
    nodes.close();
  }

  Process node(String name, String conf) throws Exception {
    return nodes.start(name, conf);
  }

  String http(String name) throws Exception {
    return nodes.http(name);
  }

  /** The summary's fields that two runs of the same recipe must share, whatever ran them. */
  static final List<String> SAME_FIELDS = List.of("ranks", "shards", "samples", "batches", "bytes", "bad_samples",
      "dropped_remainder", "cursor");

  /** A summary file's fields named {@link #SAME_FIELDS}, each present. */
  static Map<String, JsonNode> sameFields(Path summary) throws IOException {
    JsonNode json = Json.parse(Files.readString(summary));
    Map<String, JsonNode> fields = new LinkedHashMap<>();
    for (String f : SAME_FIELDS) {
      assertThat(json.has(f)).as(f + " in " + summary).isTrue();
      fields.put(f, json.get(f));
    }
    return fields;
  }

  /** A trainer host (the seed, on {@code port}) and two workers; returns their processes in that order. */
  List<Process> startCluster(int port) throws Exception {
    return startCluster(port, "");
  }

  /** The same, with {@code hostSettings} (HOCON inside conveyor.node, ending in ", ") on the trainer host. */
  List<Process> startCluster(int port, String hostSettings) throws Exception {
    // one after another: the coordinator singleton runs on the oldest worker, worker1
    return List.of(
        node("host", "conveyor.node { roles = [trainer-host], " + hostSettings + "port = " + port + ", " + seeds(port) + " }"),
        node("worker1", "conveyor.node { roles = [worker], port = 0, " + seeds(port) + " }"),
        node("worker2", "conveyor.node { roles = [worker], port = 0, " + seeds(port) + " }"));
  }

  @Test
  void threeNodeProcessesRunAJobWhoseDigestsEqualASingleProcessRun() throws Exception {
    new DatasetGenerator(new FileShardStore(), dir.resolve("scratch"), 2)
        .generate(new DatasetSpec(80, 2, 96 * 1024, 13), dir.resolve("data").toUri(), n -> { });
    String shards = dir.resolve("data").resolve("shards.json").toUri().toString();
    Path reference = dir.resolve("reference.txt");
    Cli ref = cli("run", "--shards", shards, "--world", "2", "--epochs", "2", "--batch-size", "4",
        "--digest-out", reference.toString(), "--keys-out", dir.resolve("reference-keys.txt").toString(),
        "--summary-json", dir.resolve("reference-summary.json").toString());
    assertThat(ref.code()).as(ref.err()).isZero();

    int port = freePort();
    startCluster(port);

    Path digests = dir.resolve("cluster.txt");
    Cli run = cli("run", "--shards", shards, "--world", "2", "--epochs", "2", "--batch-size", "4",
        "--cluster", "127.0.0.1:" + port, "--digest-out", digests.toString(),
        "--keys-out", dir.resolve("keys.txt").toString(), "--summary-json", dir.resolve("summary.json").toString());
    assertThat(run.code()).as(run.err() + run.out()).isZero();
    assertThat(run.out()).contains("2 shard reader(s)");
    assertThat(Files.readAllLines(digests)).hasSizeGreaterThan(10).isEqualTo(Files.readAllLines(reference));
    assertThat(Files.readAllLines(dir.resolve("keys.txt"))).isEqualTo(Files.readAllLines(dir.resolve("reference-keys.txt")));
    assertThat(sameFields(dir.resolve("summary.json"))).isEqualTo(sameFields(dir.resolve("reference-summary.json")));
    JsonNode cluster = Json.parse(Files.readString(dir.resolve("summary.json"))).path("cluster");
    assertThat(cluster.path("leases").asLong()).isPositive();
    assertThat(cluster.path("coordinator_takeovers").isInt()).isTrue();
    assertThat(cluster.path("coordinator_takeovers").asInt()).isZero();
    // the cursor of a finished job is the one the single-process run ends with
    assertThat(run.out().lines().reduce((a, b) -> b).orElseThrow())
        .isEqualTo(ref.out().lines().reduce((a, b) -> b).orElseThrow());

    // every node answers its health checks and shows what it did
    for (String name : List.of("host", "worker1", "worker2")) {
      assertThat(get(http(name) + "/ready")).as(name).isEqualTo(new Got(200, "OK"));
      assertThat(get(http(name) + "/alive")).as(name).isEqualTo(new Got(200, "OK"));
    }
    JsonNode hostStatus = Json.parse(get(http("host") + "/status").body());
    assertThat(hostStatus.path("roles").toString()).isEqualTo("[\"trainer-host\"]");
    Map<Integer, String> rankStates = new java.util.TreeMap<>();
    hostStatus.path("ranks").forEach(r -> rankStates.put(r.path("rank").asInt(), r.path("state").asText()));
    assertThat(rankStates).isEqualTo(Map.of(0, "done", 1, "done"));
    assertThat(metric(get(http("host") + "/metrics").body(), "conveyor_rank_batches_total"))
        .isEqualTo(Files.readAllLines(digests).size());
    double events = 0;
    for (String w : List.of("worker1", "worker2")) {
      String page = get(http(w) + "/metrics").body();
      assertThat(page).contains("jvm_memory_bytes_used").contains("conveyor_store_bytes_read_total");
      events += metric(page, "conveyor_reader_events_total");
    }
    long delivered = Long.parseLong(run.out().replaceAll("(?s).*\n  samples ([\\d,]+) .*", "$1").replace(",", ""));
    assertThat(events).as("each sample delivered was sent once by a reader").isEqualTo(delivered);

    // decoding on the workers, in decoder pools sized by their CPU slots: the same tensors (at the
    // default sizes a clip, 8 x 112 x 112 x 3, is larger than Artery's default frame: it must still cross)
    Path decodedRef = dir.resolve("decoded-reference.txt");
    Path decoded = dir.resolve("decoded.txt");
    String[] small = {"--set", "conveyor.decode.augment.random-crop=on"};
    Cli oneDecoding = cli(concat(new String[] {"run", "--shards", shards, "--world", "2", "--epochs", "1", "--batch-size",
        "4", "--decode", "auto", "--digest-out", decodedRef.toString()}, small));
    assertThat(oneDecoding.code()).as(oneDecoding.err()).isZero();
    Cli clusterDecoding = cli(concat(new String[] {"run", "--shards", shards, "--world", "2", "--epochs", "1",
        "--batch-size", "4", "--decode", "auto", "--cluster", "127.0.0.1:" + port, "--digest-out", decoded.toString()},
        small));
    assertThat(clusterDecoding.code()).as(clusterDecoding.err() + clusterDecoding.out()).isZero();
    assertThat(Files.readAllLines(decoded)).hasSizeGreaterThan(5).isEqualTo(Files.readAllLines(decodedRef));
    double decodedSamples = 0;
    for (String w : List.of("worker1", "worker2")) {
      String page = get(http(w) + "/metrics").body();
      decodedSamples += metric(page, "conveyor_decoder_samples_total");
      assertThat(page).contains("conveyor_actor_restarts_total{actor=\"decoder\",} 0.0");
    }
    assertThat(decodedSamples).as("every sample decoded once, on a worker").isEqualTo(Long.parseLong(
        clusterDecoding.out().replaceAll("(?s).*\n  samples ([\\d,]+) .*", "$1").replace(",", "")));

    // a pipeline written with the DSL (the image classifier example: a filter before decoding, a
    // seeded map after), its classes from the examples' jar on every node's --classpath: in one
    // process, and on the cluster stopped at a random step and resumed, the same batches
    String[] pipeline = {"--pipeline", "dev.conveyor.examples.ImageClassifier", "--classpath",
        dev.conveyor.cli.Examples.jar().toString(), "--shards", shards, "--world", "2", "--epochs", "1",
        "--batch-size", "4", "--set", "conveyor.decode.image={short-side=64,crop-height=56,crop-width=56}"};
    Path pipelineRef = dir.resolve("pipeline-reference.txt");
    Cli onePipeline = cli(concat(concat(new String[] {"run"}, pipeline), "--digest-out", pipelineRef.toString()));
    assertThat(onePipeline.code()).as(onePipeline.err()).isZero();
    assertThat(onePipeline.out()).contains("filtered 2");
    int pipelineSteps = Files.readAllLines(pipelineRef).size() / 2;
    long seed = System.nanoTime();
    int k = 1 + new java.util.Random(seed).nextInt(pipelineSteps - 1);
    Path pipelineCk = dir.resolve("pipeline-checkpoints");
    Path pipelineHead = dir.resolve("pipeline-head.txt");
    Path pipelineTail = dir.resolve("pipeline-tail.txt");
    Cli headRun = cli(concat(concat(new String[] {"run"}, pipeline), "--cluster", "127.0.0.1:" + port, "--max-steps",
        "" + k, "--checkpoint-dir", pipelineCk.toString(), "--digest-out", pipelineHead.toString()));
    assertThat(headRun.code()).as(headRun.err() + headRun.out()).isZero();
    Cli tailRun = cli(concat(concat(new String[] {"run"}, pipeline), "--cluster", "127.0.0.1:" + port, "--resume",
        "latest", "--checkpoint-dir", pipelineCk.toString(), "--digest-out", pipelineTail.toString()));
    assertThat(tailRun.code()).as(tailRun.err() + tailRun.out()).isZero();
    List<String> pipelineBoth = new ArrayList<>(Files.readAllLines(pipelineHead));
    pipelineBoth.addAll(Files.readAllLines(pipelineTail));
    assertThat(pipelineBoth).as("stopped at step " + k + " of " + pipelineSteps + " (seed " + seed + ")")
        .isEqualTo(Files.readAllLines(pipelineRef));

    // stopped after 3 steps with its cursor saved by the coordinator, then resumed from it: the
    // two runs together deliver what one run does, and end at the same cursor
    Path checkpoints = dir.resolve("checkpoints");
    Path first = dir.resolve("first.txt");
    Path rest = dir.resolve("rest.txt");
    Cli stopped = cli("run", "--shards", shards, "--world", "2", "--epochs", "2", "--batch-size", "4",
        "--cluster", "127.0.0.1:" + port, "--max-steps", "3", "--checkpoint-dir", checkpoints.toString(),
        "--digest-out", first.toString());
    assertThat(stopped.code()).as(stopped.err() + stopped.out()).isZero();
    assertThat(stopped.out()).contains("(saved in " + checkpoints);
    assertThat(Files.readAllLines(first)).hasSize(6);
    Cli resumed = cli("run", "--shards", shards, "--world", "2", "--epochs", "2", "--batch-size", "4",
        "--cluster", "127.0.0.1:" + port, "--resume", "latest", "--checkpoint-dir", checkpoints.toString(),
        "--digest-out", rest.toString());
    assertThat(resumed.code()).as(resumed.err() + resumed.out()).isZero();
    String savedCursor = stopped.out().replaceAll("(?s).*cursor: (\\S+).*", "$1");
    assertThat(resumed.out()).contains("resumed from: " + savedCursor);
    List<String> both = new ArrayList<>(Files.readAllLines(first));
    both.addAll(Files.readAllLines(rest));
    assertThat(both).isEqualTo(Files.readAllLines(reference));
    assertThat(Files.readString(checkpoints.resolve("latest.cursor")).trim())
        .isEqualTo(ref.out().lines().reduce((a, b) -> b).orElseThrow().substring("cursor: ".length()));
  }

  /**
   * Overwrites the bytes of every {@code every}-th JPEG member of the tar {@code shard} (its size
   * and the tar's layout kept), so that it no longer decodes; returns how many were spoiled.
   */
  static int spoilJpegs(Path shard, int every) throws Exception {
    byte[] tar = Files.readAllBytes(shard);
    int spoiled = 0;
    int seen = 0;
    for (int at = 0; at + 512 <= tar.length && tar[at] != 0; ) {
      String name = new String(tar, at, 100, java.nio.charset.StandardCharsets.US_ASCII).replaceAll("\u0000.*", "");
      long size = Long.parseLong(new String(tar, at + 124, 11, java.nio.charset.StandardCharsets.US_ASCII).trim(), 8);
      if (name.endsWith(".jpg") && seen++ % every == 0) {
        java.util.Arrays.fill(tar, at + 512, at + 512 + (int) size, (byte) 0x5a);
        spoiled++;
      }
      at += 512 + (int) ((size + 511) / 512 * 512);
    }
    Files.write(shard, tar);
    return spoiled;
  }

  @Test
  void oneProcessAndAThreeNodeClusterWriteTheSameRecordsAndStopAtTheSameBadSample() throws Exception {
    new DatasetGenerator(new FileShardStore(), dir.resolve("scratch"), 2)
        .generate(new DatasetSpec(90, 3, 64 * 1024, 17), dir.resolve("data").toUri(), n -> { });
    int spoiled = 0;
    List<Path> tars;
    try (var files = Files.list(dir.resolve("data"))) {
      tars = files.filter(p -> p.toString().endsWith(".tar")).sorted().toList();
    }
    for (Path t : tars) {
      spoiled += spoilJpegs(t, 9);
    }
    assertThat(tars).hasSizeGreaterThan(1);
    assertThat(spoiled).isGreaterThan(5);
    // the manifest's digests no longer hold: the shards are counted, each spoiled picture is a dead letter
    String[] job = {"run", "--shards",
        dir.resolve("data").toUri() + "part-{000000..%06d}.tar".formatted(tars.size() - 1), "--manifest", "none",
        "--world", "3", "--epochs", "2", "--batch-size", "4", "--decode", "auto",
        "--set", "conveyor.decode.augment.random-crop=on", "--set", "conveyor.decode.image.short-side=64",
        "--set", "conveyor.decode.image.crop-height=48", "--set", "conveyor.decode.image.crop-width=48"};
    int port = freePort();
    startCluster(port);
    java.util.Map<String, Cli> runs = new java.util.LinkedHashMap<>();
    for (String where : List.of("one", "cluster")) {
      String[] args = concat(job, "--digest-out", dir.resolve(where + "-digests.txt").toString(),
          "--keys-out", dir.resolve(where + "-keys.txt").toString(),
          "--dead-letter", dir.resolve(where + "-dead.txt").toString(),
          "--summary-json", dir.resolve(where + "-summary.json").toString(),
          "--set", "conveyor.job.max-bad-fraction=0.5");
      Cli r = cli(where.equals("one") ? args : concat(args, "--cluster", "127.0.0.1:" + port));
      assertThat(r.code()).as(where + ": " + r.err() + r.out()).isZero();
      runs.put(where, r);
    }
    for (String file : List.of("digests.txt", "keys.txt", "dead.txt")) {
      assertThat(Files.readAllLines(dir.resolve("cluster-" + file))).as(file).isNotEmpty()
          .isEqualTo(Files.readAllLines(dir.resolve("one-" + file)));
    }
    assertThat(Files.readAllLines(dir.resolve("one-dead.txt"))).as("each spoiled picture, in each epoch")
        .hasSize(2 * spoiled).allMatch(l -> l.contains(" .jpg: "));
    assertThat(sameFields(dir.resolve("cluster-summary.json"))).isEqualTo(sameFields(dir.resolve("one-summary.json")));

    // over the bound, both stop with exit code 3 at the same bad sample, with the same message
    java.util.Map<String, Cli> stopped = new java.util.LinkedHashMap<>();
    for (String where : List.of("one", "cluster")) {
      String[] args = concat(job, "--set", "conveyor.job.max-bad-fraction=0.05",
          "--dead-letter", dir.resolve(where + "-stopped-dead.txt").toString());
      stopped.put(where, cli(where.equals("one") ? args : concat(args, "--cluster", "127.0.0.1:" + port)));
    }
    for (Cli r : stopped.values()) {
      assertThat(r.code()).as(r.err()).isEqualTo(3);
      assertThat(r.err()).contains("over max-bad-fraction 0.050");
    }
    String message = stopped.get("one").err().lines().filter(l -> l.contains("max-bad-fraction")).findFirst().orElseThrow();
    assertThat(stopped.get("cluster").err()).contains(message);
    assertThat(Files.readAllLines(dir.resolve("cluster-stopped-dead.txt")))
        .isEqualTo(Files.readAllLines(dir.resolve("one-stopped-dead.txt")));
  }

  /** What a long job run on a fresh cluster gave while a node was disturbed, and what a single process gives. */
  record Disturbed(Cli run, List<String> digests, List<String> reference, String referenceCursor, double secondsAfter,
                   List<Process> nodes) {}

  /**
   * Runs an 8-epoch job on a fresh 3-node cluster (host, worker1 — the coordinator's node —,
   * worker2) with {@code extra} options; once {@code when} holds of the run's progress lines
   * and the job is still running, does {@code fault} to node {@code victim}; waits for the run.
   */
  Disturbed disturbed(int victim, String[] extra, java.util.function.Predicate<String> when,
                      ProcessAction fault) throws Exception {
    return disturbed(victim, new String[0], extra, "", when, fault);
  }

  /** The same, with {@code hostSettings} on the trainer host (see {@link #startCluster(int, String)}). */
  Disturbed disturbed(int victim, String[] extra, String hostSettings, java.util.function.Predicate<String> when,
                      ProcessAction fault) throws Exception {
    return disturbed(victim, new String[0], extra, hostSettings, when, fault);
  }

  /** The dataset the disturbed jobs read: 900 JPEGs in 256 KiB shards, made once for the class. */
  @TempDir
  static Path shared;

  /** The one-process reference run of each job's settings over {@link #shared}: digests and final cursor. */
  record Reference(List<String> digests, String cursor) {}

  static final Map<List<String>, Reference> REFERENCES = new java.util.HashMap<>();

  /** {@link #shared}'s manifest URI; the first call makes the dataset. */
  static synchronized String sharedShards() throws IOException, InterruptedException {
    Path data = shared.resolve("data");
    if (!Files.exists(data.resolve("shards.json"))) {
      new DatasetGenerator(new FileShardStore(), shared.resolve("scratch"), 2)
          .generate(new DatasetSpec(900, 0, 256 * 1024, 17), data.toUri(), n -> { });
    }
    return data.resolve("shards.json").toUri().toString();
  }

  /** The disturbed jobs' command line with {@code jobSettings}. */
  static String[] disturbedJob(String[] jobSettings) throws IOException, InterruptedException {
    return concat(new String[] {"run", "--shards", sharedShards(), "--world", "2", "--epochs", "8", "--batch-size", "8"},
        jobSettings);
  }

  /** The reference run of {@code job}, run in one process the first time it is asked for. */
  static synchronized Reference reference(String[] job) throws IOException {
    Reference known = REFERENCES.get(List.of(job));
    if (known != null) {
      return known;
    }
    Path digests = shared.resolve("reference-" + REFERENCES.size() + ".txt");
    Cli ref = cli(concat(job, "--digest-out", digests.toString()));
    assertThat(ref.code()).as(ref.err()).isZero();
    Reference r = new Reference(Files.readAllLines(digests),
        ref.out().lines().reduce((x, y) -> y).orElseThrow().substring("cursor: ".length()));
    REFERENCES.put(List.of(job), r);
    return r;
  }

  /** The same, with {@code jobSettings} for both the one-process reference and the cluster run. */
  Disturbed disturbed(int victim, String[] jobSettings, String[] extra, String hostSettings,
                      java.util.function.Predicate<String> when, ProcessAction fault) throws Exception {
    String[] job = disturbedJob(jobSettings);
    Reference ref = reference(job);

    int port = freePort();
    List<Process> cluster = startCluster(port, hostSettings);
    Path digests = dir.resolve("cluster.txt");
    StringWriter progress = new StringWriter();
    java.util.concurrent.CompletableFuture<Cli> run = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      StringWriter out = new StringWriter();
      int code = ConveyorCli.run(new PrintWriter(out, true), new PrintWriter(progress, true),
          concat(concat(job, "--cluster", "127.0.0.1:" + port, "--digest-out", digests.toString()), extra));
      return new Cli(code, out.toString(), progress.toString());
    });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!when.test(progress.toString())) {
      assertThat(System.nanoTime()).as("ready within 60 s: " + progress).isLessThan(deadline);
      assertThat(run).as("the run ended too soon: " + progress).isNotDone();
      Thread.sleep(20);
    }
    assertThat(run).as("the job still runs when the node is disturbed").isNotDone();
    fault.apply(cluster.get(victim));
    long t0 = System.nanoTime();
    Cli done = run.get(150, TimeUnit.SECONDS);
    return new Disturbed(done, Files.exists(digests) ? Files.readAllLines(digests) : List.of(), ref.digests(),
        ref.cursor(), (System.nanoTime() - t0) / 1e9, cluster);
  }

  interface ProcessAction {
    void apply(Process p) throws Exception;
  }

  /** Waits (up to 60 s) until the trainer host's ranks have delivered {@code batches} batches, as its /metrics says. */
  void afterBatches(int batches) throws Exception {
    nodes.afterBatches("host", batches);
  }

  static long count(String out, String what) {
    return Long.parseLong(out.replaceAll("(?s).*" + what + " (\\d+).*", "$1"));
  }

  @Test
  void theTrainerHostKilledMidJobFailsTheJobPromptlyWithItsCursorSaved() throws Exception {
    Path checkpoints = dir.resolve("checkpoints");
    // killed once a cursor past the start is saved, so that the resume below starts mid-job
    Disturbed d = disturbed(0, new String[] {"--checkpoint-dir", checkpoints.toString(), "--set",
        "conveyor.job.checkpoint-every=16"}, p -> delivered(checkpoints.resolve("latest.cursor")) > 0,
        Process::destroyForcibly); // SIGKILL of the trainer host: its ranks (and their trainers) are gone
    System.err.printf("trainer host killed mid-job: the run ended %.1f s later%n", d.secondsAfter());
    assertThat(d.run().code()).isNotZero();
    assertThat(d.run().err()).contains("trainer host").contains("left the cluster").contains("the job was stopped")
        .contains("--resume latest");
    assertThat(d.secondsAfter()).as("no hang: downing takes ~10 s").isLessThan(60);
    // the saved cursor resumes: in one process, the rest of the job is what the uninterrupted run delivered after it
    Cursor saved = Cursor.decode(Files.readString(checkpoints.resolve("latest.cursor")).trim());
    Path rest = dir.resolve("rest.txt");
    Cli resumed = cli(concat(disturbedJob(new String[0]), "--checkpoint-dir", checkpoints.toString(), "--resume", "latest",
        "--digest-out", rest.toString()));
    assertThat(resumed.code()).as(resumed.err()).isZero();
    List<String> after = d.reference().stream().filter(l -> {
      String[] f = l.split(" ");
      int epoch = Integer.parseInt(f[0]);
      return epoch > saved.epoch()
          || epoch == saved.epoch() && Long.parseLong(f[1]) >= saved.current().batches()[Integer.parseInt(f[2])];
    }).toList();
    assertThat(after).as("the cursor " + saved + " is past the start").hasSizeLessThan(d.reference().size());
    assertThat(Files.readAllLines(rest)).isEqualTo(after);
  }

  /** Batches delivered in all, as far as the cursor saved in {@code latest} says (0 while there is none). */
  static long delivered(Path latest) {
    if (!Files.exists(latest)) {
      return 0;
    }
    String token;
    try {
      token = Files.readString(latest).trim();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return token.isEmpty() ? 0 : delivered(Cursor.decode(token));
  }

  /** A measure of how far {@code c} is past its job's start: 0 at the start, more for each batch and epoch. */
  static long delivered(Cursor c) {
    return c.epoch() * 1_000_000L + java.util.Arrays.stream(c.current().batches()).sum();
  }

  @Test
  void aSlowTrainerKeepsTheBytesInFlightBetweenNodesAndHeldByTheRanksUnderTheirBounds() throws Exception {
    new DatasetGenerator(new FileShardStore(), dir.resolve("scratch"), 2)
        .generate(new DatasetSpec(900, 0, 256 * 1024, 31), dir.resolve("data").toUri(), n -> { });
    long largest = largestSample(dir.resolve("data"));
    int port = freePort();
    String slow = "simulated-trainer-step = 60ms, "; // each rank takes a batch of 4 every 60 ms
    startCluster(port, slow);
    String shards = dir.resolve("data").resolve("shards.json").toUri().toString();
    java.util.concurrent.CompletableFuture<Cli> run = java.util.concurrent.CompletableFuture.supplyAsync(() ->
        cli("run", "--shards", shards, "--world", "2", "--epochs", "1", "--batch-size", "4",
            "--cluster", "127.0.0.1:" + port));
    // bounds from the settings: per rank, 2 slices in flight, each stream about 32 samples ahead
    // of the holder's demand (its stream-ref buffer: 2 groups of the hand-off's 16) and one group
    // of 16 in hand; and what a rank holds between arrival and its trainer: the prefetch ring
    // (8 batches of 4), a batch being filled and the stages' 16-element input buffers
    long inFlightBound = 2 * 2 * (32 + 16) * largest;
    long heldBound = 2 * (8 * 4 + 4 + 16) * largest;
    long maxInFlight = 0;
    long maxHeld = 0;
    long maxSent = 0;
    int scrapes = 0;
    while (!run.isDone()) {
      double sent = metric(get(http("worker1") + "/metrics").body(), "conveyor_reader_bytes_total")
          + metric(get(http("worker2") + "/metrics").body(), "conveyor_reader_bytes_total");
      String host = get(http("host") + "/metrics").body();
      maxInFlight = Math.max(maxInFlight, (long) (sent - metric(host, "conveyor_rank_received_bytes_total")));
      maxHeld = Math.max(maxHeld, (long) metric(host, "conveyor_rank_buffered_bytes"));
      maxSent = Math.max(maxSent, (long) sent);
      scrapes++;
      Thread.sleep(200);
    }
    Cli done = run.get();
    assertThat(done.code()).as(done.err() + done.out()).isZero();
    System.err.printf("slow trainer: %d scrapes, largest sample %,d B; most in flight %,d B (bound %,d), most held by"
        + " the ranks %,d B (bound %,d), all sent %,d B%n", scrapes, largest, maxInFlight, inFlightBound, maxHeld,
        heldBound, maxSent);
    assertThat(scrapes).as("the trainer set the pace: the job ran for seconds").isGreaterThan(15);
    assertThat(maxInFlight).isPositive().isLessThanOrEqualTo(inFlightBound);
    assertThat(maxHeld).isPositive().isLessThanOrEqualTo(heldBound);
    assertThat(inFlightBound).as("the bound is well below the data: a loader without back-pressure would exceed it")
        .isLessThan(maxSent / 2);
  }

  /** The largest sample (all its members) in the shards under {@code data}. */
  static long largestSample(Path data) throws Exception {
    long largest = 0;
    try (var files = Files.list(data)) {
      for (Path shard : files.filter(f -> f.toString().endsWith(".tar")).toList()) {
        java.util.Map<String, Long> bytes = new java.util.HashMap<>();
        try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(Files.newInputStream(shard))) {
          for (var e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
            String name = e.getName();
            bytes.merge(name.substring(0, name.indexOf('.')), e.getSize(), Long::sum);
          }
        }
        largest = Math.max(largest, bytes.values().stream().mapToLong(Long::longValue).max().orElse(0));
      }
    }
    return largest;
  }
}
