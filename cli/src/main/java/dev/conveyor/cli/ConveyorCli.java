package dev.conveyor.cli;

import dev.conveyor.config.SettingsException;
import dev.conveyor.orchestrator.delivery.BadSampleException;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine;

/**
 * The {@code conveyor} command. Exit codes: 0 success, 2 bad usage or configuration (the
 * message names the key), 3 bad data over the job's bound, 1 anything else. Errors are one
 * line on stderr; {@code --verbose} adds the stack trace.
 */
@Command(
    name = "conveyor",
    mixinStandardHelpOptions = true,
    versionProvider = ConveyorCli.Version.class,
    description = "A distributed training-data loader: tar shards from S3 to batches, deterministically.",
    subcommands = {DemoCommand.class, DatagenCommand.class, IndexCommand.class, RunCommand.class, ServeS3Command.class, BenchCommand.class,
        NodeCommand.class, FeedCommand.class, SimCommand.class, CertsCommand.class, PackCommand.class, ReportCommand.class,
        ExplainCommand.class, RecipeCommand.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:any other failure", "2:bad usage or configuration", "3:bad data over the job's bound"})
public final class ConveyorCli implements Runnable {
  public static final int EXIT_OK = 0;
  public static final int EXIT_FAILURE = 1;
  public static final int EXIT_USAGE = 2;
  public static final int EXIT_DATA = 3;

  @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces with errors.")
  boolean verbose;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    // logging set up before any thread logs: a first log call from two threads at once made
    // SLF4J print a three-line "replayed" warning on runs that decode
    org.slf4j.LoggerFactory.getILoggerFactory();
    System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
  }

  /** Runs the CLI with the given streams and returns the exit code (for tests and {@link #main}). */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    ConveyorCli root = new ConveyorCli();
    CommandLine cmd = new CommandLine(root);
    cmd.setOut(out);
    cmd.setErr(err);
    cmd.setExecutionExceptionHandler((ex, line, parsed) -> {
      err.println("conveyor " + line.getCommandName() + ": " + message(ex));
      if (root.verbose) {
        ex.printStackTrace(err);
      }
      err.flush();
      return exitCode(ex);
    });
    int code;
    try {
      code = cmd.execute(args);
    } catch (Error e) {
      // Errors (a broken class path, no memory) bypass picocli's handler: still one line, still exit 1
      err.println("conveyor: " + e);
      if (root.verbose) {
        e.printStackTrace(err);
      }
      code = EXIT_FAILURE;
    }
    out.flush();
    err.flush();
    return code;
  }

  static int exitCode(Throwable ex) {
    if (ex instanceof SettingsException || ex instanceof UsageException) {
      return EXIT_USAGE;
    }
    if (ex instanceof BadSampleException) {
      return EXIT_DATA;
    }
    return EXIT_FAILURE;
  }

  static String message(Throwable ex) {
    if (ex instanceof SettingsException s) {
      return "configuration error: " + s.getMessage();
    }
    String m = ex.getMessage();
    return m == null || m.isBlank() ? ex.getClass().getSimpleName() + " (run with --verbose for details)" : m.lines().findFirst().orElse(m);
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Bad command-line usage that picocli cannot see (values that parse but do not make sense). */
  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = ConveyorCli.class.getPackage().getImplementationVersion();
      return new String[] {"conveyor " + (v == null ? "(development build)" : v)};
    }
  }
}
