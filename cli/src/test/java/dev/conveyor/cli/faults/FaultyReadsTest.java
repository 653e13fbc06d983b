package dev.conveyor.cli.faults;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.cli.ConveyorCli;
import dev.conveyor.config.S3Settings;
import dev.conveyor.sim.faults.FaultPlan;
import dev.conveyor.sim.faults.FaultPlan.Fault;
import dev.conveyor.sim.faults.FaultPlan.Rule;
import dev.conveyor.sim.faults.FaultProxy;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.store.S3ShardStore;
import dev.conveyor.streams.store.ShardIndex;
import dev.conveyor.tools.s3.EmbeddedS3;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.manifest.ShardInfo;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Whole jobs ({@code conveyor run}) reading through the fault proxy: the same batches as a
 * fault-free run, an outage ridden out behind the circuit breaker, a shard that does not match
 * its manifest, and credentials that never reach a log line.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class FaultyReadsTest {
  @TempDir
  static Path dir;

  static EmbeddedS3 server;
  static Manifest manifest;
  static String shards;
  static List<String> reference;

  /** Epochs of each run: enough GETs (about 250) that 1% faults occur. */
  static final int EPOCHS = 4;

  /** Small parts (so every shard is several GETs), a short watchdog and short backoffs. */
  static final List<String> READER = List.of(
      "--set", "conveyor.s3.part-size=64KiB",
      // stalls last 2 s and latency spikes 200 ms: 800 ms tells them apart also on a loaded machine
      "--set", "conveyor.s3.read.stall-timeout=800ms",
      "--set", "conveyor.s3.retry.base-delay=10ms",
      "--set", "conveyor.s3.retry.max-delay=200ms");

  @BeforeAll
  static void start() throws Exception {
    server = EmbeddedS3.start(dir.resolve("s3"), 0);
    S3Settings settings = server.settings(S3Settings.fromConfig(ConfigFactory.defaultReference()));
    try (S3ShardStore store = new S3ShardStore(settings)) {
      store.ensureBucket("data").toCompletableFuture().join();
      manifest = new DatasetGenerator(store, dir.resolve("scratch"), 2)
          .generate(new DatasetSpec(240, 2, 256 * 1024, 3), URI.create("s3://data/train"), n -> { });
    }
    shards = "s3://data/train/part-{000000..%06d}.tar".formatted(manifest.shards().size() - 1);
    Result ref = run(server.endpoint(), dir.resolve("ref.txt"), "--epochs", String.valueOf(EPOCHS));
    assertThat(ref.code).as(ref.err).isZero();
    reference = Files.readAllLines(dir.resolve("ref.txt"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  record Result(int code, String out, String err) {}

  /** {@code conveyor run} of the dataset against {@code endpoint}, writing batch digests to {@code digests}. */
  static Result run(URI endpoint, Path digests, String... more) {
    List<String> args = new ArrayList<>(List.of("run", "--shards", shards, "--world", "2", "--batch-size", "8",
        "--set", "conveyor.s3.endpoint=" + endpoint,
        "--set", "conveyor.s3.access-key-id=" + EmbeddedS3.ACCESS_KEY_ID,
        "--set", "conveyor.s3.secret-access-key=" + EmbeddedS3.SECRET_ACCESS_KEY,
        "--digest-out", digests.toString()));
    args.addAll(READER);
    args.addAll(List.of(more));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = ConveyorCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args.toArray(String[]::new));
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void throughThrottlingResetsStallsAndLatencyAJobDeliversTheFaultFreeBatchesAndCountsTheRetries() throws Exception {
    FaultPlan plan = new FaultPlan(9, List.of(
        new Rule("GET", Fault.SLOW_DOWN_503, 0.10),
        new Rule("GET", Fault.RESET_MID_BODY, 0.01),
        new Rule("GET", Fault.STALL_BODY, 0.01),
        new Rule("GET", Fault.LATENCY, 0.05)), 200, 2_000);
    try (FaultProxy proxy = FaultProxy.start(server.endpoint(), plan)) {
      Path digests = dir.resolve("faulty.txt");
      Path summary = dir.resolve("faulty.json");
      Result r = run(proxy.endpoint(), digests, "--epochs", String.valueOf(EPOCHS), "--summary-json", summary.toString());
      assertThat(r.code).as(r.err).isZero();
      assertThat(Files.readAllLines(digests)).isEqualTo(reference);

      var injected = proxy.injected();
      String seen = injected + " in " + proxy.requests() + " requests";
      System.err.println("faults injected: " + seen);
      assertThat(injected.get(Fault.SLOW_DOWN_503)).as(seen).isPositive();
      assertThat(injected.get(Fault.RESET_MID_BODY)).as(seen).isPositive();
      assertThat(injected.get(Fault.STALL_BODY)).as(seen).isPositive();
      assertThat(injected.get(Fault.LATENCY)).as(seen).isPositive();
      JsonNode reads = Json.parse(Files.readString(summary)).get("reads");
      assertThat(reads.get("retries_throttle").asLong()).isEqualTo(injected.get(Fault.SLOW_DOWN_503));
      assertThat(reads.get("retries_stall").asLong()).isEqualTo(injected.get(Fault.STALL_BODY));
      assertThat(reads.get("retries_reset").asLong() + reads.get("retries_truncated").asLong()).isEqualTo(injected.get(Fault.RESET_MID_BODY));
      assertThat(reads.get("retries").asLong()).isEqualTo(injected.get(Fault.SLOW_DOWN_503) + injected.get(Fault.STALL_BODY)
          + injected.get(Fault.RESET_MID_BODY));
      assertThat(reads.get("failed_reads").asLong()).isZero();
      assertThat(r.out).contains("retries " + reads.get("retries").asLong() + " (throttle ");
    }
  }

  @Test
  void anOutageOpensTheBreakerHoldsRequestsDownAndTheJobCompletesWhenTheStoreRecovers() throws Exception {
    // slow GETs, so the job is still reading when the outage starts
    FaultPlan slow = new FaultPlan(1, List.of(new Rule("GET", Fault.LATENCY, 1.0)), 40, 0);
    try (FaultProxy proxy = FaultProxy.start(server.endpoint(), slow)) {
      Path digests = dir.resolve("outage.txt");
      Path summary = dir.resolve("outage.json");
      CompletableFuture<Result> job = CompletableFuture.supplyAsync(() -> run(proxy.endpoint(), digests, "--epochs", String.valueOf(EPOCHS),
          "--summary-json", summary.toString(),
          "--set", "conveyor.s3.max-concurrency=8",
          "--set", "conveyor.s3.retry.max-attempts=4", // alone, without the breaker, too few to outlast the outage
          "--set", "conveyor.s3.breaker.failures=3",
          "--set", "conveyor.s3.breaker.open-time=300ms"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (proxy.requests() < 20 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(job).isNotDone();
      long before = proxy.requests();
      proxy.plan(FaultPlan.always("*", Fault.ERROR_500));
      Thread.sleep(3_000);
      long during = proxy.requests() - before;
      proxy.plan(FaultPlan.none());
      Result r = job.get(120, TimeUnit.SECONDS);
      assertThat(r.code).as(r.err).isZero();
      assertThat(Files.readAllLines(digests)).isEqualTo(reference);
      JsonNode reads = Json.parse(Files.readString(summary)).get("reads");
      assertThat(reads.get("breaker_opens").asLong()).isPositive();
      assertThat(reads.get("failed_reads").asLong()).isZero();
      // the bound: the 8 GETs that may be in flight, the 3 failures that open it, and one probe per
      // open-time (300 ms, plus its backoff) over the 3 s outage, and a margin of 4
      assertThat(during).isLessThanOrEqualTo(8 + 3 + 10 + 4);
    }
  }

  @Test
  void aShardThatDiffersFromItsIndexLosesOnlyTheSamplesFromTheBadOneOnAndTheOthersAreUnaffected() throws Exception {
    // a copy of the dataset whose third shard has one byte changed (same size: only a digest tells); its
    // index's CRC32C of each sample finds the sample it is in, as the sample arrives
    Path bucket = Files.createDirectories(dir.resolve("s3/bent/train"));
    try (var files = Files.list(dir.resolve("s3/data/train"))) {
      for (Path f : files.toList()) {
        Files.copy(f, bucket.resolve(f.getFileName()));
      }
    }
    ShardInfo bent = manifest.shards().get(2);
    Path victim = bucket.resolve(bent.name());
    byte[] bytes = Files.readAllBytes(victim);
    int changed = bytes.length / 2;
    bytes[changed] ^= 0x20;
    Files.write(victim, bytes);
    EmbeddedS3.addMissingETags(bucket);
    ShardIndex index = ShardIndex.parse(Files.readString(bucket.resolve(bent.name() + ShardIndex.SUFFIX)));
    int inSample = 0;
    while (index.offsets()[inSample + 1] <= changed) {
      inSample++;
    }
    int bad = inSample;
    try (FaultProxy proxy = FaultProxy.start(server.endpoint(), FaultPlan.none())) {
      Path digests = dir.resolve("bent.txt");
      Path dead = dir.resolve("bent-dead.txt");
      Path keys = dir.resolve("bent-keys.txt");
      Path summary = dir.resolve("bent.json");
      List<String> args = new ArrayList<>(List.of("run", "--shards", "s3://bent/train/shards.json", "--world", "1",
          "--set", "conveyor.s3.endpoint=" + proxy.endpoint(),
          "--set", "conveyor.s3.access-key-id=" + EmbeddedS3.ACCESS_KEY_ID,
          "--set", "conveyor.s3.secret-access-key=" + EmbeddedS3.SECRET_ACCESS_KEY,
          "--set", "conveyor.job.max-bad-fraction=1.0",
          "--digest-out", digests.toString(), "--dead-letter", dead.toString(), "--keys-out", keys.toString(),
          "--summary-json", summary.toString()));
      args.addAll(READER);
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = ConveyorCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args.toArray(String[]::new));
      assertThat(code).as(err.toString()).isZero();

      // the bad sample and the rest of its shard are dead letters naming the mismatch; the samples before it arrived
      long lost = bent.samples() - bad;
      List<String> deadLines = Files.readAllLines(dead);
      assertThat(deadLines).hasSize((int) lost + 1).allSatisfy(l -> assertThat(l)
          .startsWith("s3://bent/train/" + bent.name() + " ").contains("sample #" + bad + " does not match the shard's index"));
      JsonNode s = Json.parse(Files.readString(summary));
      assertThat(s.get("reads").get("integrity_failures").asLong()).isEqualTo(1);
      assertThat(s.get("bad_samples").asLong()).isEqualTo(lost + 1); // the shard's line, and one per sample
      // every sample of every other shard arrived, and the bent one's before the change
      long others = manifest.shards().stream().filter(i -> i != bent).mapToLong(ShardInfo::samples).sum();
      assertThat(s.get("samples").asLong()).isEqualTo(others + bad);
      assertThat(Files.readAllLines(keys)).hasSize((int) (others + bad));
    }
  }

  /** GETs of one whole read of a shard of {@code bytes} at 64 KiB parts. */
  static long partsOf(long bytes) {
    return (bytes + 64 * 1024 - 1) / (64 * 1024);
  }

  @Test
  void theSecretKeyNeverAppearsInAnyLogLineOrMessageEvenAtDebugLevel() throws Exception {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Level was = root.getLevel();
    ListAppender<ILoggingEvent> captured = new ListAppender<>();
    captured.start();
    root.addAppender(captured);
    root.setLevel(Level.DEBUG);
    List<String> printed = new ArrayList<>();
    try (FaultProxy proxy = FaultProxy.start(server.endpoint(), new FaultPlan(3, List.of(
        new Rule("GET", Fault.SLOW_DOWN_503, 0.2), new Rule("GET", Fault.RESET_MID_BODY, 0.05)), 0, 0))) {
      Result ok = run(proxy.endpoint(), dir.resolve("creds.txt"), "--max-steps", "5");
      assertThat(ok.code).as(ok.err).isZero();
      printed.add(ok.out + ok.err);
      // a wrong secret: the store answers 403, and the error is printed
      List<String> args = new ArrayList<>(List.of("run", "--shards", shards,
          "--set", "conveyor.s3.endpoint=" + proxy.endpoint(),
          "--set", "conveyor.s3.access-key-id=" + EmbeddedS3.ACCESS_KEY_ID,
          "--set", "conveyor.s3.secret-access-key=" + EmbeddedS3.SECRET_ACCESS_KEY + "-wrong",
          "--verbose"));
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = ConveyorCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args.toArray(String[]::new));
      assertThat(code).isNotZero();
      assertThat(err.toString()).contains("403");
      printed.add(out + err.toString());
    } finally {
      root.setLevel(was);
      root.detachAppender(captured);
    }
    assertThat(captured.list).hasSizeGreaterThan(100); // debug logging did capture the run
    for (ILoggingEvent e : captured.list) {
      String line = e.getFormattedMessage() + (e.getThrowableProxy() == null ? "" : ThrowableProxyUtil.asString(e.getThrowableProxy()));
      assertThat(line).doesNotContain(EmbeddedS3.SECRET_ACCESS_KEY);
    }
    assertThat(printed).noneMatch(p -> p.contains(EmbeddedS3.SECRET_ACCESS_KEY));
  }
}
