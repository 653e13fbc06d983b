package dev.conveyor.streams.store.cache;

import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.plan.ShardTask;
import dev.conveyor.streams.plan.WindowSlice;
import java.util.ArrayList;
import java.util.List;

/**
 * The order in which a job will read its shards, from its plan alone: per epoch, each rank's
 * shard pieces in the order it reads them, the ranks interleaved one piece each in turn (ranks
 * step together, so their k-th pieces are read at about the same time). A shard read twice in
 * a row by one rank (two pieces of one window) counts once. What the plan-aware policy's
 * future is made of, and the trace `bench cache` replays.
 */
public final class PlanReads {
  private PlanReads() {}

  /** The shards (indexes in the recipe's list) {@code world} ranks read in epochs {@code [from, to)}. */
  public static int[] shards(DataPlan plan, int world, int from, int to) {
    List<int[]> out = new ArrayList<>();
    int total = 0;
    for (int e = from; e < to; e++) {
      int[] merged = interleave(ranks(plan, world, e));
      out.add(merged);
      total += merged.length;
    }
    int[] all = new int[total];
    int at = 0;
    for (int[] a : out) {
      System.arraycopy(a, 0, all, at, a.length);
      at += a.length;
    }
    return all;
  }

  /**
   * How far out of plan order a job's reads may arrive: its ranks' reads of one step come in any
   * order, and a rank opens a window's shards together.
   */
  public static int slack(DataPlan plan, int world) {
    return 2 * world * plan.recipe().shuffle().windowShards();
  }

  /** Each rank's shards in epoch {@code epoch}, in reading order. */
  public static List<List<Integer>> ranks(DataPlan plan, int world, int epoch) {
    Cursor start = Cursor.start(plan.recipe().fingerprint(), world).atEpoch(epoch, world);
    List<List<Integer>> perRank = new ArrayList<>(world);
    for (int r = 0; r < world; r++) {
      perRank.add(rank(plan, plan.rank(start, world, r)));
    }
    return perRank;
  }

  /** One rank's shards in reading order, a repeat in a row counted once. */
  static List<Integer> rank(DataPlan plan, RankSegment seg) {
    List<Integer> out = new ArrayList<>();
    for (WindowSlice s : seg.toRead()) {
      for (ShardTask t : plan.tasks(s.window())) {
        if (out.isEmpty() || out.get(out.size() - 1) != t.shard()) {
          out.add(t.shard());
        }
      }
    }
    return out;
  }

  /** The lists taken one element each in turn, list 0 first. */
  static int[] interleave(List<List<Integer>> lists) {
    int n = lists.stream().mapToInt(List::size).sum();
    int[] out = new int[n];
    int at = 0;
    for (int i = 0; at < n; i++) {
      for (List<Integer> l : lists) {
        if (i < l.size()) {
          out[at++] = l.get(i);
        }
      }
    }
    return out;
  }
}
