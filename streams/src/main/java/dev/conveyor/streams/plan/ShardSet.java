package dev.conveyor.streams.plan;

import java.net.URI;
import java.util.List;

/**
 * The shards of a recipe and how many samples each holds, in recipe order. Compact (one string
 * and one int per shard), so half a million shards cost tens of megabytes, not hundreds.
 */
public final class ShardSet {
  private final String[] uris;
  private final int[] counts;
  private final long total;

  public ShardSet(List<String> uris, int[] counts) {
    if (uris.size() != counts.length) {
      throw new IllegalArgumentException(uris.size() + " shards but " + counts.length + " sample counts");
    }
    this.uris = uris.toArray(String[]::new);
    this.counts = counts.clone();
    long t = 0;
    for (int c : counts) {
      if (c < 0) {
        throw new IllegalArgumentException("negative sample count " + c);
      }
      t += c;
    }
    this.total = t;
  }

  public int size() {
    return uris.length;
  }

  public URI uri(int shard) {
    return URI.create(uris[shard]);
  }

  public String name(int shard) {
    return uris[shard];
  }

  public int count(int shard) {
    return counts[shard];
  }

  /** Samples in all shards. */
  public long total() {
    return total;
  }
}
