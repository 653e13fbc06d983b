package dev.conveyor.cli;

import dev.conveyor.config.JobSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/** {@code conveyor run [JOB.conf] [flags]}: runs a job; flags override the job file. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
        "Runs a job: reads its shards, decodes them if asked, forms batches for each rank, hands them to",
        "a trainer thread per rank, and prints a summary. In this process (a cluster of one node), all",
        "ranks unless --rank is given; with --cluster, on a running cluster of `conveyor node`s.",
        "Flags override the job file, which overrides reference.conf. The last line printed is",
        "'cursor: TOKEN'. Exit codes: 0 done, 2 bad usage or configuration, 3 bad data over the bound."})
final class RunCommand implements Callable<Integer> {
  private static final String J = JobSettings.PATH + ".";

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", paramLabel = "JOB.conf", description = "A HOCON job file (see config/example-job.conf).")
  Path jobFile;

  @Option(names = "--shards", paramLabel = "PATTERN", description = "Shard URIs with brace expansion, s3:// or file:///.")
  String shards;

  @Option(names = "--manifest", paramLabel = "URI|auto|none", description = "The shards.json to check sample counts against.")
  String manifest;

  @Option(names = "--batch-size", paramLabel = "N", description = "Samples per batch per rank.")
  Integer batchSize;

  @Option(names = "--epochs", paramLabel = "N", description = "Passes over the data.")
  Integer epochs;

  @Option(names = "--seed", paramLabel = "S", description = "The recipe seed.")
  Long seed;

  @Option(names = "--world", paramLabel = "W", description = "Number of ranks.")
  Integer world;

  @Option(names = "--rank", paramLabel = "R", description = "Serve only this rank (default: all ranks in this process).")
  Integer rank;

  @Option(names = "--decode", paramLabel = "none|auto", description = "none: raw member bytes; auto: images and video to RGB tensors, text to strings.")
  String decode;

  @Option(names = "--on-bad-sample", paramLabel = "skip|fail", description = "skip: record bad samples and go on (within max-bad-fraction); fail: exit 3 at the first.")
  String onBadSample;

  @Option(names = "--max-steps", paramLabel = "N", description = "Stop each rank after N batches in this run (0: no limit).")
  Long maxSteps;

  @Option(names = "--checkpoint-dir", paramLabel = "DIR", description = "Save cursors here (every checkpoint-every batches and at the stop): a directory, file:// or s3://.")
  String checkpointDir;

  @Option(names = "--resume", paramLabel = "CURSOR|latest", description = "Continue from a cursor token, or the latest in --checkpoint-dir.")
  String resume;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Any setting, e.g. --set conveyor.s3.endpoint=http://127.0.0.1:9000")
  List<String> sets = new ArrayList<>();

  @Option(names = "--digest-out", paramLabel = "FILE", description = "One line per batch: epoch step rank sha256(batch) sha256(keys).")
  Path digestOut;

  @Option(names = "--keys-out", paramLabel = "FILE", description = "One line per sample: epoch rank step key.")
  Path keysOut;

  @Option(names = "--dead-letter", paramLabel = "FILE", description = "One line per skipped sample: shard key reason.")
  Path deadLetter;

  @Option(names = "--summary-json", paramLabel = "FILE", description = "The summary as one JSON object.")
  Path summaryJson;

  @Option(names = "--cluster", paramLabel = "HOST:PORT", description = "Run on a cluster of `conveyor node`s, joining it through this node.")
  String cluster;

  @Override
  public Integer call() throws Exception {
    Map<String, Object> flags = new LinkedHashMap<>();
    flags.put(J + "shards", shards);
    flags.put(J + "manifest", manifest);
    flags.put(J + "batch-size", batchSize);
    flags.put(J + "epochs", epochs);
    flags.put(J + "seed", seed);
    flags.put(J + "world-size", world);
    flags.put(J + "rank", rank);
    flags.put(J + "decode", decode);
    flags.put(J + "on-bad-sample", onBadSample);
    flags.put(J + "max-steps", maxSteps);
    flags.put(J + "checkpoint-dir", checkpointDir);
    var config = new ConfigOverlay(Optional.ofNullable(jobFile)).set(sets).flags(flags).config();

    if (cluster != null) {
      if (rank != null) {
        throw new ConveyorCli.UsageException("--rank cannot be used with --cluster: the cluster serves every rank");
      }
      if (!cluster.matches("[^:/]+:\\d+")) {
        throw new ConveyorCli.UsageException("--cluster takes HOST:PORT of a running node, got \"" + cluster + "\"");
      }
    }
    JobLauncher.launch(config, recordFiles(), Optional.ofNullable(resume), Optional.ofNullable(cluster),
        spec.commandLine().getOut(), spec.commandLine().getErr(), "run");
    return ConveyorCli.EXIT_OK;
  }

  private JobLauncher.RecordFiles recordFiles() {
    return new JobLauncher.RecordFiles(Optional.ofNullable(digestOut), Optional.ofNullable(keysOut),
        Optional.ofNullable(deadLetter), Optional.ofNullable(summaryJson));
  }
}
