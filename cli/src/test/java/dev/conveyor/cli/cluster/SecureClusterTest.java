package dev.conveyor.cli.cluster;

import static dev.conveyor.cli.cluster.NodeProcesses.cli;
import static dev.conveyor.cli.cluster.NodeProcesses.freePort;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.cli.cluster.NodeProcesses.Cli;
import dev.conveyor.config.S3Settings;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.store.S3ShardStore;
import dev.conveyor.tools.s3.EmbeddedS3;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
 * A cluster with TLS, an HTTP token and S3 credentials, from the command line: a `conveyor node`
 * process with a certificate from `conveyor certs`' CA, and the client of a job signed by the same
 * CA, form a cluster; two more processes, one with another CA's certificate and one with none,
 * never join and get nothing delivered; the node's /metrics, /status and /trainer answer only with
 * the token while probes stay open; and no secret — S3 keys, the stores' password, the token — is
 * in any byte that the job, a failing job or the node wrote. (The job runs while the intruders
 * knock: the members go on.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class SecureClusterTest {
  static final String KEY_ID = "AKIACONVEYORKEYID7Q2";
  static final String SECRET = "s3cret-Conveyor-Value-42xyzzy";
  static final String WRONG_SECRET = "s3cret-Wrong-Conveyor-77plugh";
  static final String TOKEN = "tok-Conveyor-Http-5150frotz";

  Path dir;

  NodeProcesses nodes;
  EmbeddedS3 s3;
  String tlsPassword;
  String otherPassword;
  int seed;
  String shards;
  int otherPort;
  int plainPort;
  Process other;
  Process plain;

  @BeforeAll
  void cluster(@TempDir Path tmp) throws Exception {
    dir = tmp;
    // the two CAs' folders side by side (keytool is a JVM start per step)
    List<java.util.concurrent.CompletableFuture<Cli>> made = Stream.of("ca", "other-ca")
        .map(ca -> java.util.concurrent.CompletableFuture.supplyAsync(() -> cli("certs", "--out", dir.resolve(ca).toString())))
        .toList();
    for (java.util.concurrent.CompletableFuture<Cli> certs : made) {
      assertThat(certs.join().code()).as(certs.join().err()).isZero();
      assertThat(certs.join().out()).contains("node.p12", "truststore.p12");
    }
    tlsPassword = Files.readString(dir.resolve("ca/password")).strip();
    otherPassword = Files.readString(dir.resolve("other-ca/password")).strip();
    s3 = EmbeddedS3.start(dir.resolve("s3"), "127.0.0.1", 0, KEY_ID, SECRET);
    S3Settings settings = s3.settings(S3Settings.fromConfig(ConfigFactory.defaultReference()));
    try (S3ShardStore store = new S3ShardStore(settings)) {
      store.ensureBucket("data").toCompletableFuture().join();
      int n = new DatasetGenerator(store, dir.resolve("scratch"), 2)
          .generate(new DatasetSpec(48, 0, 96 * 1024, 5), URI.create("s3://data/train"), x -> { }).shards().size();
      shards = "s3://data/train/part-{000000..%06d}.tar".formatted(n - 1);
    }
    nodes = new NodeProcesses(dir);
    seed = freePort();
    nodes.start("node1", node(seed, "ca"), env("ca", tlsPassword));
    // the intruders start knocking on the node now (the first test looks at them)
    otherPort = freePort();
    plainPort = freePort();
    String quickly = "pekko.cluster.seed-node-timeout = 1s\n"; // they ask again every second, not every 5 s
    other = nodes.launch("intruder-other-ca", node(otherPort, "other-ca") + quickly, env("other-ca", otherPassword));
    plain = nodes.launch("intruder-plain", node(plainPort, "") + quickly, env("", ""));
    clients = java.util.concurrent.CompletableFuture.supplyAsync(this::runClients);
  }

  /** The clients' exit codes: the job, the job S3 refuses; what they wrote is scanned at the end. */
  java.util.concurrent.CompletableFuture<int[]> clients;

  /**
   * While the other tests run: a job on the cluster (its client joins over TLS too, its settings
   * from the environment), and beside it a job in one process that fails: the S3 server refuses
   * its wrong secret key. Both with --verbose, both with the known secrets in their environment.
   */
  int[] runClients() {
    Map<String, String> client = env("ca", tlsPassword);
    client.put("CONVEYOR_TLS_ENABLED", "true");
    client.put("CONVEYOR_TLS_KEY_STORE", dir.resolve("ca/node.p12").toString());
    client.put("CONVEYOR_TLS_TRUST_STORE", dir.resolve("ca/truststore.p12").toString());
    List<String> common = List.of("--set", "conveyor.s3.endpoint=" + s3.endpoint(), "--batch-size", "8",
        "--world", "2", "--verbose");
    Map<String, String> wrong = new HashMap<>(client);
    wrong.put("AWS_SECRET_ACCESS_KEY", WRONG_SECRET);
    try {
      java.util.concurrent.CompletableFuture<Integer> refused = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return client("refused-job", wrong, common, "run", "--shards", shards);
        } catch (Exception e) {
          throw new java.util.concurrent.CompletionException(e);
        }
      });
      int ok = client("job", client, common, "run", "--cluster", "127.0.0.1:" + seed, "--shards", shards,
          "--summary-json", dir.resolve("job-summary.json").toString(), "--digest-out",
          dir.resolve("job-digests.txt").toString());
      return new int[] {ok, refused.join()};
    } catch (Exception e) {
      throw new java.util.concurrent.CompletionException(e);
    }
  }

  @AfterAll
  void stop() throws Exception {
    if (nodes != null) {
      nodes.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  /** A node on {@code port} joining through the seed, with TLS from {@code ca}'s folder ("" for none). */
  String node(int port, String ca) {
    return "conveyor.node { port = " + port + ", seed-nodes = [\"127.0.0.1:" + seed + "\"], http.port = 0 }\n"
        + "conveyor.s3.endpoint = \"" + s3.endpoint() + "\"\n"
        + (ca.isEmpty() ? "" : "conveyor.tls { enabled = true, key-store = \"" + dir.resolve(ca + "/node.p12")
        + "\", trust-store = \"" + dir.resolve(ca + "/truststore.p12") + "\" }\n");
  }

  /** The environment a member gets its secrets from: S3 keys, the stores' password, the HTTP token. */
  static Map<String, String> env(String ca, String password) {
    Map<String, String> env = new HashMap<>(Map.of("AWS_ACCESS_KEY_ID", KEY_ID, "AWS_SECRET_ACCESS_KEY", SECRET,
        "CONVEYOR_HTTP_TOKEN", TOKEN));
    if (!ca.isEmpty()) {
      env.put("CONVEYOR_TLS_KEY_STORE_PASSWORD", password);
      env.put("CONVEYOR_TLS_TRUST_STORE_PASSWORD", password);
    }
    return env;
  }

  @Test
  @Order(1)
  void aProcessWithAnotherCasCertificateOrNoneCannotJoinAndNothingItSendsIsDelivered() throws Exception {
    // each keeps asking the seed to let it join (InitJoin, every second, since the cluster started) and fails each time
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    // (the other CA's is refused in the TLS handshake: the seed does not trust its certificate)
    for (String[] seen : new String[][] {{"intruder-other-ca", "SSLHandshakeException"}, {"intruder-plain", ""}}) {
      while (!(log(seen[0]).contains("Couldn't join seed nodes after [2] attempts") && log(seen[0]).contains(seen[1]))) {
        assertThat(System.nanoTime()).as(seen[0] + " tried to join twice within 60 s: " + log(seen[0])).isLessThan(deadline);
        Thread.sleep(200);
      }
    }
    // not one of their messages reached the cluster: its one node (beside it only the TLS client of
    // the job running meanwhile), no member at an intruder's port, and not a word about the
    // intruders' addresses in the node's log
    for (String name : List.of("node1")) {
      JsonNode status = Json.parse(authorizedGet(nodes.http(name) + "/status").body());
      TreeSet<String> members = new TreeSet<>();
      TreeSet<String> nodesSeen = new TreeSet<>();
      status.path("members").forEach(m -> {
        members.add(m.path("address").asText());
        if (m.path("roles").toString().contains("\"node\"")) {
          nodesSeen.add(m.path("address").asText());
        } else {
          assertThat(m.path("roles").toString()).as(name + ": a member that is not a node").contains("\"client\"");
        }
      });
      assertThat(nodesSeen).as(name).containsExactly("pekko://conveyor@127.0.0.1:" + seed);
      assertThat(members).as(name).noneMatch(a -> a.endsWith(":" + otherPort) || a.endsWith(":" + plainPort));
      assertThat(log(name)).as(name).doesNotContain(":" + otherPort).doesNotContain(":" + plainPort);
    }
    for (String name : List.of("intruder-other-ca", "intruder-plain")) {
      assertThat(log(name)).as(name).doesNotContain(dev.conveyor.sim.run.Nodes.UP).doesNotContain("Welcome from");
    }
    assertThat(other.isAlive() && plain.isAlive()).as("the intruders still try").isTrue();
    other.destroyForcibly();
    plain.destroyForcibly();
  }

  @Test
  @Order(2)
  void metricsStatusAndTrainerAnswerOnlyWithTheTokenWhileProbesStayOpen() throws Exception {
    String url = nodes.http("node1");
    for (String path : List.of("/metrics", "/status", "/trainer?rank=0")) {
      for (String header : new String[] {null, "Bearer wrong-" + TOKEN, "Basic " + TOKEN, TOKEN}) {
        HttpResponse<String> r = get(url + path, header);
        assertThat(r.statusCode()).as(path + " with Authorization: " + header).isEqualTo(401);
        assertThat(r.body()).as(path + " with Authorization: " + header).isEmpty();
      }
    }
    HttpResponse<String> metrics = authorizedGet(url + "/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body()).contains("conveyor_cluster_members");
    HttpResponse<String> status = authorizedGet(url + "/status");
    assertThat(status.statusCode()).isEqualTo(200);
    assertThat(Json.parse(status.body()).path("status").asText()).isEqualTo("up");
    for (String probe : List.of("/ready", "/alive")) {
      HttpResponse<String> r = get(url + probe, null);
      assertThat(r.statusCode()).as(probe).isEqualTo(200);
    }
  }

  @Test
  @Order(3)
  void noSecretIsInAnyByteAJobAFailingJobOrANodeWrote() throws Exception {
    // the two clients (started with the cluster, running meanwhile) have ended
    int[] codes = clients.join();
    assertThat(codes[0]).as(log("job")).isZero();
    assertThat(Files.readAllLines(dir.resolve("job-digests.txt"))).hasSize(6);
    assertThat(codes[1]).as(log("refused-job")).isNotZero();
    assertThat(log("refused-job")).as("--verbose printed the stack trace").contains("\tat ");

    StringBuilder served = new StringBuilder();
    for (String name : List.of("node1")) {
      served.append(authorizedGet(nodes.http(name) + "/status").body()).append(authorizedGet(nodes.http(name) + "/metrics").body());
    }
    Files.writeString(dir.resolve("served.txt"), served);
    // the nodes leave and stop, one after the other: what they write on the way out counts too
    for (int i = nodes.all.size() - 1; i >= 0; i--) {
      Process p = nodes.all.get(i);
      p.destroy();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    List<String> secrets = List.of(KEY_ID, SECRET, WRONG_SECRET, TOKEN, tlsPassword, otherPassword);
    List<Path> written = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      files.filter(f -> f.toString().endsWith(".log") || f.toString().endsWith(".txt") || f.toString().endsWith(".json"))
          .forEach(written::add);
    }
    assertThat(written).extracting(f -> f.getFileName().toString()).contains("node1.log", "job.log", "refused-job.log", "intruder-other-ca.log", "intruder-plain.log", "job-summary.json", "served.txt");
    for (Path f : written) {
      String text = Files.readString(f, StandardCharsets.ISO_8859_1);
      for (String secret : secrets) {
        for (String form : List.of(secret, URLEncoder.encode(secret, StandardCharsets.UTF_8),
            Base64.getEncoder().encodeToString(secret.getBytes(StandardCharsets.UTF_8)))) {
          assertThat(text).as(f.getFileName() + " holds a secret").doesNotContain(form);
        }
      }
    }
  }

  /** Runs the CLI with {@code args} (then {@code common}) as a process with {@code env} added; its output in NAME.log. */
  int client(String name, Map<String, String> env, List<String> common, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx384m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), "dev.conveyor.cli.ConveyorCli"));
    cmd.addAll(List.of(args));
    cmd.addAll(common);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(100, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(name + " did not end within 100 s: " + log(name));
    }
    return p.exitValue();
  }

  String log(String name) throws Exception {
    Path f = dir.resolve(name + ".log");
    return Files.exists(f) ? Files.readString(f) : "";
  }

  static HttpResponse<String> authorizedGet(String url) throws Exception {
    return get(url, "Bearer " + TOKEN);
  }

  static HttpResponse<String> get(String url, String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
