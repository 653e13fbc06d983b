package dev.conveyor.cli;

import dev.conveyor.bench.CatalogBench;
import dev.conveyor.streams.json.Json;
import java.io.PrintWriter;
import picocli.CommandLine.Option;

/** {@code bench catalog}'s options, and the run: a synthetic catalog of --rows rows, a recipe planned over it. */
final class CatalogBenchFlags {
  @Option(names = "--rows", defaultValue = "10000000", description = "catalog: rows of the synthetic catalog (default: ${DEFAULT-VALUE}).")
  long rows;

  @Option(names = "--where", defaultValue = "quality > 0.8 AND label = 3 AND width BETWEEN 250 AND 500",
      description = "catalog: the recipe's filter (default: ${DEFAULT-VALUE}).")
  String where;

  Integer run(int perShard, PrintWriter out, PrintWriter err, boolean json) throws Exception {
    if (rows < 1 || perShard < 1) {
      throw new ConveyorCli.UsageException("--rows and --per-shard must be at least 1");
    }
    try (LocalStreams streams = new LocalStreams("conveyor-bench-catalog");
         Scratch scratch = Scratch.create("conveyor-bench-catalog-")) {
      CatalogBench.Result r = CatalogBench.run(scratch.dir.resolve("data"), rows, perShard, where, streams.mat,
          line -> err.println("bench: " + line));
      out.println(json ? Json.compact(r.json()) : r.text());
      out.flush();
      return ConveyorCli.EXIT_OK;
    }
  }
}
