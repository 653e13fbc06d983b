package dev.conveyor.cli;

import dev.conveyor.config.S3Settings;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.streams.store.ShardStores;
import dev.conveyor.tools.index.DatasetIndexer;
import java.io.PrintWriter;
import java.net.URI;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code conveyor index}: writes the per-sample byte index of every shard of a dataset beside it. */
@Command(
    name = "index",
    mixinStandardHelpOptions = true,
    description = {
        "Writes NAME.idx.json beside every shard under --in: where each sample's bytes lie, and their CRC32C.",
        "With it a rank reads only the samples of a shard its part of the plan needs, so a shard split",
        "between ranks is read once per epoch. Updates shards.json (writes one, counting samples, if there is none),",
        "and writes catalog.parquet: a row per sample (its place, members and json fields) for recipes' where.",
        "conveyor datagen writes indexes itself."})
final class IndexCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--in", required = true, paramLabel = "URI", description = "The dataset's folder: s3://bucket/prefix or file:///dir")
  String in;

  @Option(names = "--max-member-size", paramLabel = "SIZE", defaultValue = "1GiB", converter = ByteSize.class,
      description = "A larger member leaves its shard unindexed (default: ${DEFAULT-VALUE}).")
  long maxMember;

  @CommandLine.Mixin
  S3Options s3Options;

  @CommandLine.Mixin
  ProgressOptions progress = new ProgressOptions();

  @Override
  public Integer call() throws Exception {
    URI base = DatagenCommand.folderUri("--in", in);
    long maxMemberBytes = maxMember;
    S3Settings s3 = s3Options.settings();
    PrintWriter err = spec.commandLine().getErr();
    try (LocalStreams streams = new LocalStreams("conveyor-index");
         Scratch scratch = Scratch.create("conveyor-index-");
         ShardStore store = ShardStores.forUri(base, s3)) {
      DatasetIndexer indexer = new DatasetIndexer(store, scratch.dir, streams.mat, maxMemberBytes);
      DatasetIndexer.Result r;
      try (ProgressMeter bar = progress.meter("index", 0, "shards", err)) {
        r = indexer.index(base, progress.notices("index", err), (done, total) -> {
          bar.total(total);
          bar.stepTo(done);
        });
      }
      r.notIndexed().forEach(w -> err.println("index: not indexed (read whole): " + w));
      long indexed = r.manifest().shards().stream().filter(s -> s.indexed()).count();
      spec.commandLine().getOut().printf(Locale.ROOT, "index: %d of %d shards indexed (%d samples, %.1f MB) under %s%n",
          indexed, r.manifest().shards().size(), r.manifest().samples(), r.manifest().bytes() / 1e6, base);
      return ConveyorCli.EXIT_OK;
    } catch (IllegalArgumentException e) {
      throw new ConveyorCli.UsageException(e.getMessage());
    }
  }
}
