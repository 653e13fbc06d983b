package dev.conveyor.cli;

import dev.conveyor.config.S3Settings;
import dev.conveyor.streams.store.S3ShardStore;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.streams.store.ShardStores;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import dev.conveyor.streams.manifest.Manifest;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** {@code conveyor datagen}: writes a synthetic WebDataset of JPEGs and H.264 clips with captions. */
@Command(
    name = "datagen",
    mixinStandardHelpOptions = true,
    description = {
        "Writes a synthetic WebDataset: shards part-000000.tar, ..., shards.json and catalog.parquet under --out.",
        "Each sample is KEY.jpg or KEY.mp4 (H.264) plus KEY.json (caption, label, width, height, frames).",
        "The same seed gives the same bytes."})
final class DatagenCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--out", required = true, paramLabel = "URI", description = "s3://bucket/prefix or file:///dir")
  String out;

  @Option(names = "--images", paramLabel = "N", defaultValue = "200", description = "JPEG samples (default: ${DEFAULT-VALUE}).")
  int images;

  @Option(names = "--videos", paramLabel = "N", defaultValue = "20", description = "MP4 samples (default: ${DEFAULT-VALUE}).")
  int videos;

  @Option(names = "--shard-size", paramLabel = "SIZE", defaultValue = "64MB", converter = ByteSize.class, description = "Target shard size, e.g. 64MB, 1GiB (default: ${DEFAULT-VALUE}).")
  long shardSize;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Same seed, same bytes (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--threads", paramLabel = "N", description = "Encoder threads (default: available processors).")
  Integer threads;

  @CommandLine.Mixin
  S3Options s3Options;

  @CommandLine.Mixin
  ProgressOptions progress = new ProgressOptions();

  @Override
  public Integer call() throws Exception {
    URI base = folderUri("--out", out);
    DatasetSpec ds;
    try {
      ds = new DatasetSpec(images, videos, shardSize, seed);
    } catch (IllegalArgumentException e) {
      throw new ConveyorCli.UsageException(e.getMessage());
    }
    S3Settings s3 = s3Options.settings();
    int n = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
    Manifest m;
    try (ProgressMeter meter = progress.meter("datagen", ds.samples(), "samples", spec.commandLine().getErr())) {
      m = generate(base, ds, s3, n, meter);
    }
    spec.commandLine().getOut().printf(Locale.ROOT, "datagen: %d samples in %d shards, %.1f MB, written to %s%n",
        m.samples(), m.shards().size(), m.bytes() / 1e6, base);
    return ConveyorCli.EXIT_OK;
  }

  /** Generates {@code ds} under {@code base}, its progress on {@code bar}. */
  static Manifest generate(URI base, DatasetSpec ds, S3Settings s3, int threads, ProgressMeter bar) throws Exception {
    try (Scratch scratch = Scratch.create("conveyor-datagen-");
         ShardStore store = ShardStores.forUri(base, s3)) {
      if (store instanceof S3ShardStore s) {
        s.ensureBucket(base.getHost()).toCompletableFuture().join();
      }
      return new DatasetGenerator(store, scratch.dir, threads).generate(ds, base, bar::stepTo);
    }
  }

  /** The value of {@code option}, a dataset's folder. */
  static URI folderUri(String option, String out) {
    try {
      URI uri = new URI(out);
      if ("s3".equals(uri.getScheme()) && uri.getHost() != null) {
        return uri;
      }
      if ("file".equals(uri.getScheme()) && uri.getAuthority() == null && uri.getPath() != null && uri.getPath().startsWith("/")) {
        return uri;
      }
    } catch (URISyntaxException e) {
      // fall through to the usage error
    }
    throw new ConveyorCli.UsageException(option + " must be s3://bucket/prefix or file:///absolute/dir, got \"" + out + "\"");
  }
}
