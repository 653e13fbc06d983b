package dev.conveyor.streams.plan;

import java.net.URI;
import java.util.List;

/**
 * The shards of a recipe and how many samples each holds, in recipe order. Compact (one string
 * and one int per shard), so half a million shards cost tens of megabytes, not hundreds. A
 * recipe over a catalog's query plans only the chosen samples: {@link SelectedShardSet}.
 */
public class ShardSet {
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

  /**
   * {@code sets} laid end to end (a mix's sources, each its range of the shards); each shard
   * keeps its chosen samples, and the selection names each set's, by its index.
   */
  public static ShardSet concat(List<ShardSet> sets) {
    List<String> names = new java.util.ArrayList<>();
    List<int[]> chosen = new java.util.ArrayList<>();
    List<Integer> held = new java.util.ArrayList<>();
    StringBuilder selection = new StringBuilder();
    for (int s = 0; s < sets.size(); s++) {
      ShardSet set = sets.get(s);
      for (int i = 0; i < set.size(); i++) {
        names.add(set.name(i));
        chosen.add(set.chosen(i));
        held.add(set.held(i));
      }
      if (!set.selection().isEmpty()) {
        selection.append("source ").append(s).append(": ").append(set.selection());
      }
    }
    int[] h = held.stream().mapToInt(Integer::intValue).toArray();
    if (selection.length() == 0) {
      return new ShardSet(names, h);
    }
    return new SelectedShardSet(names, chosen.toArray(int[][]::new), h, selection.toString());
  }

  /**
   * Which of shard {@code shard}'s own samples the plan's samples of it are, ascending (the
   * plan's sample {@code i} is the shard's sample {@code chosen[i]}); null when they are all of
   * them, in order.
   */
  public int[] chosen(int shard) {
    return null;
  }

  /** How many samples shard {@code shard} itself holds (more than {@link #count} when some are not chosen). */
  public int held(int shard) {
    return counts[shard];
  }

  /** What chose the samples (a catalog query and its corpus), for the fingerprint; empty when every sample is planned. */
  public String selection() {
    return "";
  }
}
