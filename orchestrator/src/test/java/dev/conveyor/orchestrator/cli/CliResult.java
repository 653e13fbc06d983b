package dev.conveyor.orchestrator.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

/** One in-process run of the CLI: its exit code and what it printed. */
record CliResult(int code, String out, String err) {

  static CliResult run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = ConveyorCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new CliResult(code, out.toString(), err.toString());
  }

  List<String> outLines() {
    return out.lines().toList();
  }

  String lastLine() {
    List<String> l = outLines();
    return l.isEmpty() ? "" : l.get(l.size() - 1);
  }
}
