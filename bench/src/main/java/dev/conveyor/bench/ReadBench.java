package dev.conveyor.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.S3Settings;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.pipeline.ReadAhead;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.ShardSamples;
import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.streams.store.S3ShardStore;
import dev.conveyor.streams.store.ShardCheck;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.tools.s3.EmbeddedS3;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * {@code bench read}: Conveyor's shard reader as a rank uses it (ranged GETs, the next shards
 * fetched ahead within the default read-ahead budget, tar parse, WebDataset grouping; no
 * decode), shard after shard, from the embedded S3 server on 127.0.0.1, against, in the same run and on the same
 * bytes, a plain AWS SDK GET loop (the SDK's own CRT S3 client, one object after another, its
 * bytes counted and dropped) and {@code cat} of the same shards from local disk; and, from
 * local disk, Conveyor's tar parse + grouping against GNU {@code tar -xOf}. Per
 * docs/benchmarks.md: interleaved rounds of at least 3 s each, medians, page cache warm.
 */
public final class ReadBench {
  private static final double ROUND_SECONDS = 3.0;
  /** Generated when no input is given: about the reference corpus's size. */
  private static final int GEN_SHARDS = 6;
  private static final long GEN_SHARD_BYTES = 96L << 20;
  /** The default read-ahead budget of a job with one rank (conveyor.job.read-ahead). */
  private static final long READ_AHEAD = ConfigFactory.defaultReference().getBytes("conveyor.job.read-ahead");

  /** Medians of the rounds; rates in MB/s (10^6 bytes) and samples/s. */
  public record Result(int shards, long bytes, long samples, double conveyorMbps, double conveyorSamplesPerS,
                       double sdkMbps, double catMbps, double parseMbps, double tarMbps, int rounds) {
    double ratioVsSdk() {
      return conveyorMbps / sdkMbps;
    }

    double ratioVsCat() {
      return conveyorMbps / catMbps;
    }

    double ratioParseVsTar() {
      return tarMbps > 0 ? parseMbps / tarMbps : Double.NaN;
    }

    public ObjectNode json() {
      return Json.object().put("shards", shards).put("bytes", bytes).put("samples", samples).put("rounds", rounds)
          .put("conveyor_mb_per_s", Json.fixed(conveyorMbps, 1))
          .put("conveyor_samples_per_s", Json.fixed(conveyorSamplesPerS, 1))
          .put("sdk_mb_per_s", Json.fixed(sdkMbps, 1)).put("cat_mb_per_s", Json.fixed(catMbps, 1))
          .put("local_parse_mb_per_s", Json.fixed(parseMbps, 1))
          .put("gnu_tar_mb_per_s", Json.fixed(tarMbps, 1))
          .put("ratio_vs_sdk", Json.fixed(ratioVsSdk(), 3)).put("ratio_vs_cat", Json.fixed(ratioVsCat(), 3))
          .put("ratio_parse_vs_tar", Json.fixed(ratioParseVsTar(), 3));
    }

    public String text() {
      return String.format(Locale.ROOT, "read: %d shards, %.1f MB, %,d samples; median of %d interleaved rounds, page cache warm%n"
              + "  conveyor from the embedded S3:  %,.0f MB/s   %,.0f samples/s (ranged GETs + tar parse + grouping)%n"
              + "  plain SDK GET loop, same objects: %,.0f MB/s   ratio %.2f (goal >= 0.8)%n"
              + "  cat of the same shards:         %,.0f MB/s   ratio %.2f%n"
              + "  conveyor parse from local disk: %,.0f MB/s   GNU tar -xOf %,.0f MB/s   ratio %.2f (goal >= 0.5)",
          shards, bytes / 1e6, samples, rounds, conveyorMbps, conveyorSamplesPerS, sdkMbps, ratioVsSdk(), catMbps,
          ratioVsCat(), parseMbps, tarMbps, ratioParseVsTar());
    }
  }

  private ReadBench() {}

  /**
   * Measures over {@code shards} (local .tar files), or over shards generated under {@code dir}
   * when the list is empty. {@code dir} is the caller's, for the server's folder.
   */
  public static Result run(List<Path> shards, int rounds, Path dir, Materializer mat, Consumer<String> notice)
      throws Exception {
    List<Path> local = shards.isEmpty() ? generate(dir.resolve("gen"), notice) : shards;
    Path bucket = Files.createDirectories(dir.resolve("s3/bench"));
    List<URI> objects = new ArrayList<>();
    long total = 0;
    for (Path p : local) {
      Files.copy(p, bucket.resolve(p.getFileName()));
      objects.add(URI.create("s3://bench/" + p.getFileName()));
      total += Files.size(p);
    }
    notice.accept(String.format(Locale.ROOT, "%d shards, %.1f MB, served by the embedded S3 server", local.size(), total / 1e6));
    try (EmbeddedS3 server = EmbeddedS3.start(dir.resolve("s3"), 0);
         S3ShardStore store = new S3ShardStore(server.settings(S3Settings.fromConfig(ConfigFactory.defaultReference())));
         S3AsyncClient sdk = S3AsyncClient.crtBuilder()
             .region(Region.US_EAST_1)
             .forcePathStyle(true)
             .endpointOverride(server.endpoint())
             .credentialsProvider(StaticCredentialsProvider.create(
                 AwsBasicCredentials.create(EmbeddedS3.ACCESS_KEY_ID, EmbeddedS3.SECRET_ACCESS_KEY)))
             .build();
         FileShardStore files = new FileShardStore()) {
      Optional<String> tar = Measure.onPath("tar");
      List<URI> localUris = local.stream().map(Path::toUri).toList();
      Map<String, ShardCheck> sizes = new HashMap<>();
      for (int i = 0; i < local.size(); i++) {
        long size = Files.size(local.get(i));
        sizes.put(objects.get(i).toString(), new ShardCheck(size, ""));
        sizes.put(localUris.get(i).toString(), new ShardCheck(size, ""));
      }
      long samples = samplesIn(store, objects, mat);
      long localSamples = samplesIn(files, localUris, mat);
      if (localSamples != samples) {
        throw new IllegalStateException("the S3 read gave " + samples + " samples, the local read " + localSamples);
      }
      // warm-up, not timed: page cache, JIT, connections, heap — a round's length of each
      rate(objects.size(), i -> sdkBytes(sdk, List.of(objects.get(i))));
      rateAndSamples(objects, store, mat, total, sizes);
      rateAndSamples(localUris, files, mat, total, Map.of());
      double[] conveyor = new double[rounds];
      double[] conveyorSamples = new double[rounds];
      double[] plain = new double[rounds];
      double[] cat = new double[rounds];
      double[] parse = new double[rounds];
      double[] gnu = new double[rounds];
      long bytes = total;
      for (int r = 0; r < rounds; r++) {
        plain[r] = rate(objects.size(), i -> sdkBytes(sdk, List.of(objects.get(i))));
        double[] c = rateAndSamples(objects, store, mat, bytes, sizes);
        conveyor[r] = c[0];
        conveyorSamples[r] = c[1];
        cat[r] = rate(1, i -> command(List.of("cat"), local, bytes));
        parse[r] = rateAndSamples(localUris, files, mat, bytes, Map.of())[0]; // one thread, no read-ahead
        gnu[r] = tar.isEmpty() ? Double.NaN : rate(1, i -> command(List.of(tar.get(), "-xOf"), local, bytes));
        notice.accept(String.format(Locale.ROOT, "round %d/%d: conveyor %,.0f MB/s, SDK %,.0f MB/s, cat %,.0f MB/s;"
            + " local parse %,.0f MB/s, GNU tar %,.0f MB/s", r + 1, rounds, conveyor[r], plain[r], cat[r], parse[r], gnu[r]));
      }
      return new Result(local.size(), total, samples, Measure.median(conveyor), Measure.median(conveyorSamples), Measure.median(plain),
          Measure.median(cat), Measure.median(parse), tar.isEmpty() ? Double.NaN : Measure.median(gnu), rounds);
    }
  }

  private interface Step {
    /** Does step {@code i}; returns the bytes it moved. */
    long run(int i) throws Exception;
  }

  /** MB/s of {@code steps} steps done in a cycle until at least ROUND_SECONDS have passed. */
  private static double rate(int steps, Step step) throws Exception {
    long t0 = System.nanoTime();
    long bytes = 0;
    int i = 0;
    do {
      bytes += step.run(i++ % steps);
    } while (System.nanoTime() - t0 < ROUND_SECONDS * 1e9);
    return bytes / 1e6 / ((System.nanoTime() - t0) / 1e9);
  }

  /**
   * MB/s and samples/s of reading {@code shards} through Conveyor's reader, shard after shard,
   * for at least ROUND_SECONDS; each pass reads ahead as a rank does, knowing the shards' sizes
   * as a manifest would tell them.
   */
  private static double[] rateAndSamples(List<URI> shards, ShardStore store, Materializer mat, long bytesPerPass,
                                         Map<String, ShardCheck> sizes) throws Exception {
    long t0 = System.nanoTime();
    long bytes = 0;
    long samples = 0;
    do {
      try (ReadAhead ahead = new ReadAhead(store, shards, sizes, READ_AHEAD, mat)) {
        samples += samplesIn(ahead, shards, mat);
      }
      bytes += bytesPerPass;
    } while (System.nanoTime() - t0 < ROUND_SECONDS * 1e9);
    double s = (System.nanoTime() - t0) / 1e9;
    return new double[] {bytes / 1e6 / s, samples / s};
  }

  /** Samples in {@code shards}, read one after another; fails on any dead letter. */
  private static long samplesIn(ShardStore store, List<URI> shards, Materializer mat) throws Exception {
    long n = 0;
    for (URI u : shards) {
      n += ShardSamples.read(store, u, 1L << 30)
          .runWith(Sink.fold(0L, (acc, rec) -> {
            if (!(rec instanceof RawSample)) {
              throw new IllegalStateException("the bench shard " + u + " has a problem: " + rec);
            }
            return acc + 1;
          }), mat)
          .toCompletableFuture().get(10, TimeUnit.MINUTES);
    }
    return n;
  }

  /** Bytes of {@code objects} fetched by plain SDK GETs, one object after another. */
  private static long sdkBytes(S3AsyncClient sdk, List<URI> objects) throws Exception {
    LongAdder n = new LongAdder();
    for (URI u : objects) {
      String key = u.getPath().substring(1);
      sdk.getObject(b -> b.bucket(u.getHost()).key(key), AsyncResponseTransformer.toPublisher())
          .thenCompose(pub -> pub.subscribe(bb -> n.add(bb.remaining())))
          .get(10, TimeUnit.MINUTES);
    }
    return n.sum();
  }

  /** Runs {@code cmd} over the files, its output discarded; returns {@code bytes}. */
  private static long command(List<String> cmd, List<Path> files, long bytes) throws Exception {
    List<String> all = new ArrayList<>(cmd);
    files.forEach(f -> all.add(f.toString()));
    if (cmd.get(0).endsWith("tar")) { // tar takes one archive per call
      for (Path f : files) {
        run(List.of(cmd.get(0), cmd.get(1), f.toString()));
      }
      return bytes;
    }
    run(all);
    return bytes;
  }

  private static void run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException("failed: " + String.join(" ", cmd.subList(0, Math.min(3, cmd.size()))) + " …");
    }
  }

  /** Shards of random payloads (incompressible) with small JSON sidecars, WebDataset-style. */
  private static List<Path> generate(Path dir, Consumer<String> notice) throws IOException {
    Files.createDirectories(dir);
    notice.accept(String.format(Locale.ROOT, "generating %d shards of %d MiB (random payloads)", GEN_SHARDS, GEN_SHARD_BYTES >> 20));
    SplittableRandom rnd = new SplittableRandom(7);
    List<Path> out = new ArrayList<>();
    int key = 0;
    for (int s = 0; s < GEN_SHARDS; s++) {
      Path shard = dir.resolve(String.format(Locale.ROOT, "part-%06d.tar", s));
      try (OutputStream os = Files.newOutputStream(shard);
           TarArchiveOutputStream tar = new TarArchiveOutputStream(os)) {
        long written = 0;
        while (written < GEN_SHARD_BYTES) {
          byte[] payload = new byte[64 * 1024 + rnd.nextInt(128 * 1024)];
          rnd.nextBytes(payload);
          byte[] meta = Json.compact(Json.object().put("key", key)).getBytes(StandardCharsets.UTF_8);
          put(tar, String.format(Locale.ROOT, "%08d.bin", key), payload);
          put(tar, String.format(Locale.ROOT, "%08d.json", key), meta);
          written += payload.length + meta.length + 1024;
          key++;
        }
      }
      out.add(shard);
    }
    return out;
  }

  private static void put(TarArchiveOutputStream tar, String name, byte[] data) throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name);
    e.setSize(data.length);
    tar.putArchiveEntry(e);
    tar.write(data);
    tar.closeArchiveEntry();
  }
}
