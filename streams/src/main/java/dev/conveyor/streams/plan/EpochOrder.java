package dev.conveyor.streams.plan;

import java.util.SplittableRandom;

/**
 * The shard order of one epoch — a seeded permutation, or recipe order without shuffling — and
 * the prefix sums that place every sample of the epoch at one global offset. O(shards) memory.
 * In a mix, the order of one source's shards for one pass of the epoch, seeded by both.
 */
final class EpochOrder {
  final int epoch;
  final int source;
  final int pass;
  private final int[] order;
  private final long[] prefix;

  EpochOrder(Recipe recipe, int epoch) {
    this(recipe, epoch, 0, 0);
  }

  EpochOrder(Recipe recipe, int epoch, int source, int pass) {
    this.epoch = epoch;
    this.source = source;
    this.pass = pass;
    ShardSet shards = recipe.shards();
    int first = recipe.mixed() ? recipe.mix().get().sources().get(source).firstShard() : 0;
    int n = recipe.mixed() ? recipe.mix().get().sources().get(source).shards() : shards.size();
    order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = first + i;
    }
    if (recipe.shuffle().enabled()) {
      SplittableRandom rnd = recipe.mixed() ? Seeds.random(recipe.seed(), epoch, -1, source, pass)
          : Seeds.random(recipe.seed(), epoch, -1);
      for (int i = n - 1; i > 0; i--) {
        int j = rnd.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
    }
    prefix = new long[n + 1];
    for (int i = 0; i < n; i++) {
      prefix[i + 1] = prefix[i] + shards.count(order[i]);
    }
  }

  long total() {
    return prefix[prefix.length - 1];
  }

  int shards() {
    return order.length;
  }

  /** The shard at position {@code i} of this epoch's order. */
  int shardAt(int i) {
    return order[i];
  }

  /** The global offset of the first sample of the shard at position {@code i}. */
  long start(int i) {
    return prefix[i];
  }

  /** The position of the shard holding global offset {@code g} (0 ≤ g < total), skipping empty shards. */
  int positionOf(long g) {
    int lo = 0;
    int hi = order.length - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (prefix[mid] <= g) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }
}
