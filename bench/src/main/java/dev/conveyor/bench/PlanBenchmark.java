package dev.conveyor.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.plan.ShardSet;
import dev.conveyor.streams.plan.WindowSlice;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The plan at scale: a recipe of {@code shards} shards of {@code perShard} samples, a seek to
 * a random cursor (mid-epoch, every rank at its own count) and an elastic seek (the same cursor
 * resumed at another world size), each down to the exact next sample. Reports the median seek
 * time over {@code rounds} and the heap the plan and recipe hold.
 */
public final class PlanBenchmark {
  private PlanBenchmark() {}

  /** Figures of one benchmark run. */
  public record Result(int shards, long samples, int world, double seekSeconds, double elasticSeekSeconds, double heapMb) {
    public ObjectNode json() {
      return Json.object().put("shards", shards).put("samples", samples).put("world", world)
          .put("seek_s", Json.fixed(seekSeconds, 4)).put("elastic_seek_s", Json.fixed(elasticSeekSeconds, 4))
          .put("heap_mb", Json.fixed(heapMb, 1));
    }
  }

  public static Result run(int shards, int perShard, int world, int rounds, long seed) {
    long before = usedHeapAfterGc();
    List<String> names = new ArrayList<>(shards);
    for (int i = 0; i < shards; i++) {
      names.add(String.format(Locale.ROOT, "s3://bench/train/part-%06d.tar", i));
    }
    int[] counts = new int[shards];
    Arrays.fill(counts, perShard);
    Recipe recipe = new Recipe(new ShardSet(names, counts), seed, 256, false, new Recipe.Shuffle(true, 4, 1000), "none");
    String fp = recipe.fingerprint();
    double[] seek = new double[rounds];
    double[] elastic = new double[rounds];
    SplittableRandom rnd = new SplittableRandom(seed);
    DataPlan kept = null;
    for (int i = 0; i < rounds; i++) {
      int epoch = 1 + rnd.nextInt(100);
      Cursor c = Cursor.start(fp, world).atEpoch(epoch, world);
      long steps = recipe.shards().total() / ((long) world * recipe.batchSize());
      for (int r = 0; r < world; r++) {
        c = c.withDelivered(r, rnd.nextLong(steps));
      }
      int rank = rnd.nextInt(world);
      long t0 = System.nanoTime();
      DataPlan plan = new DataPlan(recipe); // a fresh plan each time: nothing cached
      firstSample(plan, c, world, rank);
      seek[i] = (System.nanoTime() - t0) / 1e9;
      int other = world > 1 ? world - 1 : 2;
      t0 = System.nanoTime();
      DataPlan plan2 = new DataPlan(recipe);
      firstSample(plan2, c.resumedAt(other), other, rnd.nextInt(other));
      elastic[i] = (System.nanoTime() - t0) / 1e9;
      kept = plan;
    }
    double heap = (usedHeapAfterGc() - before) / 1e6;
    if (kept.recipe() != recipe) {
      throw new IllegalStateException("unreachable: keeps the plan alive until the heap is measured");
    }
    return new Result(shards, recipe.shards().total(), world, median(seek), median(elastic), heap);
  }

  private static DataPlan.PlannedSample firstSample(DataPlan plan, Cursor c, int world, int rank) {
    RankSegment seg = plan.rank(c, world, rank);
    List<WindowSlice> rest = seg.toRead();
    if (rest.isEmpty()) {
      return null;
    }
    WindowSlice first = rest.get(0);
    return plan.samples(new WindowSlice(first.window(), first.from(), first.from() + 1)).get(0);
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static long usedHeapAfterGc() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
