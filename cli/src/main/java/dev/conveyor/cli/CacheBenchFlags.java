package dev.conveyor.cli;

import dev.conveyor.bench.CacheBench;
import dev.conveyor.bench.CacheChart;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import picocli.CommandLine.Option;

/** {@code bench cache}'s options, and the run: the policies over real plans' reads, the ring model, the chart. */
final class CacheBenchFlags {
  @Option(names = "--cache-ranks", split = ",", defaultValue = "1,8,64", description = "cache: rank counts (default: ${DEFAULT-VALUE}).")
  int[] cacheRanks;

  @Option(names = "--cache-jobs", split = ",", defaultValue = "1,2,4", description = "cache: jobs sharing the shards (default: ${DEFAULT-VALUE}).")
  int[] cacheJobs;

  @Option(names = "--nodes", split = ",", defaultValue = "1000,10000,100000", description = "cache: ring sizes modelled (default: ${DEFAULT-VALUE}; 0: no ring model).")
  int[] nodes;

  @Option(names = "--keys-per-node", defaultValue = "4000", description = "cache: keys per node in the ring model (default: ${DEFAULT-VALUE}).")
  int keysPerNode;

  @Option(names = "--chart", paramLabel = "PNG", defaultValue = "bench-cache.png", description = "cache: where the chart goes (default: ${DEFAULT-VALUE}).")
  java.nio.file.Path chart;

  @Option(names = "--transfer", paramLabel = "SIZE", converter = ByteSize.class, description = "cache: instead, an entry of SIZE bytes (e.g. 64MiB)"
      + " moved between two nodes over Artery and over HTTP, --transfer-rounds times.")
  Long transfer;

  @Option(names = "--transfer-rounds", defaultValue = "5", description = "cache: rounds of --transfer (default: ${DEFAULT-VALUE}).")
  int transferRounds;

  Integer run(PrintWriter out, PrintWriter err, boolean json) throws Exception {
    if (Arrays.stream(cacheRanks).anyMatch(r -> r < 1) || Arrays.stream(cacheJobs).anyMatch(j -> j < 1)
        || Arrays.stream(nodes).anyMatch(n -> n < 0) || keysPerNode < 1) {
      throw new ConveyorCli.UsageException("--cache-ranks, --cache-jobs and --keys-per-node must be at least 1, --nodes at least 0");
    }
    Consumer<String> progress = line -> {
      err.println("bench: " + line);
      err.flush();
    };
    if (transfer != null) {
      long bytes = transfer;
      if (bytes < 1 || bytes > Integer.MAX_VALUE - 16 || transferRounds < 1) {
        throw new ConveyorCli.UsageException("--transfer takes a size up to 2 GiB, --transfer-rounds at least 1");
      }
      try (Scratch scratch = Scratch.create("conveyor-bench-cache-")) {
        var r = dev.conveyor.bench.CacheTransferBench.run(scratch.dir, bytes, transferRounds, progress);
        out.println(json ? dev.conveyor.streams.json.Json.compact(r.json()) : r.text());
      }
      return ConveyorCli.EXIT_OK;
    }
    var replays = CacheBench.replays(cacheRanks, cacheJobs, new double[] {0.3, 0.5, 0.7}, progress);
    List<CacheBench.RingModel> rings = new ArrayList<>();
    double perNode = dev.conveyor.config.CacheSettings.fromConfig(com.typesafe.config.ConfigFactory.load()).s3GetsPerSecond();
    for (int n : nodes) {
      if (n > 0) {
        rings.add(CacheBench.ring(n, keysPerNode, 3, perNode, 15));
        progress.accept("ring of " + n + " nodes: " + rings.get(rings.size() - 1).seconds() + " s");
      }
    }
    CacheChart.write(replays, cacheRanks[cacheRanks.length - 1], cacheJobs[0], chart);
    progress.accept("chart: " + chart.toAbsolutePath());
    out.println(json ? CacheBench.jsonLines(replays, rings) : CacheBench.text(replays, rings));
    return ConveyorCli.EXIT_OK;
  }
}
