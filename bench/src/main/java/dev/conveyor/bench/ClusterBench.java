package dev.conveyor.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.ConveyorSettings;
import dev.conveyor.orchestrator.client.ClusterClient;
import dev.conveyor.orchestrator.delivery.JobSummary;
import dev.conveyor.streams.decode.DecodeException;
import dev.conveyor.streams.decode.SampleDecoder;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.workers.reader.ShardReader;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.stream.Materializer;

/**
 * {@code bench cluster}: the image shards decoded and batched by three node processes on
 * loopback — a trainer host with the rank, and two workers that read and decode, half the
 * decoder slots each — against the same job in one process with as many decoder slots, in the
 * same run (rounds interleaved after untimed ones). Each job from its submission to its last
 * batch taken. Also what the wire costs: a batch's worth of decoded samples, as a worker sends
 * them to a rank ({@link ShardReader.SliceEvents}), serialized and read back with the cluster's
 * serializer in this process. With TLS, the same three processes again over mutual TLS, in the same
 * rounds.
 */
public final class ClusterBench {
  private ClusterBench() {}

  /** The figures: samples/s of each, MB/s of decoded batches across nodes, and the wire's cost per batch. */
  public record Result(int decoders, int world, long samples, double onePerS, double clusterPerS, double clusterMbPerS,
                       double batchMb, double serializeMs, double deserializeMs, int rounds, double tlsPerS) {
    public double ratio() {
      return onePerS > 0 ? clusterPerS / onePerS : 0;
    }

    /** The cluster over mutual TLS against the same cluster over plain TCP (0 when TLS was not measured). */
    public double tlsRatio() {
      return clusterPerS > 0 ? tlsPerS / clusterPerS : 0;
    }

    public ObjectNode json() {
      return Json.object().put("decoder_slots", decoders).put("ranks", world).put("samples_per_round", samples)
          .put("one_process_samples_per_s", Json.fixed(onePerS, 1))
          .put("cluster_samples_per_s", Json.fixed(clusterPerS, 1)).put("ratio", Json.fixed(ratio(), 3))
          .put("cluster_mb_per_s_between_nodes", Json.fixed(clusterMbPerS, 1))
          .put("batch_mb", Json.fixed(batchMb, 3)).put("serialize_ms_per_batch", Json.fixed(serializeMs, 3))
          .put("deserialize_ms_per_batch", Json.fixed(deserializeMs, 3)).put("rounds", rounds)
          .put("tls_cluster_samples_per_s", Json.fixed(tlsPerS, 1)).put("tls_ratio", Json.fixed(tlsRatio(), 3));
    }

    public String text() {
      return String.format(Locale.ROOT, "cluster %d decoder slot(s), %d rank(s), %,d images a round decoded to 256x256 and batched:"
              + " one process %,.0f images/s, three node processes (trainer host + 2 workers) %,.0f images/s, ratio %.3f"
              + " (goal >= 0.8); %.1f MB/s of decoded batches between nodes; a batch (%.2f MB) serialized in %.2f ms,"
              + " read back in %.2f ms (medians of %d rounds)",
          decoders, world, samples, onePerS, clusterPerS, ratio(), clusterMbPerS, batchMb, serializeMs, deserializeMs, rounds)
          + (tlsPerS > 0 ? String.format(Locale.ROOT, "; the same three processes over mutual TLS %,.0f images/s, %.3f of"
          + " plain TCP", tlsPerS, tlsRatio()) : "");
    }
  }

  /**
   * Measures {@code shards} (images, {@code file://}) on {@code local}, a cluster of one with
   * {@code decoders} slots, against nodes started with {@code nodeCommand} (the command line of
   * {@code conveyor node}, its config file appended), their files and logs in {@code dir}: after
   * {@code warmups} untimed jobs each way, {@code rounds} interleaved. With {@code tls}, also
   * three node processes whose remoting is mutual TLS (stores made in {@code dir} as
   * {@code conveyor certs} makes them), measured in the same rounds.
   */
  public static Result run(ActorSystem<?> local, List<URI> shards, int decoders, int world, int batchSize, int warmups,
                           int rounds, Config base, ShardStore store, List<String> nodeCommand, Path dir, boolean tls,
                           Consumer<String> notice) throws Exception {
    if (decoders < 2 || decoders % 2 != 0) {
      throw new IllegalArgumentException("bench cluster splits the decoder slots between two workers: give an even"
          + " number of at least 2, got " + decoders);
    }
    ConveyorSettings settings = settings(shards, world, batchSize, base);
    double[] wire = wireCost(local, store, shards.get(0), settings, batchSize, warmups > 0);
    List<Process> nodes = new ArrayList<>();
    List<ActorSystem<Void>> clients = new ArrayList<>();
    try {
      String plain = cluster(nodeCommand, dir, "", decoders, Map.of(), nodes);
      ActorSystem<Void> plainClient = ClusterClient.join(plain, ConfigFactory.load());
      clients.add(plainClient);
      Optional<String> secure = Optional.empty();
      ActorSystem<Void> tlsClient = null;
      if (tls) {
        NodeProcs.Tls t = NodeProcs.tls(dir);
        secure = Optional.of(cluster(nodeCommand, dir, t.settings(), decoders, t.env(), nodes));
        tlsClient = ClusterClient.join(secure.get(), t.clientConfig());
        clients.add(tlsClient);
      }
      notice.accept("cluster: " + nodes.size() + " node processes up" + (tls ? " (plain TCP and mutual TLS)" : "")
          + "; warming up (one job each way, " + warmups + " times)");
      for (int i = 0; i < warmups; i++) {
        PipelineBench.job(local, settings, Optional.empty());
        PipelineBench.job(plainClient, settings, Optional.of(plain));
        if (tlsClient != null) {
          PipelineBench.job(tlsClient, settings, secure);
        }
      }
      double[] one = new double[rounds];
      double[] cluster = new double[rounds];
      double[] mb = new double[rounds];
      double[] overTls = new double[rounds];
      JobSummary first = null;
      for (int r = 0; r < rounds; r++) {
        JobSummary o = PipelineBench.job(local, settings, Optional.empty());
        first = first == null ? o : first;
        one[r] = o.samplesPerSecond();
        JobSummary c = PipelineBench.job(plainClient, settings, Optional.of(plain));
        cluster[r] = c.samplesPerSecond();
        mb[r] = c.megabytesPerSecond();
        overTls[r] = tlsClient == null ? 0 : PipelineBench.job(tlsClient, settings, secure).samplesPerSecond();
        notice.accept(String.format(Locale.ROOT, "cluster round %d/%d: one process %,.0f images/s, three processes"
            + " %,.0f images/s (%.1f MB/s between nodes)%s", r + 1, rounds, one[r], cluster[r], mb[r],
            tlsClient == null ? "" : String.format(Locale.ROOT, ", over mutual TLS %,.0f images/s", overTls[r])));
      }
      return new Result(decoders, world, first.samples(), Measure.median(one), Measure.median(cluster), Measure.median(mb),
          wire[0], wire[1], wire[2], rounds, Measure.median(overTls));
    } finally {
      for (ActorSystem<Void> client : clients) {
        ClusterClient.leave(client);
      }
      NodeProcs.stop(nodes);
    }
  }

  /** The benchmarks' job: {@code shards} (images) decoded to 256x256 and batched for {@code world} ranks. */
  static ConveyorSettings settings(List<URI> shards, int world, int batchSize, Config base) {
    return ConveyorSettings.fromConfig(ConfigFactory.parseString(String.format(Locale.ROOT,
            "conveyor.job { shards = \"%s\", world-size = %d, batch-size = %d, decode = auto, manifest = none,"
                + " shuffle.window-shards = 1 }\n"
                + "conveyor.decode.image { short-side = 256, crop-height = 256, crop-width = 256 }",
            PipelineBench.pattern(shards), world, batchSize))
        .withFallback(base));
  }

  /**
   * Starts a trainer host (the seed) and two workers with half the decoder slots each, with
   * {@code settings} (HOCON) and {@code env}, adding them to {@code nodes}; returns the seed's
   * {@code host:port}.
   */
  private static String cluster(List<String> nodeCommand, Path dir, String settings, int decoders, Map<String, String> env,
                                List<Process> nodes) throws Exception {
    int port = NodeProcs.freePort();
    String prefix = settings.isEmpty() ? "" : "tls-";
    String seeds = "seed-nodes = [\"127.0.0.1:" + port + "\"], http.port = -1";
    nodes.add(NodeProcs.node(nodeCommand, dir, prefix + "host", settings + "\nconveyor.node { roles = [trainer-host], port = " + port
        + ", " + seeds + " }", env));
    for (String w : List.of("worker1", "worker2")) {
      nodes.add(NodeProcs.node(nodeCommand, dir, prefix + w, settings + "\nconveyor.node { roles = [worker], port = 0, cpus = "
          + decoders / 2 + ", " + seeds + " }", env));
    }
    return "127.0.0.1:" + port;
  }

  /**
   * A batch's worth of decoded samples as a worker sends them: its size in MB, and the median
   * milliseconds to serialize it and to read it back (of 21 times each, after 3 s of untimed
   * ones when {@code warm}: the JIT takes some 25 rounds to compile the copy loops).
   */
  private static double[] wireCost(ActorSystem<?> system, ShardStore store, URI shard, ConveyorSettings settings,
                                   int batchSize, boolean warm) throws Exception {
    SampleDecoder decoder = new SampleDecoder(settings.decode());
    List<RawSample> raw = PipelineBench.load(store, shard, Materializer.createMaterializer(system));
    List<ReadEvent> events = new ArrayList<>();
    for (int i = 0; i < batchSize; i++) {
      RawSample s = raw.get(i % raw.size());
      try {
        events.add(new ReadEvent.Slot(i, SampleDecoder.withoutDecodedMedia(decoder.decode(s, new SplittableRandom(i)))));
      } catch (DecodeException e) {
        throw new IllegalStateException("a benchmark sample failed to decode: " + e.getMessage(), e);
      }
    }
    ShardReader.SliceEvents message = new ShardReader.SliceEvents(0, events);
    Serialization serialization = SerializationExtension.get(system.classicSystem());
    long warmUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(warm ? 3 : 0);
    while (System.nanoTime() < warmUntil) {
      roundTrip(serialization, message, new long[2]);
    }
    int times = 21;
    double[] ser = new double[times];
    double[] de = new double[times];
    int bytes = 0;
    for (int i = 0; i < times; i++) {
      long[] nanos = new long[2];
      bytes = roundTrip(serialization, message, nanos);
      ser[i] = nanos[0] / 1e6;
      de[i] = nanos[1] / 1e6;
    }
    return new double[] {bytes / 1e6, Measure.median(ser), Measure.median(de)};
  }

  /** Serializes {@code message} and reads it back: its size; the nanoseconds of each step into {@code nanos}. */
  private static int roundTrip(Serialization serialization, Object message, long[] nanos) {
    long t0 = System.nanoTime();
    byte[] bytes = serialization.serialize(message).get();
    long t1 = System.nanoTime();
    Object back = serialization.deserialize(bytes, serialization.findSerializerFor(message).identifier(), "").get();
    long t2 = System.nanoTime();
    if (!(back instanceof ShardReader.SliceEvents)) {
      throw new IllegalStateException("the wire read back " + back.getClass().getName());
    }
    nanos[0] = t1 - t0;
    nanos[1] = t2 - t1;
    return bytes.length;
  }
}
