package dev.conveyor.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.bench.ClusterBench;
import dev.conveyor.bench.PinnedClusterBench;
import dev.conveyor.config.NodeSettings;
import dev.conveyor.config.S3Settings;
import dev.conveyor.orchestrator.node.ClusterNode;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.store.FileShardStore;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import picocli.CommandLine.Option;

/**
 * {@code bench cluster}'s options, and the run: three node processes against one process, and
 * with {@code --pin} first one pinned node against two (and over TLS), reported together.
 */
final class ClusterBenchFlags {
  @Option(names = "--ranks", paramLabel = "N", defaultValue = "2", description = "cluster: ranks, all on the trainer host"
      + " (default: ${DEFAULT-VALUE}, one per worker).")
  int ranks;

  @Option(names = "--decoders", paramLabel = "N", description = "cluster: decoder slots in all, split between the two"
      + " workers (default: the cores, at least 2).")
  Integer decoders;

  @Option(names = "--tls", description = "cluster: also three node processes over mutual TLS (stores made as conveyor"
      + " certs makes them), measured in the same rounds (with --pin: also the two pinned nodes over mutual TLS).")
  boolean tls;

  @Option(names = "--pin", description = "cluster: first, one node process pinned to core 0 (trainer host and worker, one"
      + " decoder) against a trainer host on core 0 and a worker on core 1 (one decoder each): images/s and CPU seconds"
      + " per image over all node processes; then the unpinned figures as without it.")
  boolean pin;

  Integer run(List<URI> inputs, int batchSize, int rounds, PrintWriter out, PrintWriter err, boolean json)
      throws Exception {
    if (inputs == null) {
      throw new ConveyorCli.UsageException("bench cluster needs --in: e.g. --in file:///tmp/ref/shards (make it with"
          + " bench/reference-corpus.sh /tmp/ref)");
    }
    List<URI> images = inputs.stream().filter(u -> u.getPath().matches(".*/img-[^/]*\\.tar")).toList();
    if (images.isEmpty()) {
      throw new ConveyorCli.UsageException("bench cluster takes the reference corpus's img-*.tar shards; none among "
          + inputs.size() + " input(s)");
    }
    int slots = decoders != null ? decoders : Math.max(2, Runtime.getRuntime().availableProcessors());
    if (ranks < 1) {
      throw new ConveyorCli.UsageException("--ranks must be at least 1, got " + ranks);
    }
    if (slots < 2 || slots % 2 != 0) {
      throw new ConveyorCli.UsageException("--decoders must be even and at least 2 (half for each worker), got " + slots);
    }
    Config base = ConfigFactory.parseString("conveyor.node.cpus = " + slots).withFallback(ConfigFactory.load());
    Consumer<String> notice = line -> {
      err.println("bench: " + line);
      err.flush();
    };
    // the nodes run as bin/conveyor runs this JVM: its options (G1 regions for large arrays), its class path
    List<String> nodeCommand = new ArrayList<>();
    nodeCommand.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    nodeCommand.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    nodeCommand.addAll(List.of("-cp", System.getProperty("java.class.path"), ConveyorCli.class.getName(), "node"));
    try (Scratch scratch = Scratch.create("conveyor-bench-cluster-")) {
      PinnedClusterBench.Result pinned = pin ? PinnedClusterBench.run(images, ranks, batchSize, 2, rounds, base,
          nodeCommand, scratch.dir.resolve("pinned"), tls, notice) : null;
      ClusterBench.Result r = unpinned(images, slots, batchSize, rounds, base, nodeCommand, scratch.dir, notice);
      if (json) {
        ObjectNode j = pinned != null ? pinned.json() : Json.object();
        out.println(Json.compact(pinned != null ? j.set("unpinned", r.json()) : r.json()));
      } else {
        out.println((pinned != null ? pinned.text() + System.lineSeparator() : "") + r.text());
      }
      return ConveyorCli.EXIT_OK;
    }
  }

  /** Three node processes (a trainer host, two workers) against this process, as without {@code --pin}. */
  private ClusterBench.Result unpinned(List<URI> images, int slots, int batchSize, int rounds, Config base,
                                       List<String> nodeCommand, Path dir, Consumer<String> notice) throws Exception {
    var system = ClusterNode.startAlone(NodeSettings.fromConfig(base), S3Settings.fromConfig(base), base);
    try (var store = new FileShardStore()) {
      ClusterNode.awaitUp(system, "127.0.0.1 (this process)", Duration.ofSeconds(60));
      java.nio.file.Files.createDirectories(dir);
      return ClusterBench.run(system, images, slots, ranks, batchSize, 2, rounds, base, store, nodeCommand, dir, tls,
          notice);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).exceptionally(x -> null).join();
    }
  }
}
