package dev.conveyor.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.NodeSettings;
import dev.conveyor.config.S3Settings;
import dev.conveyor.orchestrator.cache.CachePeer;
import dev.conveyor.orchestrator.cache.NodeCaches;
import dev.conveyor.orchestrator.node.ClusterNode;
import dev.conveyor.orchestrator.node.NodeState;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.store.ShardCheck;
import dev.conveyor.streams.store.cache.CacheKey;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * How a cache entry is best moved between nodes: two nodes of one cluster on 127.0.0.1 (in this
 * JVM), the owner holding an entry on its disk, the other taking it — over Artery as a stream
 * reference of 256 KiB chunks (what `CachePeer` does), and over HTTP from a server on the
 * owner's actor system answering with the same chunks (what a route on the management port
 * would do), read by the JDK's HTTP client. Same entry, same run; median of the rounds.
 */
public final class CacheTransferBench {
  private CacheTransferBench() {}

  /** The two figures, in MB/s, and the entry's size. */
  public record Result(long bytes, double arteryMBps, double httpMBps) {
    public String text() {
      return String.format(Locale.ROOT, "cache entry of %.1f MB between two nodes on 127.0.0.1: Artery stream ref %.0f"
          + " MB/s, HTTP %.0f MB/s (Artery %.2fx HTTP)", bytes / 1e6, arteryMBps, httpMBps, arteryMBps / httpMBps);
    }

    public ObjectNode json() {
      return Json.object().put("entry_bytes", bytes).put("artery_mb_s", Json.fixed(arteryMBps, 1))
          .put("http_mb_s", Json.fixed(httpMBps, 1)).put("artery_vs_http", Json.fixed(arteryMBps / httpMBps, 3));
    }
  }

  public static Result run(Path dir, long bytes, int rounds, Consumer<String> progress) throws Exception {
    byte[] data = new byte[(int) bytes];
    new SplittableRandom(15).nextBytes(data);
    Path file = Files.write(dir.resolve("entry.tar"), data);
    URI uri = file.toUri();
    CacheKey key = CacheKey.whole(new ShardCheck(bytes, HexFormat.of().formatHex(ShardCheck.newSha256().digest(data))))
        .orElseThrow();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    ActorSystem<?> owner = node(dir.resolve("owner"), port, port);
    ActorSystem<?> reader = node(dir.resolve("reader"), 0, port);
    try {
      ClusterNode.awaitUp(owner, "127.0.0.1:" + port, Duration.ofSeconds(60));
      ClusterNode.awaitUp(reader, "127.0.0.1:" + port, Duration.ofSeconds(60));
      NodeCaches owning = NodeState.get(owner).cache().orElseThrow();
      NodeCaches reading = NodeState.get(reader).cache().orElseThrow();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (reading.ringMembers().size() < 2) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the two nodes' caches did not see each other within 30 s");
        }
        Thread.sleep(50);
      }
      owning.serve(key, uri, "bench", "bench").toCompletableFuture().get(60, TimeUnit.SECONDS); // on the owner's disk
      String ownerName = Cluster.get(owner).selfMember().address().toString();
      ServerBinding http = Http.get(owner).newServerAt("127.0.0.1", 0).bind(Directives.get(() ->
          Directives.onSuccess(owning.serve(key, uri, "bench", "bench"), b -> Directives.complete(
              HttpEntities.createChunked(ContentTypes.APPLICATION_OCTET_STREAM, Source.from(CachePeer.chunks(b)))))))
          .toCompletableFuture().get(30, TimeUnit.SECONDS);
      HttpClient client = HttpClient.newHttpClient();
      URI at = URI.create("http://127.0.0.1:" + http.localAddress().getPort() + "/");
      List<Double> artery = new ArrayList<>();
      List<Double> overHttp = new ArrayList<>();
      for (int r = 0; r <= rounds; r++) { // round 0 warms both paths up
        long t0 = System.nanoTime();
        ByteString got = reading.fetchFrom(ownerName, key, uri, "bench", "bench").toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
        long t1 = System.nanoTime();
        byte[] body = client.send(HttpRequest.newBuilder(at).build(), HttpResponse.BodyHandlers.ofByteArray()).body();
        long t2 = System.nanoTime();
        if (got.size() != bytes || body.length != bytes) {
          throw new IllegalStateException("an entry arrived short: " + got.size() + " and " + body.length + " of " + bytes);
        }
        if (r > 0) {
          artery.add(bytes / ((t1 - t0) / 1e9) / 1e6);
          overHttp.add(bytes / ((t2 - t1) / 1e9) / 1e6);
          progress.accept(String.format(Locale.ROOT, "round %d: Artery %.0f MB/s, HTTP %.0f MB/s", r,
              artery.get(artery.size() - 1), overHttp.get(overHttp.size() - 1)));
        }
      }
      http.unbind();
      return new Result(bytes, median(artery), median(overHttp));
    } finally {
      reader.terminate();
      owner.terminate();
      reader.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      owner.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private static ActorSystem<?> node(Path cacheDir, int port, int seed) {
    Config c = ConfigFactory.parseString("""
        conveyor.node { roles = [worker], hostname = "127.0.0.1", port = %d, seed-nodes = ["127.0.0.1:%d"],
          http.port = -1, cache { enabled = true, dir = "%s" } }
        """.formatted(port, seed, cacheDir.toString())).withFallback(ConfigFactory.load());
    return ClusterNode.start(NodeSettings.fromConfig(c), S3Settings.fromConfig(c), c);
  }

  private static double median(List<Double> xs) {
    List<Double> s = xs.stream().sorted().toList();
    return s.get(s.size() / 2);
  }
}
