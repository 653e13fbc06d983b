package dev.conveyor.streams.store;

import static java.util.Objects.requireNonNull;

import java.net.URI;

/** A shard could not be read or written; the message names the shard and says why in one line. */
public final class ShardReadException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final URI shard;
  private final String reason;
  private final boolean atSampleBoundary;

  public ShardReadException(URI shard, String reason, Throwable cause) {
    this(shard, reason, cause, false);
  }

  /**
   * {@code atSampleBoundary}: every byte that went on before the failure belongs to samples
   * that arrived whole (a range checked sample by sample stopped before a bad one).
   */
  public ShardReadException(URI shard, String reason, Throwable cause, boolean atSampleBoundary) {
    super(shard + ": " + reason, cause);
    this.shard = requireNonNull(shard, "shard is null");
    this.reason = requireNonNull(reason, "reason is null");
    this.atSampleBoundary = atSampleBoundary;
  }

  public boolean atSampleBoundary() {
    return atSampleBoundary;
  }

  public URI shard() {
    return shard;
  }

  /** The reason alone, without the shard. */
  public String reason() {
    return reason;
  }
}
