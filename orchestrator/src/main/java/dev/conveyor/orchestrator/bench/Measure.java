package dev.conveyor.orchestrator.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/** What the benchmarks share: medians of rounds, and finding a baseline tool on the PATH. */
final class Measure {
  private Measure() {}

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
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
