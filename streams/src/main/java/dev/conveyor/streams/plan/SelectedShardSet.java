package dev.conveyor.streams.plan;

import java.util.List;

/**
 * The shards of a recipe over a catalog's query: of each shard, only the samples the query
 * chose (its {@link #chosen} numbers, ascending), so that the plan — and every cursor over it —
 * counts the chosen samples only, and readers fetch only their bytes. A shard none of whose
 * samples were chosen is not listed at all.
 */
public final class SelectedShardSet extends ShardSet {
  private final int[][] chosen;
  private final int[] held;
  private final String selection;

  /**
   * Shards {@code uris}, each holding {@code held[i]} samples of which {@code chosen[i]} were
   * chosen (null: all), chosen by {@code selection} (the query and the corpus it ran on).
   */
  public SelectedShardSet(List<String> uris, int[][] chosen, int[] held, String selection) {
    super(uris, counts(chosen, held));
    this.chosen = new int[chosen.length][];
    for (int i = 0; i < chosen.length; i++) {
      int[] c = chosen[i];
      if (c != null) {
        for (int j = 0; j < c.length; j++) {
          if (c[j] < 0 || c[j] >= held[i] || j > 0 && c[j] <= c[j - 1]) {
            throw new IllegalArgumentException("shard " + uris.get(i) + ": its chosen samples must rise within its "
                + held[i] + " samples; chosen[" + j + "] = " + c[j]);
          }
        }
        this.chosen[i] = c.clone();
      }
    }
    this.held = held.clone();
    this.selection = selection;
  }

  private static int[] counts(int[][] chosen, int[] held) {
    if (chosen.length != held.length) {
      throw new IllegalArgumentException(chosen.length + " choices for " + held.length + " shards");
    }
    int[] counts = new int[held.length];
    for (int i = 0; i < held.length; i++) {
      counts[i] = chosen[i] == null ? held[i] : chosen[i].length;
    }
    return counts;
  }

  @Override
  public int[] chosen(int shard) {
    return chosen[shard];
  }

  @Override
  public int held(int shard) {
    return held[shard];
  }

  @Override
  public String selection() {
    return selection;
  }
}
