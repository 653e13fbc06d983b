package dev.conveyor.sim.run;

import dev.conveyor.config.SettingsException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** A simulation's output folder: made new, or a previous simulation's emptied — never a folder of anything else. */
final class OutputDir {
  private OutputDir() {}

  /** {@code dir}, empty: a new folder, or one a simulation wrote before (its files replaced). */
  static Path prepare(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      try (Stream<Path> in = Files.list(dir)) {
        List<Path> all = in.toList();
        if (!all.isEmpty() && !Files.exists(dir.resolve("history.jsonl")) && !Files.exists(dir.resolve("reference.jsonl"))) {
          throw new SettingsException("--out", dir + " is not empty and not a simulation's output: name a new folder");
        }
        for (Path p : all) {
          deleteTree(p);
        }
      }
    }
    return Files.createDirectories(dir);
  }

  private static void deleteTree(Path p) throws IOException {
    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      try (Stream<Path> in = Files.list(p)) {
        for (Path c : in.toList()) {
          deleteTree(c);
        }
      }
    }
    Files.delete(p);
  }
}
