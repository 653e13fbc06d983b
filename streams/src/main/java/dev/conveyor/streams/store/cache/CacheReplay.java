package dev.conveyor.streams.store.cache;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A cache of a fixed number of bytes replaying a known sequence of reads under a policy: how
 * many hit. The reads' positions are the policy's logical times. What the plan-aware policy
 * is measured with (and what `bench cache` will drive with the reads of real data plans).
 */
public final class CacheReplay {
  private CacheReplay() {}

  /** One read: an entry (a shard, or a range of one) and its size. */
  public record Read<K>(K key, long bytes) {}

  /** Reads that found their entry, reads that did not, and the bytes those had to fetch. */
  public record Result(long hits, long misses, long bytesFetched) {
    public double hitRatio() {
      return hits + misses == 0 ? 0 : (double) hits / (hits + misses);
    }
  }

  /** Replays {@code reads} through a cache of {@code capacity} bytes that evicts by {@code policy}. */
  public static <K> Result run(List<Read<K>> reads, long capacity, EvictionPolicy<K> policy) {
    return run(reads, capacity, policy, (r, t) -> { });
  }

  /** As {@link #run(List, long, EvictionPolicy)}, telling {@code seen} of each read (and its time) first. */
  public static <K> Result run(List<Read<K>> reads, long capacity, EvictionPolicy<K> policy,
                               java.util.function.ObjIntConsumer<Read<K>> seen) {
    Map<K, Long> held = new HashMap<>();
    long used = 0;
    long hits = 0;
    long misses = 0;
    long fetched = 0;
    for (int t = 0; t < reads.size(); t++) {
      Read<K> r = reads.get(t);
      seen.accept(r, t);
      if (held.containsKey(r.key())) {
        hits++;
        policy.accessed(r.key(), t);
        continue;
      }
      misses++;
      fetched += r.bytes();
      if (r.bytes() > capacity) {
        continue; // larger than the whole cache: read through, not kept
      }
      while (used + r.bytes() > capacity) {
        K victim = policy.victim(t);
        used -= held.remove(victim);
        policy.removed(victim);
      }
      held.put(r.key(), r.bytes());
      used += r.bytes();
      policy.admitted(r.key(), t);
    }
    return new Result(hits, misses, fetched);
  }

  /** When each key of {@code reads} is read next: the future a plan gives, for the plan-aware policy. */
  public static <K> NextUse<K> future(List<Read<K>> reads) {
    Map<K, List<Integer>> at = new LinkedHashMap<>();
    for (int t = 0; t < reads.size(); t++) {
      at.computeIfAbsent(reads.get(t).key(), k -> new ArrayList<>()).add(t);
    }
    Map<K, int[]> positions = new HashMap<>();
    at.forEach((k, l) -> positions.put(k, l.stream().mapToInt(Integer::intValue).toArray()));
    return (key, time) -> {
      int[] p = positions.get(key);
      if (p == null) {
        return NextUse.NEVER;
      }
      int i = Arrays.binarySearch(p, (int) Math.min(Integer.MAX_VALUE, time + 1));
      i = i >= 0 ? i : -i - 1;
      return i < p.length ? p[i] : NextUse.NEVER;
    };
  }
}
