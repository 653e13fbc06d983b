package dev.conveyor.cli;

import com.typesafe.config.Config;
import dev.conveyor.config.S3Settings;
import dev.conveyor.tools.s3.EmbeddedS3;
import dev.conveyor.tools.datagen.DatasetSpec;
import dev.conveyor.streams.manifest.Manifest;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code conveyor demo}: the main job with nothing to set up. Starts the embedded S3 server on
 * a temporary folder, generates a small dataset into it, runs one epoch for two ranks over
 * S3 and prints the summary. Everything it made is deleted when it ends.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
        "Runs the main job with nothing to set up, and prints its summary.",
        "Starts an embedded S3 server on a temporary folder, generates a dataset into it (200 JPEGs and",
        "20 H.264 clips by default), reads and decodes one epoch for 2 ranks over S3, and deletes everything after."})
final class DemoCommand implements Callable<Integer> {
  static final String BUCKET = "demo";
  static final String PREFIX = "train";

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--images", paramLabel = "N", defaultValue = "200", description = "JPEG samples (default: ${DEFAULT-VALUE}).")
  int images;

  @Option(names = "--videos", paramLabel = "N", defaultValue = "20", description = "MP4 samples (default: ${DEFAULT-VALUE}).")
  int videos;

  @Option(names = "--world", paramLabel = "W", defaultValue = "2", description = "Ranks (default: ${DEFAULT-VALUE}).")
  int world;

  @Option(names = "--batch-size", paramLabel = "N", defaultValue = "16", description = "Samples per batch (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--shard-size", paramLabel = "SIZE", defaultValue = "1MB", converter = ByteSize.class, description = "Target shard size (default: ${DEFAULT-VALUE}).")
  long shardSize;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of data and recipe (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--decode", paramLabel = "none|auto", defaultValue = "auto",
      description = "Decode images and clips to RGB tensors, or deliver raw bytes (default: ${DEFAULT-VALUE}).")
  String decode;

  @Option(names = "--keep", paramLabel = "DIR", description = "Keep the generated dataset in DIR instead of deleting it.")
  Path keep;

  @CommandLine.Mixin
  ProgressOptions progress = new ProgressOptions();

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Path root = keep != null ? Files.createDirectories(keep) : Files.createTempDirectory("conveyor-demo-");
    try (EmbeddedS3 s3 = EmbeddedS3.start(root.resolve("s3"), 0)) {
      out.println("demo: embedded S3 at " + s3.endpoint() + " serving " + s3.dir());
      out.flush();
      S3Settings base = S3Settings.fromConfig(new ConfigOverlay(Optional.empty()).config());
      S3Settings local = s3.settings(base);
      URI data = URI.create("s3://" + BUCKET + "/" + PREFIX);
      DatasetSpec ds = new DatasetSpec(images, videos, shardSize, seed);
      long t0 = System.nanoTime();
      Manifest m;
      try (ProgressMeter bar = progress.meter("datagen", ds.samples(), "samples", spec.commandLine().getErr())) {
        m = DatagenCommand.generate(data, ds, local, Runtime.getRuntime().availableProcessors(), bar);
      }
      out.printf(Locale.ROOT, "demo: generated %d samples in %d shards (%.1f MB) in %.1f s%n",
          m.samples(), m.shards().size(), m.bytes() / 1e6, (System.nanoTime() - t0) / 1e9);
      String shards = String.format(Locale.ROOT, "%s/part-{000000..%06d}.tar", data, m.shards().size() - 1);
      Config config = new ConfigOverlay(Optional.empty())
          .set(List.of())
          .flag("conveyor.s3.endpoint", s3.endpoint().toString())
          .flag("conveyor.s3.access-key-id", EmbeddedS3.ACCESS_KEY_ID)
          .flag("conveyor.s3.secret-access-key", EmbeddedS3.SECRET_ACCESS_KEY)
          .flag("conveyor.job.shards", shards)
          .flag("conveyor.job.world-size", world)
          .flag("conveyor.job.batch-size", batchSize)
          .flag("conveyor.job.seed", seed)
          .flag("conveyor.job.decode", decode)
          .config();
      out.println("demo: reading " + shards + " for " + world + " ranks, batch size " + batchSize
          + ("auto".equals(decode) ? ", decoding to RGB tensors" : ", raw bytes"));
      JobLauncher.launch(config, new JobLauncher.RecordFiles(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty()),
          Optional.empty(), Optional.empty(), out, spec.commandLine().getErr(), "demo", progress);
    } finally {
      if (keep == null) {
        Scratch.deleteTree(root);
      }
    }
    return ConveyorCli.EXIT_OK;
  }
}
