package dev.conveyor.streams.store;

import static java.util.Objects.requireNonNull;

import java.net.URI;

/** A shard could not be read or written; the message names the shard and says why in one line. */
public final class ShardReadException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final URI shard;
  private final String reason;

  public ShardReadException(URI shard, String reason, Throwable cause) {
    super(shard + ": " + reason, cause);
    this.shard = requireNonNull(shard, "shard is null");
    this.reason = requireNonNull(reason, "reason is null");
  }

  public URI shard() {
    return shard;
  }

  /** The reason alone, without the shard. */
  public String reason() {
    return reason;
  }
}
