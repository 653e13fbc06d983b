package dev.conveyor.orchestrator.job;

import dev.conveyor.config.JobSettings;
import dev.conveyor.config.SettingsException;
import dev.conveyor.streams.cursor.Cursor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The local directory where a job leaves its cursor ({@code latest.cursor}), replaced atomically. */
public final class CheckpointDir {
  static final String LATEST = "latest.cursor";
  private static final String KEY = JobSettings.PATH + ".checkpoint-dir";

  private final Path dir;

  private CheckpointDir(Path dir) {
    this.dir = dir;
  }

  /** Parses the setting: a path or a {@code file://} URI. */
  public static CheckpointDir of(String setting) {
    if (setting.startsWith("s3://")) {
      throw new SettingsException(KEY, "S3 checkpoint directories are not supported yet: give a local directory");
    }
    Path p = setting.startsWith("file:") ? Path.of(URI.create(setting)) : Path.of(setting);
    return new CheckpointDir(p);
  }

  public void save(Cursor cursor) {
    try {
      Files.createDirectories(dir);
      Path tmp = dir.resolve(LATEST + ".tmp");
      Files.writeString(tmp, cursor.encode() + "\n", StandardCharsets.UTF_8);
      Files.move(tmp, dir.resolve(LATEST), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save the cursor in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The saved cursor token; fails naming the key when there is none. */
  public String latest() {
    try {
      return Files.readString(dir.resolve(LATEST), StandardCharsets.UTF_8).trim();
    } catch (NoSuchFileException e) {
      throw new SettingsException(KEY, "has no saved cursor (" + dir.resolve(LATEST) + " is missing): nothing to resume from");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir.resolve(LATEST) + ": " + e.getMessage(), e);
    }
  }
}
