package dev.conveyor.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** A temporary folder that a command owns, deleted with everything in it when the command is done. */
final class Scratch implements AutoCloseable {
  final Path dir;

  private Scratch(Path dir) {
    this.dir = dir;
  }

  static Scratch create(String prefix) throws IOException {
    return new Scratch(Files.createTempDirectory(prefix));
  }

  /** Deletes {@code root} and all below it; what cannot be deleted is left to the OS's temp cleaning. */
  static void deleteTree(Path root) {
    try (Stream<Path> files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a leftover temp folder is harmless
    }
  }

  @Override
  public void close() {
    deleteTree(dir);
  }
}
