package dev.conveyor.config;

import static java.util.Objects.requireNonNull;

/** A setting that is missing or invalid: names the key and says how to fix it. */
public final class SettingsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String key;

  public SettingsException(String key, String problem) {
    super(key + ": " + requireNonNull(problem, "problem is null"));
    this.key = requireNonNull(key, "key is null");
  }

  /** The full HOCON path of the offending setting, e.g. {@code conveyor.job.batch-size}. */
  public String key() {
    return key;
  }
}
