package dev.conveyor.cli;

import dev.conveyor.tools.s3.EmbeddedS3;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

/** One in-process run of the CLI: its exit code and what it printed. */
public record CliResult(int code, String out, String err) {

  public static CliResult run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = ConveyorCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new CliResult(code, out.toString(), err.toString());
  }

  /** Runs {@code command} against {@code s3} (its endpoint and credentials set) with {@code more} arguments. */
  public static CliResult runAgainst(EmbeddedS3 s3, String command, List<String> more) {
    List<String> args = new ArrayList<>(List.of(command,
        "--set", "conveyor.s3.endpoint=" + s3.endpoint(),
        "--set", "conveyor.s3.access-key-id=" + EmbeddedS3.ACCESS_KEY_ID,
        "--set", "conveyor.s3.secret-access-key=" + EmbeddedS3.SECRET_ACCESS_KEY));
    args.addAll(more);
    return run(args.toArray(String[]::new));
  }

  List<String> outLines() {
    return out.lines().toList();
  }

  String lastLine() {
    List<String> l = outLines();
    return l.isEmpty() ? "" : l.get(l.size() - 1);
  }
}
