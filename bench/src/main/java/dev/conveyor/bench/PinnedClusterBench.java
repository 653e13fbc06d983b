package dev.conveyor.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.ConveyorSettings;
import dev.conveyor.orchestrator.client.ClusterClient;
import dev.conveyor.orchestrator.delivery.JobSummary;
import dev.conveyor.streams.json.Json;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * {@code bench cluster --pin}: does a second node pay? One node process pinned to one core
 * ({@code taskset -c 0}: trainer host and worker, one decoder) against two pinned node processes
 * — a trainer host that decodes too on core 0, a worker on core 1, one decoder each — and, with
 * TLS, the same two over mutual TLS: each job from its submission to its last batch, rounds
 * interleaved after untimed ones. Beside throughput, the CPU each costs: the CPU seconds of all
 * its node processes over the job (user and system, as the kernel counts them), per image.
 */
public final class PinnedClusterBench {
  private PinnedClusterBench() {}

  /**
   * Medians of the rounds: images/s and CPU milliseconds per image of each set-up (TLS: 0 when
   * not measured), and how busy each pinned core was — its node's CPU seconds over the job's
   * wall seconds — alone, and as the two nodes' host and worker.
   */
  public record Result(long samples, int rounds, double onePerS, double oneCpuMs, double twoPerS, double twoCpuMs,
                       double tlsPerS, double tlsCpuMs, double oneBusy, double hostBusy, double workerBusy) {
    /** Two pinned nodes against one: the goal is 1.7 or more. */
    public double pinnedRatio() {
      return onePerS > 0 ? twoPerS / onePerS : 0;
    }

    /** CPU per image across the two nodes against one process's: the goal is 1.2 or less. */
    public double cpuPerImageRatio() {
      return oneCpuMs > 0 ? twoCpuMs / oneCpuMs : 0;
    }

    public double tlsThroughputRatio() {
      return twoPerS > 0 ? tlsPerS / twoPerS : 0;
    }

    public double tlsCpuPerImageRatio() {
      return twoCpuMs > 0 ? tlsCpuMs / twoCpuMs : 0;
    }

    public ObjectNode json() {
      return Json.object().put("pinned_ratio", Json.fixed(pinnedRatio(), 3))
          .put("cpu_per_image_ratio", Json.fixed(cpuPerImageRatio(), 3))
          .put("tls_throughput_ratio", Json.fixed(tlsThroughputRatio(), 3))
          .put("tls_cpu_per_image_ratio", Json.fixed(tlsCpuPerImageRatio(), 3))
          .put("samples_per_round", samples).put("rounds", rounds)
          .put("one_pinned_samples_per_s", Json.fixed(onePerS, 1)).put("one_pinned_cpu_ms_per_image", Json.fixed(oneCpuMs, 3))
          .put("two_pinned_samples_per_s", Json.fixed(twoPerS, 1)).put("two_pinned_cpu_ms_per_image", Json.fixed(twoCpuMs, 3))
          .put("tls_two_pinned_samples_per_s", Json.fixed(tlsPerS, 1))
          .put("tls_two_pinned_cpu_ms_per_image", Json.fixed(tlsCpuMs, 3))
          .put("one_pinned_core_busy", Json.fixed(oneBusy, 3)).put("two_pinned_host_core_busy", Json.fixed(hostBusy, 3))
          .put("two_pinned_worker_core_busy", Json.fixed(workerBusy, 3));
    }

    public String text() {
      return String.format(Locale.ROOT, "pinned, %,d images a round (medians of %d): one node on one core %,.0f images/s"
              + " at %.2f ms of CPU an image; a trainer host on core 0 and a worker on core 1 %,.0f images/s at %.2f ms"
              + " (pinned_ratio %.3f, goal >= 1.7; cpu_per_image_ratio %.3f, goal <= 1.2); cores busy: alone %.0f %%,"
              + " host %.0f %%, worker %.0f %%", samples, rounds, onePerS, oneCpuMs, twoPerS, twoCpuMs, pinnedRatio(),
          cpuPerImageRatio(), 100 * oneBusy, 100 * hostBusy, 100 * workerBusy)
          + (tlsPerS > 0 ? String.format(Locale.ROOT, "; the two over mutual TLS %,.0f images/s at %.2f ms"
          + " (tls_throughput_ratio %.3f, goal >= 0.85; tls_cpu_per_image_ratio %.3f, goal <= 1.15)", tlsPerS, tlsCpuMs,
          tlsThroughputRatio(), tlsCpuPerImageRatio()) : "");
    }
  }

  /** One set-up: its node processes and the client that submits its jobs. */
  private record Cluster(String seed, List<Process> nodes, ActorSystem<Void> client) {
    /**
     * The job once: images/s, the CPU milliseconds an image all its nodes spent, the images, and
     * each node's CPU seconds over the job's wall seconds (its core's busy fraction).
     */
    double[] job(ConveyorSettings settings) throws Exception {
      long[] before = cpuNanos();
      long t0 = System.nanoTime();
      JobSummary s = PipelineBench.job(client, settings, Optional.of(seed));
      double wall = System.nanoTime() - t0;
      long[] after = cpuNanos();
      double[] out = new double[3 + nodes.size()];
      long cpu = 0;
      for (int i = 0; i < nodes.size(); i++) {
        cpu += after[i] - before[i];
        out[3 + i] = (after[i] - before[i]) / wall;
      }
      out[0] = s.samplesPerSecond();
      out[1] = s.samples() > 0 ? cpu / 1e6 / s.samples() : 0;
      out[2] = s.samples();
      return out;
    }

    long[] cpuNanos() {
      long[] n = new long[nodes.size()];
      for (int i = 0; i < n.length; i++) {
        n[i] = nodes.get(i).toHandle().info().totalCpuDuration().map(Duration::toNanos).orElseThrow(() ->
            new IllegalStateException("this system does not report a process's CPU time"));
      }
      return n;
    }
  }

  /**
   * Measures {@code shards} (images) for {@code world} ranks on one pinned node against two, and
   * with {@code tls} two over mutual TLS, nodes started with {@code nodeCommand} (the command line
   * of {@code conveyor node}, its config file appended, run under {@code taskset}), files in
   * {@code dir}: {@code warmups} untimed jobs on each, then {@code rounds} interleaved.
   */
  public static Result run(List<URI> shards, int world, int batchSize, int warmups, int rounds, Config base,
                           List<String> nodeCommand, Path dir, boolean tls, Consumer<String> notice) throws Exception {
    ConveyorSettings settings = ClusterBench.settings(shards, world, batchSize, base);
    java.nio.file.Files.createDirectories(dir);
    List<Cluster> clusters = new ArrayList<>();
    try {
      clusters.add(start(nodeCommand, dir, "one", "", Map.of(), ConfigFactory.load(), false));
      clusters.add(start(nodeCommand, dir, "two", "", Map.of(), ConfigFactory.load(), true));
      if (tls) {
        NodeProcs.Tls t = NodeProcs.tls(dir);
        clusters.add(start(nodeCommand, dir, "tls", t.settings(), t.env(), t.clientConfig(), true));
      }
      notice.accept("pinned: " + clusters.size() + " set-ups up; warming up (" + warmups + " job(s) each)");
      for (int i = 0; i < warmups; i++) {
        for (Cluster c : clusters) {
          c.job(settings);
        }
      }
      double[][] perS = new double[clusters.size()][rounds];
      double[][] cpu = new double[clusters.size()][rounds];
      double[][] busy = new double[3][rounds]; // alone; the two's host, worker
      long samples = 0;
      for (int r = 0; r < rounds; r++) {
        StringBuilder line = new StringBuilder("pinned round " + (r + 1) + "/" + rounds + ":");
        for (int c = 0; c < clusters.size(); c++) {
          double[] m = clusters.get(c).job(settings);
          perS[c][r] = m[0];
          cpu[c][r] = m[1];
          samples = (long) m[2];
          if (c == 0) {
            busy[0][r] = m[3];
          } else if (c == 1) {
            busy[1][r] = m[3];
            busy[2][r] = m[4];
          }
          line.append(String.format(Locale.ROOT, " %s %,.0f images/s %.2f ms CPU an image;", List.of("one", "two",
              "two over TLS").get(c), m[0], m[1]));
        }
        notice.accept(line.toString());
      }
      return new Result(samples, rounds, Measure.median(perS[0]), Measure.median(cpu[0]), Measure.median(perS[1]),
          Measure.median(cpu[1]), tls ? Measure.median(perS[2]) : 0, tls ? Measure.median(cpu[2]) : 0,
          Measure.median(busy[0]), Measure.median(busy[1]), Measure.median(busy[2]));
    } finally {
      for (Cluster c : clusters) {
        ClusterClient.leave(c.client());
        NodeProcs.stop(c.nodes());
      }
    }
  }

  /**
   * One set-up named {@code name}: a node on core 0 with both roles and one decoder, and when
   * {@code withWorker} a worker on core 1 with one decoder; {@code settings} (HOCON) and
   * {@code env} for each, {@code client} for the client that joins it.
   */
  private static Cluster start(List<String> nodeCommand, Path dir, String name, String settings, Map<String, String> env,
                               Config client, boolean withWorker) throws Exception {
    int port = NodeProcs.freePort();
    String seeds = "seed-nodes = [\"127.0.0.1:" + port + "\"], http.port = -1, cpus = 1";
    List<Process> nodes = new ArrayList<>();
    try {
      nodes.add(NodeProcs.node(pinned(nodeCommand, 0), dir, name + "-host", settings
          + "\nconveyor.node { roles = [trainer-host, worker], port = " + port + ", " + seeds + " }", env));
      if (withWorker) {
        nodes.add(NodeProcs.node(pinned(nodeCommand, 1), dir, name + "-worker", settings
            + "\nconveyor.node { roles = [worker], port = 0, " + seeds + " }", env));
      }
    } catch (Exception e) {
      nodes.forEach(Process::destroyForcibly);
      throw e;
    }
    String seed = "127.0.0.1:" + port;
    return new Cluster(seed, nodes, ClusterClient.join(seed, client));
  }

  /** {@code command} run on core {@code core} only. */
  private static List<String> pinned(List<String> command, int core) {
    List<String> out = new ArrayList<>(List.of("taskset", "-c", String.valueOf(core)));
    out.addAll(command);
    return out;
  }
}
