package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

/** The examples module's jar, as the reactor builds it before this module's tests. */
public final class Examples {
  private Examples() {}

  /** {@code examples/target/conveyor-examples.jar}; fails with the command that builds it when it is missing. */
  public static Path jar() {
    Path jar = Path.of("..", "examples", "target", "conveyor-examples.jar").toAbsolutePath().normalize();
    assertThat(Files.isRegularFile(jar)).as(jar + " is built first (mvn -B -DskipTests -pl examples -am package)").isTrue();
    return jar;
  }
}
