package dev.conveyor.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.streams.json.Json;
import java.io.PrintWriter;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import me.tongfei.progressbar.ProgressBar;

/** A long command's progress, shown as {@link ProgressOptions} says. Thread-safe; closing ends it. */
interface ProgressMeter extends AutoCloseable {
  /** Shows nothing. */
  ProgressMeter NONE = new ProgressMeter() {
    @Override
    public void stepTo(long done) {}

    @Override
    public void total(long total) {}

    @Override
    public void close() {}
  };

  /** {@code done} units so far. */
  void stepTo(long done);

  /** The total, once known. */
  void total(long total);

  @Override
  void close();

  /** A bar redrawn on {@code err} four times a second. */
  static ProgressMeter bar(String task, long total, String unit, PrintWriter err) {
    ProgressBar bar = ProgressBars.create(task, total > 0 ? total : -1, " " + unit, err);
    return new ProgressMeter() {
      @Override
      public void stepTo(long done) {
        bar.stepTo(done);
      }

      @Override
      public void total(long total) {
        bar.maxHint(total);
      }

      @Override
      public void close() {
        bar.close();
      }
    };
  }

  /**
   * One JSON object a second on {@code err}, and one at the end ({@code "finished": true}):
   * {@code {"task", "done", "total", "unit", "elapsed_s", "rate_per_s", "eta_s"}} ({@code total}
   * and {@code eta_s} only when the total is known).
   */
  static ProgressMeter json(String task, long total, String unit, PrintWriter err) {
    return new JsonMeter(task, total, unit, err);
  }

  /** The JSON meter: its lines come from a timer thread of its own. */
  final class JsonMeter implements ProgressMeter {
    private final String task;
    private final String unit;
    private final PrintWriter err;
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong total;
    private final long t0 = System.nanoTime();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "conveyor-progress");
      t.setDaemon(true);
      return t;
    });

    JsonMeter(String task, long total, String unit, PrintWriter err) {
      this.task = task;
      this.unit = unit;
      this.err = err;
      this.total = new AtomicLong(total);
      timer.scheduleAtFixedRate(() -> line(false), 1, 1, TimeUnit.SECONDS);
    }

    @Override
    public void stepTo(long n) {
      done.set(n);
    }

    @Override
    public void total(long n) {
      total.set(n);
    }

    @Override
    public void close() {
      timer.shutdownNow();
      line(true);
    }

    private void line(boolean finished) {
      double s = (System.nanoTime() - t0) / 1e9;
      long d = done.get();
      long t = total.get();
      double rate = s > 0 ? d / s : 0;
      ObjectNode j = Json.object().put("task", task).put("done", d);
      if (t > 0) {
        j.put("total", t);
      }
      j.put("unit", unit).put("elapsed_s", Json.fixed(s, 1)).put("rate_per_s", Json.fixed(rate, 1));
      if (t > 0 && rate > 0 && !finished) {
        j.put("eta_s", Json.fixed(Math.max(0, t - d) / rate, 1));
      }
      if (finished) {
        j.put("finished", true);
      }
      synchronized (err) {
        err.println(Json.compact(j));
        err.flush();
      }
    }
  }
}
