package dev.conveyor.streams.sample;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * A sample a pipeline's flatMap made into several — a video into its clips, a document into its
 * chunks: its {@code outputs} in order, each delivered as a sample of its own, and how many
 * outputs a later filter left out ({@code filtered}). The sample keeps its one plan position; a
 * batch of full batches may end between two of its outputs, and the cursor then says how many
 * of them were delivered.
 */
public record Expanded(String shard, String key, List<RawSample> outputs, int filtered) implements ShardRecord {
  public Expanded {
    requireNonNull(shard, "shard is null");
    requireNonNull(key, "key is null");
    outputs = List.copyOf(outputs);
    if (filtered < 0) {
      throw new IllegalArgumentException("negative filtered count " + filtered);
    }
  }

  /** The outputs' bytes, members and tensors. */
  public long bytes() {
    long n = 0;
    for (RawSample s : outputs) {
      n += s.bytes() + s.decoded().map(Decoded::tensorBytes).orElse(0L);
    }
    return n;
  }
}
