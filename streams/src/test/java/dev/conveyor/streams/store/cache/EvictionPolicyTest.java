package dev.conveyor.streams.store.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.streams.store.cache.CacheReplay.Read;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The eviction policies against traces worked by hand, and the plan-aware one against the offline optimum. */
class EvictionPolicyTest {
  static List<Read<String>> trace(String keys) {
    return Arrays.stream(keys.split(" ")).map(k -> new Read<>(k, 1)).toList();
  }

  static CacheReplay.Result replay(String policy, List<Read<String>> reads, long capacity) {
    return CacheReplay.run(reads, capacity, EvictionPolicy.named(policy, CacheReplay.future(reads)));
  }

  @Test
  void aTraceWorkedByHand() {
    // capacity 3. LRU: A B C miss, A B hit, D evicts C, A B hit, C evicts D, D evicts A: 4 hits.
    // FIFO: A B C miss, A B hit, D evicts A, A evicts B, B evicts C, C evicts D, D evicts A: 2 hits.
    // Belady: D evicts C (read farthest ahead), C evicts B (neither A nor B is read again: ties go by
    // key, the greatest first), D hits: 5 hits.
    List<Read<String>> reads = trace("A B C A B D A B C D");
    assertThat(replay("lru", reads, 3)).isEqualTo(new CacheReplay.Result(4, 6, 6));
    assertThat(replay("fifo", reads, 3)).isEqualTo(new CacheReplay.Result(2, 8, 8));
    assertThat(replay("plan", reads, 3)).isEqualTo(new CacheReplay.Result(5, 5, 5));
  }

  @Test
  void epochsInOneOrderDefeatLruAndFifoButNotThePlan() {
    // a reversed second epoch suits LRU (the 3 read last come first again): both hit 6 times
    List<Read<String>> reads = trace("a b c d e f f e d c b a a b c d e f");
    assertThat(replay("lru", reads, 3).hits()).isEqualTo(6);
    assertThat(replay("plan", reads, 3).hits()).isEqualTo(6);
    // the same order each epoch, cache of half the shards: LRU and FIFO evict each shard just
    // before its turn; the plan keeps half of them from one epoch to the next
    List<Read<String>> repeated = trace("a b c d e f a b c d e f a b c d e f");
    assertThat(replay("lru", repeated, 3).hits()).isZero(); // each evicted just before its turn
    assertThat(replay("fifo", repeated, 3).hits()).isZero();
    assertThat(replay("plan", repeated, 3).hits()).isEqualTo(6);
  }

  @Test
  void thePlanAwarePolicyEqualsTheOfflineOptimumOnRandomTraces() {
    SplittableRandom random = new SplittableRandom(14);
    for (int n = 0; n < 300; n++) {
      int keys = 2 + random.nextInt(4);
      int capacity = 1 + random.nextInt(keys - 1);
      List<Read<String>> reads = new ArrayList<>();
      for (int i = 0, len = 4 + random.nextInt(9); i < len; i++) {
        reads.add(new Read<>(String.valueOf((char) ('a' + random.nextInt(keys))), 1));
      }
      long optimum = optimum(reads, 0, new TreeSet<>(), capacity, new HashMap<>());
      assertThat(replay("plan", reads, capacity).hits()).as("%s, capacity %d", reads, capacity).isEqualTo(optimum);
      assertThat(replay("lru", reads, capacity).hits()).isLessThanOrEqualTo(optimum);
    }
  }

  /** The most hits any eviction choice gives from read {@code t} on, holding {@code held} (exhaustive, memoized). */
  static long optimum(List<Read<String>> reads, int t, TreeSet<String> held, int capacity, Map<String, Long> memo) {
    if (t == reads.size()) {
      return 0;
    }
    String memoKey = t + held.toString();
    Long known = memo.get(memoKey);
    if (known != null) {
      return known;
    }
    String k = reads.get(t).key();
    long best;
    if (held.contains(k)) {
      best = 1 + optimum(reads, t + 1, held, capacity, memo);
    } else if (held.size() < capacity) {
      TreeSet<String> next = new TreeSet<>(held);
      next.add(k);
      best = optimum(reads, t + 1, next, capacity, memo);
    } else {
      best = 0;
      for (String victim : held) {
        TreeSet<String> next = new TreeSet<>(held);
        next.remove(victim);
        next.add(k);
        best = Math.max(best, optimum(reads, t + 1, next, capacity, memo));
      }
    }
    memo.put(memoKey, best);
    return best;
  }

  @Test
  void overShuffledEpochsWithHalfTheDataCachedThePlanHitsTwiceAsOftenAsLru() {
    // 200 equal shards, 3 epochs each in its own seeded random order, a cache of 100
    SplittableRandom random = new SplittableRandom(3);
    List<Read<String>> reads = new ArrayList<>();
    for (int epoch = 0; epoch < 3; epoch++) {
      List<String> order = new ArrayList<>();
      for (int s = 0; s < 200; s++) {
        order.add(String.format("shard-%03d", s));
      }
      for (int i = order.size() - 1; i > 0; i--) {
        java.util.Collections.swap(order, i, random.nextInt(i + 1));
      }
      order.forEach(k -> reads.add(new Read<>(k, 1)));
    }
    double lru = replay("lru", reads, 100).hitRatio();
    double fifo = replay("fifo", reads, 100).hitRatio();
    double plan = replay("plan", reads, 100).hitRatio();
    System.out.printf("hit ratio over 3 shuffled epochs, cache 50 %%: lru %.3f, fifo %.3f, plan %.3f%n", lru, fifo, plan);
    assertThat(plan).isGreaterThanOrEqualTo(2 * lru);
  }

  @Test
  void anEntryLargerThanTheCacheIsReadThroughAndAnUnknownPolicyIsNamed() {
    List<Read<String>> reads = List.of(new Read<>("big", 10), new Read<>("big", 10), new Read<>("s", 1), new Read<>("s", 1));
    assertThat(replay("lru", reads, 5)).isEqualTo(new CacheReplay.Result(1, 3, 21));
    assertThatThrownBy(() -> EvictionPolicy.named("lfu", (k, t) -> 0))
        .hasMessage("eviction policy: lru, fifo or plan, got \"lfu\"");
  }
}
