package dev.conveyor.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/** What the benchmarks share: medians of rounds, and finding a baseline tool on the PATH. */
final class Measure {
  private Measure() {}

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  /** Work on one numbered item; may throw. */
  interface Item {
    void run(long n) throws Exception;
  }

  /**
   * Items done per second by {@code threads} threads, each taking the next item number from
   * one shared counter (as a decoder pool takes the next sample) until {@code seconds} have
   * passed; every item started is finished and counted.
   */
  static double itemsPerSecond(int threads, double seconds, Item work) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      AtomicLong next = new AtomicLong();
      long t0 = System.nanoTime();
      long deadline = t0 + (long) (seconds * 1e9);
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < threads; w++) {
        done.add(pool.submit(() -> {
          while (System.nanoTime() < deadline) {
            work.run(next.getAndIncrement());
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
      return next.get() / ((System.nanoTime() - t0) / 1e9); // every item taken was finished before this
    } finally {
      pool.shutdownNow();
    }
  }

  /** The executable {@code name} on the PATH, if there is one. */
  static Optional<String> onPath(String name) {
    for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      if (Files.isExecutable(Path.of(d, name))) {
        return Optional.of(Path.of(d, name).toString());
      }
    }
    return Optional.empty();
  }
}
