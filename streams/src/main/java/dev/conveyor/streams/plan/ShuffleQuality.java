package dev.conveyor.streams.plan;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * How well an order mixes samples whose ids are their original positions: the mean
 * displacement |position − original position| / N (a perfect shuffle gives about 1/3, none
 * gives 0) and the Pearson correlation of new and original positions (a perfect shuffle gives
 * about 0, none gives 1).
 */
public record ShuffleQuality(double meanDisplacement, double correlation) {

  /**
   * The fraction of consecutive samples that come from the same shard: what a trainer sees
   * batch to batch. A global shuffle of many shards gives about 1/shards; shard order alone, 1.
   */
  public static double sameShardNeighbours(long[] originalPositions, int[] counts) {
    long[] start = new long[counts.length + 1];
    for (int i = 0; i < counts.length; i++) {
      start[i + 1] = start[i] + counts[i];
    }
    int same = 0;
    for (int i = 1; i < originalPositions.length; i++) {
      if (shardOf(originalPositions[i], start) == shardOf(originalPositions[i - 1], start)) {
        same++;
      }
    }
    return originalPositions.length < 2 ? 0 : same / (double) (originalPositions.length - 1);
  }

  private static int shardOf(long id, long[] start) {
    int i = java.util.Arrays.binarySearch(start, id);
    return i >= 0 ? i : -i - 2;
  }

  public static ShuffleQuality of(long[] originalPositions) {
    int n = originalPositions.length;
    double disp = 0;
    double mean = (n - 1) / 2.0;
    double cov = 0;
    double varA = 0;
    double varB = 0;
    for (int i = 0; i < n; i++) {
      long o = originalPositions[i];
      disp += Math.abs(i - o);
      cov += (i - mean) * (o - mean);
      varA += (i - mean) * (i - mean);
      varB += (o - mean) * (o - mean);
    }
    return new ShuffleQuality(n == 0 ? 0 : disp / n / n, varA == 0 ? 0 : cov / Math.sqrt(varA * varB));
  }

  /** A recipe of {@code shards} shards of {@code perShard} samples each, for measuring orders. */
  public static Recipe uniformRecipe(int shards, int perShard, long seed, Recipe.Shuffle shuffle) {
    List<String> names = new ArrayList<>(shards);
    int[] counts = new int[shards];
    for (int i = 0; i < shards; i++) {
      names.add("s3://quality/part-" + i + ".tar");
      counts[i] = perShard;
    }
    return new Recipe(new ShardSet(names, counts), seed, 32, false, shuffle, "none");
  }

  /** The sample counts of a recipe's shards. */
  public static int[] counts(Recipe recipe) {
    int[] c = new int[recipe.shards().size()];
    for (int i = 0; i < c.length; i++) {
      c[i] = recipe.shards().count(i);
    }
    return c;
  }

  /** Conveyor's order of one epoch at one rank, as original positions (samples numbered in recipe order). */
  public static long[] conveyor(Recipe recipe, int epoch) {
    DataPlan plan = new DataPlan(recipe);
    long[] shardStart = new long[recipe.shards().size() + 1];
    for (int i = 0; i < recipe.shards().size(); i++) {
      shardStart[i + 1] = shardStart[i] + recipe.shards().count(i);
    }
    var seg = plan.rank(dev.conveyor.streams.cursor.Cursor.start(recipe.fingerprint(), 1).atEpoch(epoch, 1), 1, 0);
    List<DataPlan.PlannedSample> s = plan.samples(seg);
    long[] out = new long[s.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = shardStart[s.get(i).shard()] + s.get(i).index();
    }
    return out;
  }

  /**
   * WebDataset's default: shards in a random order, samples in shard order through a shuffle
   * buffer of {@code buffer} samples (fill, then emit a random element and put the new one in
   * its place; drain at the end).
   */
  public static long[] webDataset(int[] counts, int buffer, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int n = counts.length;
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    long[] start = new long[n + 1];
    for (int i = 0; i < n; i++) {
      start[i + 1] = start[i] + counts[i];
    }
    long[] out = new long[(int) start[n]];
    int k = 0;
    List<Long> buf = new ArrayList<>(buffer);
    for (int sh : order) {
      for (int i = 0; i < counts[sh]; i++) {
        long id = start[sh] + i;
        if (buf.size() < buffer) {
          buf.add(id);
        } else {
          int j = rnd.nextInt(buffer);
          out[k++] = buf.get(j);
          buf.set(j, id);
        }
      }
    }
    while (!buf.isEmpty()) {
      int j = rnd.nextInt(buf.size());
      out[k++] = buf.get(j);
      buf.set(j, buf.get(buf.size() - 1));
      buf.remove(buf.size() - 1);
    }
    return out;
  }
}
