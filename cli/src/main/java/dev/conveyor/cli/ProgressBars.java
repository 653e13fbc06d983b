package dev.conveyor.cli;

import java.io.PrintWriter;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** The progress bar of long commands (datagen, index), drawn on a PrintWriter (stderr). */
final class ProgressBars {
  private ProgressBars() {}

  static ProgressBar create(String task, long max, String unit, PrintWriter to) {
    return new ProgressBarBuilder()
        .setTaskName(task)
        .setInitialMax(max)
        .setStyle(ProgressBarStyle.ASCII)
        .setUnit(unit, 1)
        .setUpdateIntervalMillis(250)
        .setConsumer(new ConsoleProgressBarConsumer(new java.io.PrintStream(new WriterOutputStream(to), true)))
        .build();
  }

  /** Sends a PrintStream's bytes to a PrintWriter (the progress bar writes to streams). */
  private static final class WriterOutputStream extends java.io.OutputStream {
    private final PrintWriter w;

    WriterOutputStream(PrintWriter w) {
      this.w = w;
    }

    @Override
    public void write(int b) {
      w.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      w.write(new String(b, off, len, java.nio.charset.StandardCharsets.UTF_8));
    }

    @Override
    public void flush() {
      w.flush();
    }
  }
}
