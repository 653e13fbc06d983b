package dev.conveyor.streams.sample;

import static java.util.Objects.requireNonNull;

/**
 * Something that was skipped instead of delivered: a sample, a stray member, or what remained
 * of a shard that could not be read. {@code key} is {@value #WHOLE_SHARD} when the problem is
 * with the shard rather than one sample. Written to the dead-letter file as
 * {@code shard key reason}.
 */
public record DeadLetter(String shard, String key, String reason) implements ShardRecord {
  public static final String WHOLE_SHARD = "*";

  public DeadLetter {
    requireNonNull(shard, "shard is null");
    requireNonNull(key, "key is null");
    requireNonNull(reason, "reason is null");
  }

  /** One line of the dead-letter file; whitespace in the key and reason is kept to one line. */
  public String line() {
    return shard + " " + key.replaceAll("\\s", "_") + " " + reason.replaceAll("[\\r\\n]+", " ");
  }
}
