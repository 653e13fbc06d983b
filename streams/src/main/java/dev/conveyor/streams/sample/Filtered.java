package dev.conveyor.streams.sample;

import static java.util.Objects.requireNonNull;

/**
 * A sample a pipeline's filter left out: counted, not delivered, and not a bad sample. Its plan
 * position stays taken (its batch is one shorter), so a cursor and a resume see it exactly as
 * a run that never stopped did.
 */
public record Filtered(String shard, String key, String stage) implements ShardRecord {
  public Filtered {
    requireNonNull(shard, "shard is null");
    requireNonNull(key, "key is null");
    requireNonNull(stage, "stage is null");
  }
}
