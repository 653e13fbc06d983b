package dev.conveyor.streams.store.cache;

import java.util.LinkedHashSet;

/**
 * The policies that give up entries in an order of arrival: {@link #fifo()}, first stored first
 * gone whatever was read since, and {@link #lru()}, where a read moves the entry to the back —
 * least recently used first.
 */
public final class OrderPolicy<K> implements EvictionPolicy<K> {
  private final boolean readsMoveToBack;
  private final LinkedHashSet<K> order = new LinkedHashSet<>(); // the next victim first

  private OrderPolicy(boolean readsMoveToBack) {
    this.readsMoveToBack = readsMoveToBack;
  }

  /** Least recently used first. */
  public static <K> OrderPolicy<K> lru() {
    return new OrderPolicy<>(true);
  }

  /** First stored, first given up. */
  public static <K> OrderPolicy<K> fifo() {
    return new OrderPolicy<>(false);
  }

  @Override
  public void admitted(K key, long time) {
    order.remove(key);
    order.add(key);
  }

  @Override
  public void accessed(K key, long time) {
    if (readsMoveToBack) {
      admitted(key, time);
    }
  }

  @Override
  public void removed(K key) {
    order.remove(key);
  }

  @Override
  public K victim(long time) {
    return order.iterator().next();
  }
}
