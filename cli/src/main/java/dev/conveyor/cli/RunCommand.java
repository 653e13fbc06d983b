package dev.conveyor.cli;

import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
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
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin
  JobFlags job = new JobFlags();

  @Option(names = "--rank", paramLabel = "R", description = "Serve only this rank (default: all ranks in this process).")
  Integer rank;

  @Option(names = "--cluster", paramLabel = "HOST:PORT", description = "Run on a cluster of `conveyor node`s, joining it through this node.")
  String cluster;

  @Override
  public Integer call() throws Exception {
    var config = job.config(rank);
    if (cluster != null) {
      if (rank != null) {
        throw new ConveyorCli.UsageException("--rank cannot be used with --cluster: the cluster serves every rank");
      }
      if (!cluster.matches("[^:/]+:\\d+")) {
        throw new ConveyorCli.UsageException("--cluster takes HOST:PORT of a running node, got \"" + cluster + "\"");
      }
    }
    JobLauncher.launch(config, job.recordFiles(), job.resume(), Optional.ofNullable(cluster),
        spec.commandLine().getOut(), spec.commandLine().getErr(), "run", job.progress);
    return ConveyorCli.EXIT_OK;
  }
}
