package dev.conveyor.streams.store.cache;

import java.util.LinkedHashSet;

/** First stored, first given up, whatever was read since. */
public final class Fifo<K> implements EvictionPolicy<K> {
  private final LinkedHashSet<K> order = new LinkedHashSet<>(); // oldest first

  @Override
  public void admitted(K key, long time) {
    order.add(key);
  }

  @Override
  public void accessed(K key, long time) {}

  @Override
  public void removed(K key) {
    order.remove(key);
  }

  @Override
  public K victim(long time) {
    return order.iterator().next();
  }
}
