package dev.conveyor.cli;

import dev.conveyor.config.S3Settings;
import dev.conveyor.tools.pack.PackInput;
import dev.conveyor.tools.pack.PackPlan;
import dev.conveyor.tools.pack.Packer;
import dev.conveyor.streams.store.S3ShardStore;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.streams.store.ShardStores;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code conveyor pack}: packs a folder of files (or a JSONL list of samples) into WebDataset shards. */
@Command(
    name = "pack",
    mixinStandardHelpOptions = true,
    description = {
        "Packs your files into WebDataset shards under --out: part-000000.tar, ... each with its per-sample",
        "byte index (part-000000.tar.idx.json), shards.json (sizes, sample counts, sha256) and catalog.parquet",
        "(a row per sample: its place, members and json fields, for recipes' where).",
        "--in DIR: every file under DIR, grouped into samples by the WebDataset rule (a/b/0001.jpg and",
        "a/b/0001.cls are sample a/b/0001), sorted by key. --in FILE.jsonl: one sample per line,",
        "{\"key\": \"a/b/0001\", \"jpg\": \"img/0001.jpg\", \"cls\": \"labels/0001.cls\"}, paths relative to the file.",
        "Every shard is read back and checked before it is listed. A rerun skips the shards finished",
        "before (after a kill, say) and ends with the same bytes. What cannot be packed (unreadable files,",
        "duplicate keys, names without an extension) is listed on stderr, its sample left out: exit code 3."})
final class PackCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--in", required = true, paramLabel = "DIR|FILE.jsonl", description = "A folder of files, or a JSONL file listing samples.")
  Path in;

  @Option(names = "--out", required = true, paramLabel = "URI", description = "s3://bucket/prefix or file:///dir")
  String out;

  @Option(names = "--shard-size", paramLabel = "SIZE", defaultValue = "64MB", converter = ByteSize.class, description = "Target shard size, e.g. 64MB, 1GiB (default: ${DEFAULT-VALUE}); a larger sample gets a shard of its own.")
  long shardSize;

  @CommandLine.Mixin
  S3Options s3Options;

  @CommandLine.Mixin
  ProgressOptions progress = new ProgressOptions();

  @Override
  public Integer call() throws Exception {
    URI base = DatagenCommand.folderUri("--out", out);
    long shardBytes = shardSize;
    if (shardBytes < 1) {
      throw new ConveyorCli.UsageException("--shard-size must be above 0, got " + shardSize);
    }
    if (!Files.exists(in)) {
      throw new ConveyorCli.UsageException("--in " + in + " does not exist");
    }
    PrintWriter err = spec.commandLine().getErr();
    Consumer<String> notice = progress.notices("pack", err);
    PackInput input;
    try {
      input = PackInput.read(in);
    } catch (IllegalArgumentException e) {
      throw new ConveyorCli.UsageException("--in: " + e.getMessage());
    }
    input.problems().forEach(p -> {
      err.println("pack: " + p.line()); // even with --quiet: what was left out is the result's part
      err.flush();
    });
    if (input.samples().isEmpty()) {
      throw new ConveyorCli.UsageException("--in " + in + " holds no sample to pack" + (input.problems().isEmpty() ? ""
          : " (" + input.problems().size() + " problem(s) above)"));
    }
    PackPlan plan = PackPlan.of(input.samples(), shardBytes);
    S3Settings s3 = s3Options.settings();
    Packer.Result r;
    try (LocalStreams streams = new LocalStreams("conveyor-pack");
         Scratch scratch = Scratch.create("conveyor-pack-");
         ShardStore store = ShardStores.forUri(base, s3);
         ProgressMeter meter = progress.meter("pack", plan.samples(), "samples", err)) {
      if (store instanceof S3ShardStore s) {
        s.ensureBucket(base.getHost()).toCompletableFuture().join();
      }
      r = new Packer(store, scratch.dir, streams.mat).pack(plan, base, notice, meter::stepTo);
    }
    spec.commandLine().getOut().printf(Locale.ROOT, "pack: %,d samples in %d shards (%d written, %d kept from an earlier"
            + " run), %.1f MB, written to %s%s%n", r.manifest().samples(), r.manifest().shards().size(), r.written(),
        r.skipped(), r.manifest().bytes() / 1e6, base,
        input.problems().isEmpty() ? "" : "; " + input.problems().size() + " problem(s), listed above: their samples left out");
    return input.problems().isEmpty() ? ConveyorCli.EXIT_OK : ConveyorCli.EXIT_DATA;
  }
}
