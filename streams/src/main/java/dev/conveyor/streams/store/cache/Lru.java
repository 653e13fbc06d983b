package dev.conveyor.streams.store.cache;

import java.util.LinkedHashSet;

/** Least recently used first. */
public final class Lru<K> implements EvictionPolicy<K> {
  private final LinkedHashSet<K> order = new LinkedHashSet<>(); // least recent first

  @Override
  public void admitted(K key, long time) {
    order.remove(key);
    order.add(key);
  }

  @Override
  public void accessed(K key, long time) {
    admitted(key, time);
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
