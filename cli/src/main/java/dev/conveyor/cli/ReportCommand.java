package dev.conveyor.cli;

import dev.conveyor.cli.report.RunReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code conveyor report DIR}: draws the report of a run recorded with {@code run --report DIR}. */
@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    description = {
        "Draws the report of a run recorded with `run --report DIR`: DIR/report.html with PNG charts of",
        "throughput over time, the trainers' stall, S3 request latency, bad samples by reason and each",
        "rank's progress. `run --report` draws it at the end already; this draws it again (say, of a run",
        "that was killed: its recording is flushed line by line)."})
final class ReportCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DIR", description = "The folder a run recorded into (run --report DIR).")
  Path dir;

  @Override
  public Integer call() throws Exception {
    if (!Files.isDirectory(dir)) {
      throw new ConveyorCli.UsageException(dir + " is not a folder: give the DIR of `run --report DIR`");
    }
    try {
      Path page = RunReport.render(dir);
      spec.commandLine().getOut().println("report: " + page.toAbsolutePath());
    } catch (java.io.IOException e) {
      throw new ConveyorCli.UsageException(e.getMessage());
    }
    return ConveyorCli.EXIT_OK;
  }
}
