package dev.conveyor.cli.cluster;

import static dev.conveyor.cli.cluster.NodeProcesses.cli;
import static dev.conveyor.cli.cluster.NodeProcesses.concat;
import static dev.conveyor.cli.cluster.NodeProcesses.get;
import static dev.conveyor.cli.cluster.NodeProcesses.metric;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.S3Settings;
import dev.conveyor.sim.faults.FaultPlan;
import dev.conveyor.sim.faults.FaultProxy;
import dev.conveyor.streams.store.S3ShardStore;
import dev.conveyor.tools.s3.EmbeddedS3;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import dev.conveyor.streams.manifest.Manifest;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shard cache on a cluster of node processes reading from the embedded S3 server through
 * the fault proxy, which counts every GET: three cache nodes (workers) and two trainer hosts
 * (so that losing two workers leaves a majority). Each shard is fetched from S3 once across
 * three epochs and held by two nodes, and the batches are those of a run without a cache; with
 * two of the three cache nodes killed mid-epoch, the fall-back to S3 keeps under the rate limit
 * and the batches still do not change.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterCacheTest {
  /** Fetches from S3 per second each cache node makes at most. */
  static final int GETS_PER_SECOND = 8;

  @TempDir
  static Path dir;

  static EmbeddedS3 server;
  static FaultProxy proxy;
  static NodeProcesses nodes;
  static int port;
  static Map<String, Manifest> datasets = new TreeMap<>();

  @BeforeAll
  static void start() throws Exception {
    server = EmbeddedS3.start(dir.resolve("s3"), 0);
    proxy = FaultProxy.start(server.endpoint(), FaultPlan.none());
    try (S3ShardStore store = new S3ShardStore(server.settings(S3Settings.fromConfig(ConfigFactory.defaultReference())))) {
      store.ensureBucket("data").toCompletableFuture().join();
      datasets.put("a", new DatasetGenerator(store, dir.resolve("scratch-a"), 2)
          .generate(new DatasetSpec(64, 0, 48 * 1024, 21), URI.create("s3://data/a"), n -> { }));
      datasets.put("b", new DatasetGenerator(store, dir.resolve("scratch-b"), 2)
          .generate(new DatasetSpec(96, 0, 32 * 1024, 22), URI.create("s3://data/b"), n -> { }));
    }
    nodes = new NodeProcesses(dir);
    port = NodeProcesses.freePort();
    String s3 = "conveyor.s3 { endpoint = \"" + proxy.endpoint() + "\", access-key-id = \"" + EmbeddedS3.ACCESS_KEY_ID
        + "\", secret-access-key = \"" + EmbeddedS3.SECRET_ACCESS_KEY + "\" }\n";
    nodes.start("host1", s3 + "conveyor.node { roles = [trainer-host], port = " + port + ", "
        + NodeProcesses.seeds(port) + " }");
    List<String> names = List.of("host2", "cache1", "cache2", "cache3");
    List<Process> started = new java.util.ArrayList<>();
    for (String name : names) {
      String node = name.startsWith("host")
          ? "conveyor.node { roles = [trainer-host], port = 0, " + NodeProcesses.seeds(port) + " }"
          : "conveyor.node { roles = [worker], port = 0, " + NodeProcesses.seeds(port) + ", cache { enabled = true, dir = \""
              + dir.resolve(name + "-entries") + "\", s3-gets-per-second = " + GETS_PER_SECOND
              + ", cluster.peer-timeout = 10s } }";
      started.add(nodes.launch(name, s3 + node));
    }
    for (int i = 0; i < names.size(); i++) {
      nodes.awaitUp(names.get(i), started.get(i));
    }
  }

  @AfterAll
  static void stop() throws Exception {
    nodes.close();
    proxy.close();
    server.close();
  }

  static String shards(String name) {
    return "s3://data/" + name + "/part-{000000..%06d}.tar".formatted(datasets.get(name).shards().size() - 1);
  }

  /** {@code conveyor run} of dataset {@code name}: in this process straight from the server, or on the cluster. */
  static String[] job(String name, int epochs, boolean cluster, Path digests) {
    String[] args = {"run", "--shards", shards(name), "--world", "2", "--epochs", String.valueOf(epochs),
        "--batch-size", "4", "--digest-out", digests.toString(),
        "--set", "conveyor.s3.endpoint=" + server.endpoint(),
        "--set", "conveyor.s3.access-key-id=" + EmbeddedS3.ACCESS_KEY_ID,
        "--set", "conveyor.s3.secret-access-key=" + EmbeddedS3.SECRET_ACCESS_KEY};
    return cluster ? concat(args, "--cluster", "127.0.0.1:" + port) : args;
  }

  /** GETs of the shards of dataset {@code name} (not their index sidecars) that reached S3. */
  static List<FaultProxy.Arrival> shardGets(String name) {
    return proxy.arrivals("GET /data/" + name + "/part-").stream().filter(a -> a.line().matches("\\S+ \\S+\\.tar[ ?].*"))
        .toList();
  }

  /** GETs of each shard of dataset {@code name} that reached S3, by shard file name. */
  static Map<String, Long> getsByShard(String name) {
    return shardGets(name).stream()
        .map(a -> a.line().replaceAll(".*/(part-\\d+\\.tar).*", "$1"))
        .collect(Collectors.groupingBy(s -> s, TreeMap::new, Collectors.counting()));
  }

  @Test
  @Order(1)
  void overThreeEpochsEachShardIsFetchedFromS3OnceAndTheBatchesAreThoseOfARunWithoutCache() throws Exception {
    Path reference = dir.resolve("a-reference.txt");
    NodeProcesses.Cli ref = cli(job("a", 3, false, reference));
    assertThat(ref.code()).as(ref.err()).isZero();
    Path digests = dir.resolve("a-cluster.txt");
    NodeProcesses.Cli run = cli(job("a", 3, true, digests));
    assertThat(run.code()).as(run.err() + run.out()).isZero();
    assertThat(Files.readAllLines(digests)).hasSizeGreaterThan(20).isEqualTo(Files.readAllLines(reference));

    Map<String, Long> gets = getsByShard("a");
    assertThat(gets).hasSize(datasets.get("a").shards().size()).allSatisfy((shard, n) -> assertThat(n).as(shard).isEqualTo(1));
    double hits = 0;
    double fromPeers = 0;
    double overHttp = 0;
    for (String c : List.of("cache1", "cache2", "cache3")) {
      String page = get(nodes.http(c) + "/metrics").body();
      assertThat(metric(page, "conveyor_cache_ring_members")).as(c).isEqualTo(3);
      hits += metric(page, "conveyor_cache_hits_total");
      fromPeers += metric(page, "conveyor_cache_bytes_from_peers_total");
      overHttp += metric(page, "conveyor_cache_handed_over_http_total");
    }
    System.err.printf("cache over 3 epochs: %d shards, %d GETs, %.0f hits, %.0f bytes between nodes%n",
        gets.size(), gets.values().stream().mapToLong(Long::longValue).sum(), hits, fromPeers);
    assertThat(hits).isPositive();
    assertThat(fromPeers).as("readers took shards other nodes own from them").isPositive();
    assertThat(overHttp).as("over the owners' HTTP servers").isPositive();

    // replication 2: each shard is held by two nodes, the replica's copy taken from the primary
    long dataset = datasets.get("a").shards().stream().mapToLong(dev.conveyor.streams.manifest.ShardInfo::bytes).sum();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    double held;
    do {
      held = 0;
      for (String c : List.of("cache1", "cache2", "cache3")) {
        held += metric(get(nodes.http(c) + "/metrics").body(), "conveyor_cache_bytes");
      }
    } while (held < 2 * dataset && System.nanoTime() < deadline && sleep(100));
    assertThat(held).isEqualTo(2.0 * dataset);
    assertThat(getsByShard("a").values().stream().mapToLong(Long::longValue).sum()).isEqualTo(gets.size());
  }

  static boolean sleep(long millis) throws InterruptedException {
    Thread.sleep(millis);
    return true;
  }

  @Test
  @Order(2)
  void twoOfThreeCacheNodesKilledMidEpochTheFallBackToS3StaysUnderTheLimitAndNoBatchChanges() throws Exception {
    Path reference = dir.resolve("b-reference.txt");
    NodeProcesses.Cli ref = cli(job("b", 1, false, reference));
    assertThat(ref.code()).as(ref.err()).isZero();
    Path digests = dir.resolve("b-cluster.txt");
    CompletableFuture<NodeProcesses.Cli> run = CompletableFuture.supplyAsync(() -> cli(job("b", 1, true, digests)));
    nodes.afterBatches("host1", 4);
    long killedAt = System.nanoTime();
    nodes.all.get(3).destroyForcibly(); // cache2
    nodes.all.get(4).destroyForcibly(); // cache3
    String before = get(nodes.http("cache1") + "/metrics").body();
    NodeProcesses.Cli done = run.get(180, TimeUnit.SECONDS);
    assertThat(done.code()).as(done.err() + done.out()).isZero();
    assertThat(Files.readAllLines(digests)).isEqualTo(Files.readAllLines(reference));

    // after the kill only cache1 fetches: no second holds more GETs than its limit (and one in flight)
    List<Long> after = shardGets("b").stream().map(FaultProxy.Arrival::nanos)
        .filter(t -> t > killedAt + TimeUnit.SECONDS.toNanos(1)).toList();
    int most = 0;
    for (int i = 0; i < after.size(); i++) {
        int j = i;
        while (j < after.size() && after.get(j) - after.get(i) < TimeUnit.SECONDS.toNanos(1)) {
          j++;
        }
        most = Math.max(most, j - i);
    }
    String page = get(nodes.http("cache1") + "/metrics").body();
    System.err.printf("cache nodes killed: %d GETs after, at most %d in a second (limit %d); limited %.0f%n",
        after.size(), most, GETS_PER_SECOND, metric(page, "conveyor_cache_s3_limited_total"));
    assertThat(after).as("the survivor fetched what the others had owned").isNotEmpty();
    // (whether the survivor's misses came fast enough to be held back depends on timing; that the
    // limiter spaces a burst and counts what waited is FetchLimiterTest's)
    assertThat(most).isLessThanOrEqualTo(GETS_PER_SECOND + 1);
    assertThat(metric(page, "conveyor_cache_misses_total")).isGreaterThan(metric(before, "conveyor_cache_misses_total"));
    assertThat(metric(page, "conveyor_cache_ring_members")).isEqualTo(1);
  }
}
