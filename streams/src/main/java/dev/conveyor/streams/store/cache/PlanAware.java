package dev.conveyor.streams.store.cache;

import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * Belady's MIN from the plans: the entry whose next read is farthest away goes first — entries
 * that no job will read again before any other. Ties go by key (the greatest first), so two
 * caches given the same reads evict the same entries. An entry's next read is asked of
 * {@link NextUse} when it is stored and each time it is read.
 */
public final class PlanAware<K extends Comparable<K>> implements EvictionPolicy<K> {
  private record Entry<K>(long next, K key) {}

  private final NextUse<K> future;
  private final Map<K, Entry<K>> entries = new HashMap<>();
  private final TreeSet<Entry<K>> byNextUse = new TreeSet<>(
      Comparator.<Entry<K>>comparingLong(Entry::next).thenComparing(Entry::key));

  public PlanAware(NextUse<K> future) {
    this.future = future;
  }

  @Override
  public void admitted(K key, long time) {
    removed(key);
    Entry<K> e = new Entry<>(future.after(key, time), key);
    entries.put(key, e);
    byNextUse.add(e);
  }

  @Override
  public void accessed(K key, long time) {
    admitted(key, time);
  }

  @Override
  public void removed(K key) {
    Entry<K> e = entries.remove(key);
    if (e != null) {
      byNextUse.remove(e);
    }
  }

  @Override
  public K victim(long time) {
    return byNextUse.last().key();
  }
}
