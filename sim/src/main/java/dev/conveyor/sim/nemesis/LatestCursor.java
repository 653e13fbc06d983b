package dev.conveyor.sim.nemesis;

import dev.conveyor.streams.cursor.Cursor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** The job's {@code latest.cursor} in its checkpoint directory, as the simulation sees it: torn by the nemesis, read back by the recorder. */
public final class LatestCursor {
  private LatestCursor() {}

  /** Cuts {@code latest.cursor} to half its length ({@code how} cut), or changes a character in its middle; null when done, else why not. */
  static String tear(Path checkpoints, String how) throws IOException {
    Path latest = checkpoints.resolve("latest.cursor");
    if (!Files.exists(latest)) {
      return "no cursor saved yet in " + checkpoints;
    }
    String token = Files.readString(latest, StandardCharsets.UTF_8).trim();
    String torn;
    if (how.equals("cut")) {
      torn = token.substring(0, token.length() / 2);
    } else {
      char[] c = token.toCharArray();
      int mid = c.length / 2;
      c[mid] = c[mid] == 'A' ? 'B' : 'A';
      torn = new String(c);
    }
    Files.writeString(latest, torn + "\n", StandardCharsets.UTF_8);
    return null;
  }

  /** Whether {@code latest.cursor} reads back whole (or is not there: nothing to be torn). */
  public static boolean readable(Path checkpoints) {
    return !Files.exists(checkpoints.resolve("latest.cursor")) || token(checkpoints).isPresent();
  }

  /** The token in {@code latest.cursor} when it is there and whole; empty while it is missing, being replaced or torn. */
  public static Optional<String> token(Path checkpoints) {
    Path latest = checkpoints.resolve("latest.cursor");
    try {
      if (!Files.exists(latest)) {
        return Optional.empty();
      }
      String token = Files.readString(latest, StandardCharsets.UTF_8).trim();
      if (token.isEmpty()) {
        return Optional.empty();
      }
      Cursor.decode(token);
      return Optional.of(token);
    } catch (IOException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
