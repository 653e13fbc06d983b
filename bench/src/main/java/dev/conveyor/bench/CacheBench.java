package dev.conveyor.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.plan.ShardSet;
import dev.conveyor.streams.store.cache.CacheKey;
import dev.conveyor.streams.store.cache.CacheReplay;
import dev.conveyor.streams.store.cache.CacheReplay.Read;
import dev.conveyor.streams.store.cache.EvictionPolicy;
import dev.conveyor.streams.store.cache.PlanAware;
import dev.conveyor.streams.store.cache.PlanFutures;
import dev.conveyor.streams.store.cache.PlanReads;
import dev.conveyor.streams.store.cache.SlotRing;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * {@code bench cache}: (a) the cache's policies replaying the reads of real data plans — shuffled
 * epochs, many ranks, several jobs over the same shards, read in the order they would really
 * arrive (ranks in lockstep but in no fixed order within a step, jobs at different paces) —
 * against the offline optimum; (b) the ring placing keys on up to 100,000 nodes as they join and
 * leave.
 *
 * <p>Shards have one size here, so a cache holds a whole number of them and Belady's MIN with the
 * exact future of the trace is the offline optimum (the most hits any policy can get). The
 * {@code plan} policy does not see that trace: it knows only each job's plan and how far each
 * job has read — what a node's cache knows.
 */
public final class CacheBench {
  private CacheBench() {}

  public static final int SHARDS = 512;
  public static final int EPOCHS = 3;
  private static final long SHARD_BYTES = 64L << 20;

  /** One replay: a policy at a cache size, ranks and jobs. */
  public record Replay(String policy, double cacheFraction, int ranks, int jobs, double hitRatio, long s3Gets) {
    ObjectNode json() {
      ObjectNode o = Json.object();
      o.put("policy", policy).put("cache_fraction", cacheFraction).put("ranks", ranks).put("jobs", jobs)
          .put("hit_ratio", Json.fixed(hitRatio, 4)).put("s3_gets", s3Gets);
      return o;
    }
  }

  /** The ring at one size: imbalance, keys moved per departure against the 1/N minimum, time taken. */
  public record RingModel(int nodes, long keys, double imbalance, double movedPerDeparture, double movedWorst,
                          double joinMoved, double seconds, long refetchPeak, double refillSeconds) {
    ObjectNode json() {
      ObjectNode o = Json.object();
      o.put("model", "ring").put("nodes", nodes).put("keys", keys)
          .put("imbalance", Json.fixed(imbalance, 4))
          .put("moved_per_departure_vs_1_over_n", Json.fixed(movedPerDeparture, 4))
          .put("moved_worst_vs_1_over_n", Json.fixed(movedWorst, 4))
          .put("join_moved_vs_1_over_n", Json.fixed(joinMoved, 4))
          .put("s3_gets_per_second", refetchPeak)
          .put("refill_seconds", Json.fixed(refillSeconds, 1))
          .put("seconds", Json.fixed(seconds, 2));
      return o;
    }
  }

  /** A data plan over {@link #SHARDS} shards of 1,000 samples, windows of 4 shards, batches of 64. */
  static DataPlan plan(long seed) {
    List<String> uris = new ArrayList<>();
    int[] counts = new int[SHARDS];
    for (int i = 0; i < SHARDS; i++) {
      uris.add(String.format("s3://bench/part-%06d.tar", i));
      counts[i] = 1000;
    }
    return new DataPlan(new Recipe(new ShardSet(uris, counts), seed, 64, false, new Recipe.Shuffle(true, 4, 1000), "none"));
  }

  /** A read of the trace: which job read which shard. */
  record Access(int job, int shard) {}

  /**
   * The reads of {@code jobs} jobs (seeds 1, 2, …) at {@code ranks} ranks over {@link #EPOCHS}
   * epochs as they would arrive: each job's ranks take their k-th reads together, in a random
   * order, and the jobs' steps interleave by their paces (job j runs at 1 + 0.15 j of job 0's).
   */
  static List<Access> trace(int ranks, int jobs, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    record Step(double at, int job, int epoch, int index) {}
    List<List<List<List<Integer>>>> perJob = new ArrayList<>(); // job → epoch → rank → shards
    for (int j = 0; j < jobs; j++) {
      DataPlan p = plan(j + 1);
      List<List<List<Integer>>> epochs = new ArrayList<>();
      for (int e = 0; e < EPOCHS; e++) {
        epochs.add(PlanReads.ranks(p, ranks, e));
      }
      perJob.add(epochs);
    }
    PriorityQueue<Step> steps = new PriorityQueue<>((a, b) -> Double.compare(a.at, b.at));
    for (int j = 0; j < jobs; j++) {
      steps.add(new Step(random.nextDouble(), j, 0, 0));
    }
    List<Access> out = new ArrayList<>();
    while (!steps.isEmpty()) {
      Step s = steps.poll();
      List<List<Integer>> byRank = perJob.get(s.job).get(s.epoch);
      List<Integer> order = new ArrayList<>(IntStream.range(0, ranks).boxed().toList());
      for (int i = order.size() - 1; i > 0; i--) {
        java.util.Collections.swap(order, i, random.nextInt(i + 1));
      }
      boolean more = false;
      for (int r : order) {
        if (s.index < byRank.get(r).size()) {
          out.add(new Access(s.job, byRank.get(r).get(s.index)));
          more |= s.index + 1 < byRank.get(r).size();
        }
      }
      double pace = 1 + 0.15 * s.job;
      double next = s.at + (0.8 + 0.4 * random.nextDouble()) / pace;
      if (more) {
        steps.add(new Step(next, s.job, s.epoch, s.index + 1));
      } else if (s.epoch + 1 < EPOCHS) {
        steps.add(new Step(next, s.job, s.epoch + 1, 0));
      }
    }
    return out;
  }

  static CacheKey key(int shard) {
    return new CacheKey("shard-" + shard, 0, SHARD_BYTES);
  }

  /** Every policy at every cache size, rank count and job count. */
  public static List<Replay> replays(int[] ranks, int[] jobs, double[] fractions, Consumer<String> progress) {
    List<Replay> out = new ArrayList<>();
    for (int r : ranks) {
      for (int j : jobs) {
        List<Access> trace = trace(r, j, 15L * r + j);
        List<Read<CacheKey>> reads = trace.stream().map(a -> new Read<>(key(a.shard), SHARD_BYTES)).toList();
        for (double f : fractions) {
          long capacity = (long) Math.floor(f * SHARDS) * SHARD_BYTES;
          for (String policy : List.of("lru", "fifo", "plan", "optimum")) {
            CacheReplay.Result res;
            if (policy.equals("plan")) {
              PlanFutures futures = new PlanFutures();
              for (int job = 0; job < j; job++) {
                futures.register("job-" + job, PlanReads.shards(plan(job + 1), r, 0, EPOCHS),
                    PlanReads.slack(plan(job + 1), r));
                for (int s = 0; s < SHARDS; s++) {
                  futures.identify("job-" + job, s, key(s).object());
                }
              }
              res = CacheReplay.run(reads, capacity, new PlanAware<>(futures),
                  (read, t) -> futures.read("job-" + trace.get(t).job(), read.key().object()));
            } else if (policy.equals("optimum")) {
              res = CacheReplay.run(reads, capacity, new PlanAware<>(CacheReplay.future(reads)));
            } else {
              res = CacheReplay.run(reads, capacity, EvictionPolicy.named(policy, null));
            }
            out.add(new Replay(policy, f, r, j, res.hitRatio(), res.misses()));
          }
        }
        progress.accept("replayed " + r + " ranks, " + j + " job(s): " + reads.size() + " reads");
      }
    }
    return out;
  }

  /**
   * The ring of {@code nodes} nodes (one slot each) holding {@code keysPerNode} keys per node on
   * average: imbalance (max ÷ mean keys per node), then {@code departures} nodes leaving one after
   * another (keys moved ÷ the 1/N that must move) and one joining back; the refetch after a
   * departure at {@code getsPerSecondPerNode} per node.
   */
  public static RingModel ring(int nodes, int keysPerNode, int departures, double getsPerSecondPerNode, long seed) {
    long t0 = System.nanoTime();
    long keys = (long) nodes * keysPerNode;
    BitSet live = new BitSet(nodes);
    live.set(0, nodes);
    SlotRing ring = SlotRing.ofSlots(nodes, live);
    long[] load = loads(ring, null, keys, seed).load;
    double imbalance = imbalance(load, live);
    SplittableRandom random = new SplittableRandom(seed);
    double movedSum = 0;
    double movedWorst = 0;
    long peak = 0;
    double refill = 0;
    int lastGone = -1;
    for (int d = 0; d < departures; d++) {
      int gone;
      do {
        gone = random.nextInt(nodes);
      } while (!live.get(gone));
      live.clear(gone);
      SlotRing after = SlotRing.ofSlots(nodes, live);
      Loads l = loads(after, ring, keys, seed);
      double moved = l.moved / ((double) keys / (live.cardinality() + 1)); // ÷ the leaver's fair share
      movedSum += moved;
      movedWorst = Math.max(movedWorst, moved);
      imbalance = Math.max(imbalance, imbalance(l.load, live));
      long gainers = 0;
      long most = 0;
      for (int s = live.nextSetBit(0); s >= 0; s = live.nextSetBit(s + 1)) {
        if (l.gained[s] > 0) {
          gainers++;
          most = Math.max(most, l.gained[s]);
        }
      }
      peak = Math.max(peak, (long) Math.min(l.moved, gainers * getsPerSecondPerNode));
      refill = Math.max(refill, most / getsPerSecondPerNode);
      ring = after;
      lastGone = gone;
    }
    live.set(lastGone); // the last to leave comes back
    SlotRing back = SlotRing.ofSlots(nodes, live);
    Loads l = loads(back, ring, keys, seed);
    double joinMoved = l.moved / ((double) keys / live.cardinality());
    imbalance = Math.max(imbalance, imbalance(l.load, live));
    return new RingModel(nodes, keys, imbalance, movedSum / Math.max(1, departures), movedWorst, joinMoved,
        (System.nanoTime() - t0) / 1e9, peak, refill);
  }

  private record Loads(long[] load, long moved, long[] gained) {}

  /** Keys per slot under {@code ring}, and how many changed slot since {@code before} (null: none). */
  private static Loads loads(SlotRing ring, SlotRing before, long keys, long seed) {
    int slots = ring.slots();
    int parts = Math.max(1, Runtime.getRuntime().availableProcessors()) * 4;
    long[][] loads = new long[parts][];
    long[][] gained = new long[parts][];
    long[] moved = new long[parts];
    IntStream.range(0, parts).parallel().forEach(p -> {
      long[] load = new long[slots];
      long[] gain = new long[slots];
      long m = 0;
      for (long k = p; k < keys; k += parts) {
        long h = SlotRing.mix(k ^ seed);
        int s = ring.primarySlot(h);
        load[s]++;
        if (before != null && before.primarySlot(h) != s) {
          m++;
          gain[s]++;
        }
      }
      loads[p] = load;
      gained[p] = gain;
      moved[p] = m;
    });
    long[] load = new long[slots];
    long[] gain = new long[slots];
    for (int p = 0; p < parts; p++) {
      for (int s = 0; s < slots; s++) {
        load[s] += loads[p][s];
        gain[s] += gained[p][s];
      }
    }
    return new Loads(load, Arrays.stream(moved).sum(), gain);
  }

  private static double imbalance(long[] load, BitSet live) {
    long max = 0;
    long sum = 0;
    for (int s = live.nextSetBit(0); s >= 0; s = live.nextSetBit(s + 1)) {
      max = Math.max(max, load[s]);
      sum += load[s];
    }
    return max / ((double) sum / live.cardinality());
  }

  /** The replays as a table, and the headline at half the dataset cached. */
  public static String text(List<Replay> replays, List<RingModel> rings) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "cache: %d shards, %d shuffled epochs, whole-shard entries%n", SHARDS, EPOCHS));
    b.append(String.format(Locale.ROOT, "%-6s %-5s %-5s %8s %8s %8s %8s   plan/lru  plan/optimum%n",
        "cache", "ranks", "jobs", "lru", "fifo", "plan", "optimum"));
    for (int i = 0; i < replays.size(); i += 4) {
      Replay lru = replays.get(i);
      Replay fifo = replays.get(i + 1);
      Replay plan = replays.get(i + 2);
      Replay opt = replays.get(i + 3);
      b.append(String.format(Locale.ROOT, "%-6s %-5d %-5d %8.3f %8.3f %8.3f %8.3f   %7.2fx  %11.3f%n",
          Math.round(lru.cacheFraction() * 100) + "%", lru.ranks(), lru.jobs(), lru.hitRatio(), fifo.hitRatio(),
          plan.hitRatio(), opt.hitRatio(), plan.hitRatio() / Math.max(1e-9, lru.hitRatio()),
          plan.hitRatio() / Math.max(1e-9, opt.hitRatio())));
    }
    if (!rings.isEmpty()) {
      b.append(String.format(Locale.ROOT, "%nring: %-8s %12s %10s %14s %14s %12s %10s %8s%n", "nodes", "keys",
          "imbalance", "moved/leave", "worst leave", "moved/join", "GETs/s", "seconds"));
      for (RingModel r : rings) {
        b.append(String.format(Locale.ROOT, "      %-8d %12d %10.3f %13.3fx %13.3fx %11.3fx %10d %8.1f%n", r.nodes(),
            r.keys(), r.imbalance(), r.movedPerDeparture(), r.movedWorst(), r.joinMoved(), r.refetchPeak(),
            r.seconds()));
      }
      b.append("(moved: keys that changed node ÷ the 1/N share that must; GETs/s: the fleet's refetch after a leave"
          + " at the per-node limit)\n");
    }
    return b.toString();
  }

  /** One JSON object per line. */
  public static String jsonLines(List<Replay> replays, List<RingModel> rings) {
    StringBuilder b = new StringBuilder();
    replays.forEach(r -> b.append(Json.compact(r.json())).append('\n'));
    rings.forEach(r -> b.append(Json.compact(r.json())).append('\n'));
    return b.toString().stripTrailing();
  }
}
