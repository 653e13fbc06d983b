package dev.conveyor.streams.store.cache;

import java.util.HashSet;
import java.util.Set;

/**
 * Belady's MIN from the plans: the entry whose next read is farthest away goes first — entries
 * that no job will read again before any other. Ties go by key (the greatest first), so two
 * caches given the same reads evict the same entries. Next reads are asked of {@link NextUse}
 * when a victim is chosen, so they are measured from the jobs' positions then, however far
 * each job has come since the entry was stored (O(entries) per eviction).
 */
public final class PlanAware<K extends Comparable<K>> implements EvictionPolicy<K> {
  private final NextUse<K> future;
  private final Set<K> held = new HashSet<>();

  public PlanAware(NextUse<K> future) {
    this.future = future;
  }

  @Override
  public void admitted(K key, long time) {
    held.add(key);
  }

  @Override
  public void accessed(K key, long time) {
    // the next read is asked for when it matters
  }

  @Override
  public void removed(K key) {
    held.remove(key);
  }

  @Override
  public K victim(long time) {
    K best = null;
    long farthest = Long.MIN_VALUE;
    for (K k : held) {
      long next = future.after(k, time);
      if (next > farthest || (next == farthest && k.compareTo(best) > 0)) {
        best = k;
        farthest = next;
      }
    }
    return best;
  }
}
