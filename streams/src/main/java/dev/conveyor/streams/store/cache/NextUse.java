package dev.conveyor.streams.store.cache;

/**
 * When a key will be read next: the logical time of its first read after {@code time}, or
 * {@link #NEVER}. The plan-aware policy asks it; the data plans of the jobs a cache serves
 * answer it, because a plan is a pure function of its recipe.
 */
@FunctionalInterface
public interface NextUse<K> {
  long NEVER = Long.MAX_VALUE;

  long after(K key, long time);
}
