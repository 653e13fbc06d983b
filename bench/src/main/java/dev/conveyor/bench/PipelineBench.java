package dev.conveyor.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.ConveyorSettings;
import dev.conveyor.config.JobSettings;
import dev.conveyor.config.StageSettings.HandOff;
import dev.conveyor.orchestrator.client.JobPlanner;
import dev.conveyor.orchestrator.client.JobRun;
import dev.conveyor.orchestrator.delivery.JobOutputs;
import dev.conveyor.orchestrator.delivery.JobSummary;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.decode.DecodeException;
import dev.conveyor.streams.decode.SampleDecoder;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.pipeline.DecoderStage;
import dev.conveyor.streams.pipeline.RankPipeline;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.ShardRecord;
import dev.conveyor.streams.sample.ShardSamples;
import dev.conveyor.streams.store.ShardStore;
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
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * {@code bench pipeline}: the whole path — shards read and parsed, samples decoded, batched and
 * handed to each rank's consumer — as {@code run} runs it (the job runtime on a cluster of one
 * in this JVM), against decoding the same samples alone with as many decoder threads, in the
 * same run: rounds interleaved (decode-only, pipeline, …), warm-up untimed, medians reported.
 * A pipeline round is one job over the shards, from its submission to its last batch taken.
 */
public final class PipelineBench {
  private PipelineBench() {}

  /** The figures of one kind of shard (images or video): samples per second of each path, and their ratio. */
  public record Result(String kind, int shards, long samples, int threads, double pipelinePerS, double decodeOnlyPerS,
                       double streamPerS, int rounds) {
    public double ratio() {
      return decodeOnlyPerS > 0 ? pipelinePerS / decodeOnlyPerS : 0;
    }

    /** The job runtime against the bare stream graph of the same work. */
    public double runtimeRatio() {
      return streamPerS > 0 ? pipelinePerS / streamPerS : 0;
    }

    ObjectNode json() {
      return Json.object().put("kind", kind).put("shards", shards).put("samples_per_round", samples).put("threads", threads)
          .put("pipeline_samples_per_s", Json.fixed(pipelinePerS, 1))
          .put("decode_only_samples_per_s", Json.fixed(decodeOnlyPerS, 1))
          .put("ratio", Json.fixed(ratio(), 3))
          .put("stream_graph_samples_per_s", Json.fixed(streamPerS, 1))
          .put("runtime_ratio", Json.fixed(runtimeRatio(), 3)).put("rounds", rounds);
    }

    String text() {
      return String.format(Locale.ROOT, "%-6s %d shard(s), %,d samples a round, %d decoder thread(s): pipeline %,.0f"
              + " samples/s, decode only %,.0f samples/s, ratio %.3f (goal >= 0.9); the bare stream graph %,.0f"
              + " samples/s, runtime ratio %.3f (medians of %d rounds)",
          kind, shards, samples, threads, pipelinePerS, decodeOnlyPerS, ratio(), streamPerS, runtimeRatio(), rounds);
    }
  }

  /** The results as one JSON object, or as lines of text. */
  public static String format(List<Result> results, boolean json) {
    if (json) {
      ObjectNode all = Json.object();
      results.forEach(r -> all.withArray("pipeline").add(r.json()));
      return Json.compact(all);
    }
    return results.stream().map(Result::text).collect(Collectors.joining(System.lineSeparator()));
  }

  /** How long a decode-only round lasts at least, and its warm-up. */
  private static final double ROUND_SECONDS = 3.0;

  /**
   * Measures {@code kind}'s {@code shards} ({@code file://}) on {@code node}, a cluster of one:
   * {@code rounds} jobs of {@code world} ranks, batches of {@code batchSize}, decoded with
   * {@code base}'s decode settings, each against a decode-only round with {@code threads} threads.
   */
  public static Result run(ActorSystem<?> node, String kind, List<URI> shards, int world, int batchSize, int threads,
                           int rounds, Config base, ShardStore store, Consumer<String> notice) throws Exception {
    Config job = ConfigFactory.parseString(String.format(Locale.ROOT,
            "conveyor.job { shards = \"%s\", world-size = %d, batch-size = %d, decode = auto, manifest = none }",
            pattern(shards), world, batchSize))
        .withFallback(base);
    ConveyorSettings settings = ConveyorSettings.fromConfig(job);
    List<RawSample> samples = load(store, shards.get(0), Materializer.createMaterializer(node));
    SampleDecoder decoder = new SampleDecoder(settings.decode());
    notice.accept(String.format(Locale.ROOT, "%s: warming up (decode only, then one job)", kind));
    decodeFor(decoder, samples, threads, ROUND_SECONDS);
    JobSummary first = pipeline(node, settings);
    Materializer mat = Materializer.createMaterializer(node);
    stream(store, settings, threads, mat);
    double[] p = new double[rounds];
    double[] d = new double[rounds];
    double[] g = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      d[r] = decodeFor(decoder, samples, threads, ROUND_SECONDS);
      p[r] = pipeline(node, settings).samplesPerSecond();
      g[r] = stream(store, settings, threads, mat);
      notice.accept(String.format(Locale.ROOT, "%s round %d/%d: pipeline %,.0f samples/s, decode only %,.0f samples/s,"
          + " bare stream graph %,.0f samples/s", kind, r + 1, rounds, p[r], d[r], g[r]));
    }
    return new Result(kind, shards.size(), first.samples(), threads, Measure.median(p), Measure.median(d),
        Measure.median(g), rounds);
  }

  /**
   * The same work as a bare stream graph, without the job runtime: rank 0's segment read,
   * decoded by a plain {@link DecoderStage} on {@code threads} threads and batched, the batches
   * counted as they come — what {@code run} ran in one process before the one runtime (samples
   * handed to the decoder threads one by one, as it did); samples/s from materialization to the
   * last batch.
   */
  private static double stream(ShardStore store, ConveyorSettings settings, int threads, Materializer mat)
      throws Exception {
    JobSettings job = settings.job();
    Recipe recipe = new JobPlanner(mat, line -> { }).plan(settings).recipe(); // the job's own recipe
    DataPlan plan = new DataPlan(recipe);
    try (DecoderStage decoder = new DecoderStage(settings.decode(), job.seed(), threads)) {
      RankPipeline.Settings s = new RankPipeline.Settings(job.readerParallelism(), Math.max(job.stageParallelism(),
          2 * threads), job.maxMemberBytes(), decoder::apply, job.readAheadBytes(), Map.of(), HandOff.oneByOne());
      long t0 = System.nanoTime();
      long samples = RankPipeline.events(store, plan, plan.rank(Cursor.start(recipe.fingerprint(), 1), 1, 0), s)
          .filter(e -> e instanceof RawBatch)
          .runWith(Sink.fold(0L, (n, e) -> n + ((RawBatch) e).samples().size()), mat)
          .toCompletableFuture().get(30, TimeUnit.MINUTES);
      return samples / ((System.nanoTime() - t0) / 1e9);
    }
  }

  private static JobSummary pipeline(ActorSystem<?> node, ConveyorSettings settings) throws Exception {
    return job(node, settings, Optional.empty());
  }

  /** One job with no record files, on the cluster {@code system} is part of ({@code seed}: as a client of it); no bad samples allowed. */
  static JobSummary job(ActorSystem<?> system, ConveyorSettings settings, Optional<String> seed) throws Exception {
    try (JobOutputs none = new JobOutputs(Optional.empty(), Optional.empty(), Optional.empty())) {
      JobSummary s = JobRun.run(system, settings, none, Optional.empty(), seed, line -> { });
      if (s.badSamples() > 0) {
        throw new IllegalStateException(s.badSamples() + " samples of the benchmark's shards were bad");
      }
      return s;
    }
  }

  /** Conveyor's whole path against the Python loader's loop on the same image shards, on as many cores as this process may use. */
  public record PeerResult(int cores, int shards, long samples, double conveyorPerS, double peerPerS, int rounds) {
    public double ratio() {
      return peerPerS > 0 ? conveyorPerS / peerPerS : 0;
    }

    public ObjectNode json() {
      return Json.object().put("cores", cores).put("shards", shards).put("samples_per_round", samples)
          .put("conveyor_images_per_s", Json.fixed(conveyorPerS, 1)).put("peer_images_per_s", Json.fixed(peerPerS, 1))
          .put("ratio", Json.fixed(ratio(), 3)).put("rounds", rounds);
    }

    public String text() {
      return String.format(Locale.ROOT, "peer   %d core(s), %d shard(s), %,d images a round, decoded to 256x256 RGB and"
              + " batched: conveyor %,.0f images/s, the Python loop (%d process(es)) %,.0f images/s, ratio %.3f (goal >= 2)"
              + " (medians of %d rounds)", cores, shards, samples, conveyorPerS, cores, peerPerS, ratio(), rounds);
    }
  }

  /**
   * {@code bench pipeline --peer}: the image shards through the job runtime (decoded to 256 x 256
   * RGB, the pictures' own size, as the peer decodes them, batched by {@code batchSize}) against
   * {@code peer} ({@code python/bench/peers.py batch}, the loop WebDataset runs, Debian's /usr/bin/python3) with one
   * process per core this process may use: under {@code taskset -c 0} both get one core (the
   * peer inherits the affinity). Rounds interleaved (peer, Conveyor, …) after untimed ones
   * (one of the peer's; Conveyor's until two in a row agree within 10%); Conveyor's from the
   * job's submission to its last batch taken, the peer's as it times itself (interpreter start
   * excluded from both).
   */
  public static PeerResult peer(ActorSystem<?> node, List<URI> shards, int batchSize, int threads, int rounds, Config base,
                                Path peer, Consumer<String> notice) throws Exception {
    int cores = Runtime.getRuntime().availableProcessors();
    Config job = ConfigFactory.parseString(String.format(Locale.ROOT,
            "conveyor.job { shards = \"%s\", world-size = 1, batch-size = %d, decode = auto, manifest = none }\n"
                + "conveyor.decode.image { short-side = 256, crop-height = 256, crop-width = 256 }",
            pattern(shards), batchSize))
        .withFallback(base);
    ConveyorSettings settings = ConveyorSettings.fromConfig(job);
    List<String> cmd = new ArrayList<>(List.of(PYTHON, peer.toString(), "batch", String.valueOf(cores)));
    shards.forEach(u -> cmd.add(Path.of(u).toString()));
    notice.accept(String.format(Locale.ROOT, "peer: %d core(s), %d decoder(s); warming up", cores, threads));
    peerRound(cmd);
    JobSummary first = warm(node, settings, notice);
    double[] c = new double[rounds];
    double[] p = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      p[r] = peerRound(cmd);
      c[r] = pipeline(node, settings).samplesPerSecond();
      notice.accept(String.format(Locale.ROOT, "peer round %d/%d: conveyor %,.0f images/s, the Python loop %,.0f images/s",
          r + 1, rounds, c[r], p[r]));
    }
    return new PeerResult(cores, shards.size(), first.samples(), Measure.median(c), Measure.median(p), rounds);
  }

  /** Untimed rounds before the first timed one, at most. */
  private static final int MAX_WARM_UP_ROUNDS = 6;

  /**
   * Untimed jobs until two in a row run within 10% of each other (at most
   * {@link #MAX_WARM_UP_ROUNDS}): on one core the JIT's compilations and the heap's growth take
   * several rounds (a JFR recording put over 8 s in compilations), and docs/benchmarks.md keeps warm-up out of a steady-state figure.
   */
  private static JobSummary warm(ActorSystem<?> node, ConveyorSettings settings, Consumer<String> notice)
      throws Exception {
    JobSummary last = pipeline(node, settings);
    for (int r = 1; r < MAX_WARM_UP_ROUNDS; r++) {
      JobSummary next = pipeline(node, settings);
      double change = Math.abs(next.samplesPerSecond() - last.samplesPerSecond()) / last.samplesPerSecond();
      notice.accept(String.format(Locale.ROOT, "warm-up round %d: %,.0f images/s", r + 1, next.samplesPerSecond()));
      last = next;
      if (change < 0.1) {
        break;
      }
    }
    return last;
  }

  /** Debian's interpreter, which has Pillow and numpy (another python3 may come first on the PATH). */
  static final String PYTHON = "/usr/bin/python3";

  /** One run of the peer: the samples per second it reports. */
  private static double peerRound(List<String> cmd) throws Exception {
    Process proc = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(proc.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
    if (!proc.waitFor(10, TimeUnit.MINUTES) || proc.exitValue() != 0) {
      throw new IllegalStateException("the peer failed (" + String.join(" ", cmd) + "): " + out);
    }
    String last = out.substring(out.lastIndexOf('\n') + 1);
    return Json.parse(last).path("samples_per_s").asDouble();
  }

  /** The shards, all in one folder, as one pattern {@code run} takes: {@code file:///dir/{a.tar,b.tar}}. */
  static String pattern(List<URI> shards) {
    if (shards.size() == 1) {
      return shards.get(0).toString();
    }
    URI dir = shards.get(0).resolve(".");
    for (URI u : shards) {
      if (!u.resolve(".").equals(dir)) {
        throw new IllegalArgumentException("bench pipeline takes shards in one folder; " + u + " is not in " + dir);
      }
    }
    return dir + shards.stream().map(u -> dir.relativize(u).toString()).collect(Collectors.joining(",", "{", "}"));
  }

  /** The samples of {@code shard}, in memory: what decode-only rounds cycle through. */
  static List<RawSample> load(ShardStore store, URI shard, Materializer mat) throws Exception {
    List<RawSample> out = new ArrayList<>();
    for (ShardRecord r : ShardSamples.read(store, shard, 1 << 28).runWith(Sink.seq(), mat)
        .toCompletableFuture().get(10, TimeUnit.MINUTES)) {
      if (r instanceof RawSample s) {
        out.add(s);
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(shard + " holds no samples");
    }
    return out;
  }

  /**
   * Samples decoded per second by {@code threads} threads taking the next sample from one
   * shared queue (as the decoder pool does), cycling through {@code samples} until
   * {@code seconds} have passed; every sample started is finished and counted.
   */
  private static double decodeFor(SampleDecoder d, List<RawSample> samples, int threads, double seconds)
      throws Exception {
    return Measure.itemsPerSecond(threads, seconds, n -> {
      RawSample s = samples.get((int) (n % samples.size()));
      try {
        d.decode(s, new SplittableRandom(s.key().hashCode()));
      } catch (DecodeException e) {
        throw new IllegalStateException("a benchmark sample failed to decode: " + e.getMessage(), e);
      }
    });
  }
}
