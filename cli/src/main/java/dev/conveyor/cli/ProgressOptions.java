package dev.conveyor.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.Consumer;
import picocli.CommandLine.Option;

/**
 * {@code --quiet} and {@code --progress}, shared by the long commands (run, datagen, index,
 * pack): a bar only when stdout is a terminal, so that logs get no carriage returns; one JSON line
 * a second for machines; nothing with {@code --quiet}. Progress and notices go to stderr, so
 * stdout keeps only the result.
 */
final class ProgressOptions {
  /** How progress is shown. */
  enum Mode { AUTO, BAR, JSON, NONE }

  @Option(names = "--quiet", description = "No progress and no notices on stderr: only errors and the result.")
  boolean quiet;

  @Option(names = "--progress", paramLabel = "auto|bar|json|none", defaultValue = "auto",
      description = "auto (default): a bar when stdout is a terminal, else none; json: one JSON line a second on stderr.")
  String progress;

  /** The mode asked for, {@code auto} resolved. */
  Mode mode() {
    if (quiet) {
      return Mode.NONE;
    }
    Mode m;
    try {
      m = Mode.valueOf(progress.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ConveyorCli.UsageException("--progress takes auto, bar, json or none, got \"" + progress + "\"");
    }
    if (m == Mode.AUTO) {
      return System.console() != null ? Mode.BAR : Mode.NONE;
    }
    return m;
  }

  /** A meter of {@code task}'s progress towards {@code total} {@code unit} (total ≤ 0: not known yet). */
  ProgressMeter meter(String task, long total, String unit, PrintWriter err) {
    return switch (mode()) {
      case BAR -> ProgressMeter.bar(task, total, unit, err);
      case JSON -> ProgressMeter.json(task, total, unit, err);
      default -> ProgressMeter.NONE;
    };
  }

  /** Where a command's notices go: {@code err} prefixed with {@code title}, or nowhere with --quiet. */
  Consumer<String> notices(String title, PrintWriter err) {
    if (quiet) {
      return line -> { };
    }
    return line -> {
      err.println(title + ": " + line);
      err.flush();
    };
  }
}
