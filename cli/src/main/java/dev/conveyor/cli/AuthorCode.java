package dev.conveyor.cli;

import dev.conveyor.streams.decode.AuthorClasses;
import java.nio.file.Path;
import java.util.List;

/** {@code --classpath}: the author's jars, added to where this process finds pipelines and maps. */
final class AuthorCode {
  private AuthorCode() {}

  static void add(List<Path> classpath) {
    try {
      AuthorClasses.add(classpath);
    } catch (IllegalArgumentException e) {
      throw new ConveyorCli.UsageException(e.getMessage());
    }
  }
}
