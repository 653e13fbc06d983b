package dev.conveyor.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.streams.json.Json;
import dev.conveyor.bench.PlanBenchmark;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.plan.ShuffleQuality;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/** {@code conveyor bench plan|decode|read}: figures per docs/benchmarks.md. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
        "Benchmarks, per docs/benchmarks.md.",
        "plan: seek time and heap of a plan of --shards x --per-shard samples (500M by default), and shuffle",
        "  quality of Conveyor's order against WebDataset's shard shuffle + 1,000-sample buffer.",
        "decode --in URI: H.264 and JPEG to RGB, 1 and 2 threads, against the ffmpeg CLI on the same files",
        "  (the reference corpus: --in file:///DIR/shards from bench/reference-corpus.sh DIR).",
        "read [--in URI]: the shard reader from the embedded S3 server against a plain SDK GET loop and cat of",
        "  the same shards, and tar parsing from local disk against GNU tar; without --in it generates 6 shards",
        "  of 96 MiB in a temporary folder.",
        "pipeline --in URI: the whole path as run runs it (read, parse, decode, batch, hand-off to each rank's",
        "  consumer) on a cluster of one in this JVM, against decoding the same samples alone with as many",
        "  threads; images (img-*.tar) and video (vid-*.tar) of the reference corpus, each when present.",
        "cluster --in URI: the image shards decoded and batched by three conveyor node processes on 127.0.0.1",
        "  (a trainer host and two workers, half the decoder slots each) against the same job in this process",
        "  with as many slots (--decoders, default: the cores); and a batch's serialization cost on the wire;",
        "  with --tls, also three node processes over mutual TLS, in the same rounds.",
        "cache: the shard cache's policies (lru, fifo, plan, and the offline optimum) replaying the reads of real",
        "  data plans (3 shuffled epochs of 512 shards; caches of 30, 50, 70 %; --cache-ranks, --cache-jobs), and",
        "  the ring placing --keys-per-node keys on each of --nodes nodes as nodes leave and join; --chart PNG.",
        "catalog: a synthetic catalog of --rows rows (--per-shard to a shard) made by DuckDB, and a recipe over it",
        "  (--where) planned as run plans it, then sought mid-epoch; seconds and peak heap (run with -Xmx1g).",
        "ring-writer: the Java half of python/bench/trainer_bench.py's hand-off figure: --images batches of",
        "  --batch-size 256x256x3 images into a shared-memory ring announced on stdout, as `feed` announces one."})
final class BenchCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "WHAT", description = "plan | decode | read | pipeline | cluster | cache | catalog | ring-writer")
  String what;

  @Option(names = "--shards", defaultValue = "500000", description = "Shards (default: ${DEFAULT-VALUE}).")
  int shards;

  @Option(names = "--per-shard", defaultValue = "1000", description = "Samples per shard (default: ${DEFAULT-VALUE}).")
  int perShard;

  @Option(names = "--world", defaultValue = "8", description = "Ranks (default: ${DEFAULT-VALUE}).")
  int world;

  @Option(names = "--rounds", defaultValue = "5", description = "Rounds (plan: seeks) measured; the median is reported (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--json", description = "One JSON object instead of text.")
  boolean json;

  @Option(names = "--in", paramLabel = "URI", description = "decode, read: a folder of shards (file:///DIR) or a file:// shard pattern.")
  String in;

  @Option(names = "--clips", defaultValue = "200", description = "decode: clips to decode (default: ${DEFAULT-VALUE}).")
  int clips;

  @Option(names = "--images", defaultValue = "2000", description = "decode: JPEGs to decode (default: ${DEFAULT-VALUE}).")
  int images;

  private Integer decode() throws Exception {
    if (in == null) {
      throw new ConveyorCli.UsageException("bench decode needs --in: e.g. --in file:///tmp/ref/shards (make it with"
          + " bench/reference-corpus.sh /tmp/ref)");
    }
    java.util.List<java.net.URI> shards = inputs(in);
    return measure("conveyor-bench-decode-", (dir, mat, notice) -> {
      try (var store = dev.conveyor.streams.store.ShardStores.forUri(shards.get(0),
          dev.conveyor.config.S3Settings.fromConfig(com.typesafe.config.ConfigFactory.defaultReference()))) {
        var r = dev.conveyor.bench.DecodeBench.run(store, shards, clips, images, rounds, dir, mat, notice);
        return json ? Json.compact(r.json()) : r.text();
      }
    });
  }

  @Option(names = "--batch-size", defaultValue = "32", description = "pipeline: samples per batch (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--peer", paramLabel = "PY_PEER", description = "pipeline: the image shards only, decoded to 256x256"
      + " and batched, against this Python loader (python/bench/peers.py batch) with one process per core this"
      + " process may use (run under taskset -c 0 for one core).")
  java.nio.file.Path peer;

  @CommandLine.Mixin
  ClusterBenchFlags cluster;

  private Integer pipeline() throws Exception {
    if (in == null) {
      throw new ConveyorCli.UsageException("bench pipeline needs --in: e.g. --in file:///tmp/ref/shards (make it with"
          + " bench/reference-corpus.sh /tmp/ref)");
    }
    java.util.List<java.net.URI> shards = inputs(in);
    java.util.Map<String, java.util.List<java.net.URI>> kinds = new java.util.LinkedHashMap<>();
    kinds.put("images", shards.stream().filter(u -> u.getPath().matches(".*/img-[^/]*\\.tar")).toList());
    kinds.put("video", shards.stream().filter(u -> u.getPath().matches(".*/vid-[^/]*\\.tar")).toList());
    kinds.values().removeIf(java.util.List::isEmpty);
    if (kinds.isEmpty()) {
      throw new ConveyorCli.UsageException("bench pipeline takes the reference corpus's img-*.tar and vid-*.tar shards; "
          + "none in " + in);
    }
    PrintWriter err = spec.commandLine().getErr();
    com.typesafe.config.Config base = com.typesafe.config.ConfigFactory.load();
    dev.conveyor.config.NodeSettings node = dev.conveyor.config.NodeSettings.fromConfig(base);
    var system = dev.conveyor.orchestrator.node.ClusterNode.startAlone(node,
        dev.conveyor.config.S3Settings.fromConfig(base), base);
    try (var store = new dev.conveyor.streams.store.FileShardStore()) {
      dev.conveyor.orchestrator.node.ClusterNode.awaitUp(system, "127.0.0.1 (this process)",
          java.time.Duration.ofSeconds(60));
      int threads = dev.conveyor.config.StageSettings.fromConfig(base).decodersFor(node.cpus());
      java.util.function.Consumer<String> notice = line -> {
        err.println("bench: " + line);
        err.flush();
      };
      if (peer != null) {
        if (!kinds.containsKey("images")) {
          throw new ConveyorCli.UsageException("bench pipeline --peer takes the reference corpus's img-*.tar shards; none in " + in);
        }
        if (!java.nio.file.Files.isRegularFile(peer)) {
          throw new ConveyorCli.UsageException("--peer: no such file " + peer + " (python/bench/peers.py)");
        }
        var r = dev.conveyor.bench.PipelineBench.peer(system, kinds.get("images"), batchSize, threads, rounds, base,
            peer, notice);
        spec.commandLine().getOut().println(json ? Json.compact(r.json()) : r.text());
        return ConveyorCli.EXIT_OK;
      }
      java.util.List<dev.conveyor.bench.PipelineBench.Result> results = new java.util.ArrayList<>();
      for (var kind : kinds.entrySet()) {
        results.add(dev.conveyor.bench.PipelineBench.run(system, kind.getKey(), kind.getValue(), 1, batchSize,
            threads, rounds, base, store, notice));
      }
      spec.commandLine().getOut().println(dev.conveyor.bench.PipelineBench.format(results, json));
      return ConveyorCli.EXIT_OK;
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().orTimeout(30, java.util.concurrent.TimeUnit.SECONDS)
          .exceptionally(x -> null).join();
    }
  }

  /** One benchmark run: given a scratch folder, a materializer and where to report progress, its result text. */
  private interface Measurement {
    String run(java.nio.file.Path dir, org.apache.pekko.stream.Materializer mat, java.util.function.Consumer<String> notice)
        throws Exception;
  }

  /** Runs {@code m} with its own actor system and scratch folder, progress on stderr, the result on stdout. */
  private Integer measure(String scratchPrefix, Measurement m) throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    org.apache.pekko.actor.ActorSystem system = org.apache.pekko.actor.ActorSystem.create("bench",
        com.typesafe.config.ConfigFactory.load());
    try (Scratch scratch = Scratch.create(scratchPrefix)) {
      String result = m.run(scratch.dir, org.apache.pekko.stream.Materializer.createMaterializer(system), line -> {
        err.println("bench: " + line);
        err.flush();
      });
      spec.commandLine().getOut().println(result);
      return ConveyorCli.EXIT_OK;
    } finally {
      system.terminate();
    }
  }

  private Integer read() throws Exception {
    java.util.List<java.nio.file.Path> shards = new java.util.ArrayList<>();
    if (in != null) {
      for (java.net.URI u : inputs(in)) {
        if (!"file".equals(u.getScheme())) {
          throw new ConveyorCli.UsageException("bench read --in takes local shards (file://), which it serves from the"
              + " embedded S3 server; got " + u);
        }
        shards.add(java.nio.file.Path.of(u));
      }
    }
    return measure("conveyor-bench-read-", (dir, mat, notice) -> {
      var r = dev.conveyor.bench.ReadBench.run(shards, rounds, dir, mat, notice);
      return json ? Json.compact(r.json()) : r.text();
    });
  }

  static java.util.List<java.net.URI> inputs(String in) throws java.io.IOException {
    if (in.startsWith("file:") && java.nio.file.Files.isDirectory(java.nio.file.Path.of(java.net.URI.create(in)))) {
      try (var files = java.nio.file.Files.list(java.nio.file.Path.of(java.net.URI.create(in)))) {
        java.util.List<java.net.URI> l = files.filter(p -> p.toString().endsWith(".tar")).sorted().map(java.nio.file.Path::toUri).toList();
        if (l.isEmpty()) {
          throw new ConveyorCli.UsageException("no .tar shards in " + in);
        }
        return l;
      }
    }
    try {
      return dev.conveyor.streams.plan.ShardList.parse(in).shards();
    } catch (IllegalArgumentException e) {
      throw new ConveyorCli.UsageException("--in: " + e.getMessage());
    }
  }

  @CommandLine.Mixin
  CacheBenchFlags cache;

  @CommandLine.Mixin
  CatalogBenchFlags catalog;

  @Override
  public Integer call() throws Exception {
    if ("cache".equals(what)) {
      return cache.run(spec.commandLine().getOut(), spec.commandLine().getErr(), json);
    }
    if ("catalog".equals(what)) {
      return catalog.run(perShard, spec.commandLine().getOut(), spec.commandLine().getErr(), json);
    }
    if ("decode".equals(what)) {
      return decode();
    }
    if ("pipeline".equals(what) || "cluster".equals(what)) {
      if (rounds < 1 || batchSize < 1) {
        throw new ConveyorCli.UsageException("--rounds and --batch-size must be at least 1");
      }
      return "cluster".equals(what) ? cluster.run(in == null ? null : inputs(in), batchSize, rounds,
          spec.commandLine().getOut(), spec.commandLine().getErr(), json) : pipeline();
    }
    if ("ring-writer".equals(what)) {
      dev.conveyor.bench.HandoffBench.run(spec.commandLine().getOut(),
          dev.conveyor.workers.feeder.RingTrainer.Settings.defaultDir(), images, batchSize, 4);
      return ConveyorCli.EXIT_OK;
    }
    if ("read".equals(what)) {
      if (rounds < 1) {
        throw new ConveyorCli.UsageException("--rounds must be at least 1");
      }
      return read();
    }
    if (!"plan".equals(what)) {
      throw new ConveyorCli.UsageException("bench knows 'plan', 'decode', 'read', 'pipeline', 'cluster', 'cache', 'catalog'"
          + " and 'ring-writer', got \"" + what + "\"");
    }
    if (shards < 1 || perShard < 0 || world < 1 || rounds < 1) {
      throw new ConveyorCli.UsageException("--shards, --world and --rounds must be at least 1, --per-shard at least 0");
    }
    PrintWriter out = spec.commandLine().getOut();
    PlanBenchmark.Result r = PlanBenchmark.run(shards, perShard, world, rounds, 7);
    Recipe q = ShuffleQuality.uniformRecipe(200, 500, 7, new Recipe.Shuffle(true, 8, 1000));
    int[] counts = ShuffleQuality.counts(q);
    long[] ours = ShuffleQuality.conveyor(q, 0);
    long[] wds = ShuffleQuality.webDataset(counts, 1000, 7);
    ShuffleQuality a = ShuffleQuality.of(ours);
    ShuffleQuality b = ShuffleQuality.of(wds);
    double sa = ShuffleQuality.sameShardNeighbours(ours, counts);
    double sb = ShuffleQuality.sameShardNeighbours(wds, counts);
    if (json) {
      ObjectNode all = Json.object();
      all.set("plan", r.json());
      ObjectNode shuffle = all.putObject("shuffle").put("samples", ours.length);
      shuffle.set("conveyor", quality(a, sa));
      shuffle.set("webdataset_buffer_1000", quality(b, sb));
      out.println(Json.compact(all));
      return ConveyorCli.EXIT_OK;
    }
    out.printf(Locale.ROOT, "plan: %,d samples in %,d shards, world %d%n", r.samples(), r.shards(), r.world());
    out.printf(Locale.ROOT, "  seek to a random mid-epoch cursor: %.1f ms (median of %d; goal < 1 s)%n", r.seekSeconds() * 1e3, rounds);
    out.printf(Locale.ROOT, "  elastic seek (resume at another world size): %.1f ms%n", r.elasticSeekSeconds() * 1e3);
    out.printf(Locale.ROOT, "  heap held by recipe and plan: %.1f MB (goal < 200 MB)%n", r.heapMb());
    out.printf(Locale.ROOT, "shuffle quality over %,d samples in 200 shards (ids = original positions)%n", ours.length);
    out.printf(Locale.ROOT, "  %-44s %-18s %-12s %s%n", "", "mean |displacement|/N", "correlation", "same-shard neighbours");
    out.printf(Locale.ROOT, "  %-44s %-18.4f %-12.4f %.4f%n", "conveyor (8-shard windows, 1,000 buffer)", a.meanDisplacement(), a.correlation(), sa);
    out.printf(Locale.ROOT, "  %-44s %-18.4f %-12.4f %.4f%n", "webdataset (shard shuffle, 1,000 buffer)", b.meanDisplacement(), b.correlation(), sb);
    out.printf(Locale.ROOT, "  %-44s %-18s %-12s %.4f%n", "ideal (uniform shuffle)", "0.3333", "0.0000", 1.0 / counts.length);
    return ConveyorCli.EXIT_OK;
  }

  private static ObjectNode quality(ShuffleQuality q, double sameShardNeighbours) {
    return Json.object().put("mean_displacement", Json.fixed(q.meanDisplacement(), 4))
        .put("correlation", Json.fixed(q.correlation(), 4))
        .put("same_shard_neighbours", Json.fixed(sameShardNeighbours, 4));
  }
}
