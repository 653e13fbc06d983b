package dev.conveyor.streams.store.cache;

/**
 * Which entry a cache gives up when it needs room. The cache tells the policy what it holds —
 * each entry admitted, each hit, each removal — at logical times that only grow (the position
 * of the access in the cache's stream of reads), and asks it for a victim. Single-threaded:
 * the cache serializes its calls.
 *
 * @param <K> the entries' keys
 */
public sealed interface EvictionPolicy<K> permits OrderPolicy, PlanAware {
  /** {@code key} was stored at {@code time}. */
  void admitted(K key, long time);

  /** {@code key}, already held, was read at {@code time}. */
  void accessed(K key, long time);

  /** {@code key} left the cache (evicted, found corrupt, or dropped). */
  void removed(K key);

  /** The entry to give up at {@code time}; the cache holds at least one. */
  K victim(long time);

  /** The policy named {@code name} (lru, fifo or plan; plan needs {@code future}). */
  static <K extends Comparable<K>> EvictionPolicy<K> named(String name, NextUse<K> future) {
    return switch (name) {
      case "lru" -> OrderPolicy.lru();
      case "fifo" -> OrderPolicy.fifo();
      case "plan" -> new PlanAware<>(future);
      default -> throw new IllegalArgumentException("eviction policy: lru, fifo or plan, got \"" + name + "\"");
    };
  }
}
