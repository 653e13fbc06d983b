package dev.conveyor.streams.store.cache;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * What a node's cache holds and whose it is: entries with their sizes and tenants, the bytes
 * used against the budget and each tenant's quota, and the eviction policies — one over all
 * entries and one per tenant. A tenant at its quota gives up its own entries (by its policy) for
 * new ones; a full cache gives up the entries of the tenant most over its quota first, else
 * whatever the policy picks over all of them. Not thread-safe: {@link NodeCache} holds its lock
 * around every call.
 */
final class CacheIndex {
  /** An entry: its bytes, the tenant they count against, and whether its file is written yet. */
  record Entry(long bytes, String tenant, boolean present) {}

  private final long capacity;
  private final Map<String, Long> quotas;
  private final String policyName;
  private final NextUse<CacheKey> future;
  private final Consumer<Map.Entry<CacheKey, Entry>> evicted; // told of each entry given up for room
  private final Map<CacheKey, Entry> entries = new HashMap<>();
  private final Map<String, Long> usedBy = new HashMap<>();
  private final Map<String, EvictionPolicy<CacheKey>> tenantPolicies = new HashMap<>();
  private final EvictionPolicy<CacheKey> policy;
  private long used;

  CacheIndex(long capacity, Map<String, Long> quotas, String policy, NextUse<CacheKey> future,
             Consumer<Map.Entry<CacheKey, Entry>> evicted) {
    this.capacity = capacity;
    this.quotas = quotas;
    this.policyName = policy;
    this.future = future;
    this.evicted = evicted;
    this.policy = EvictionPolicy.named(policy, future);
  }

  Entry get(CacheKey key) {
    return entries.get(key);
  }

  boolean present(CacheKey key) {
    Entry e = entries.get(key);
    return e != null && e.present();
  }

  int size() {
    return entries.size();
  }

  long used() {
    return used;
  }

  Map<String, Long> usedByTenant() {
    return new TreeMap<>(usedBy);
  }

  /** {@code key}, held, was read at {@code time}. */
  void accessed(CacheKey key, long time) {
    policy.accessed(key, time);
    tenantPolicy(entries.get(key).tenant()).accessed(key, time);
  }

  /**
   * Makes room for {@code bytes} of {@code tenant}'s under {@code key} and accounts them (its
   * file not written yet, unless {@code present}); false when they cannot fit at all.
   */
  boolean reserve(CacheKey key, long bytes, String tenant, boolean present, long time) {
    long quota = quota(tenant);
    if (bytes > quota || bytes > capacity) {
      return false;
    }
    while (usedBy.getOrDefault(tenant, 0L) + bytes > quota) {
      evict(tenantPolicy(tenant).victim(time));
    }
    while (used + bytes > capacity) {
      String over = mostOverQuota();
      evict(over != null ? tenantPolicy(over).victim(time) : policy.victim(time));
    }
    entries.put(key, new Entry(bytes, tenant, present));
    used += bytes;
    usedBy.merge(tenant, bytes, Long::sum);
    policy.admitted(key, time);
    tenantPolicy(tenant).admitted(key, time);
    return true;
  }

  /** {@code key}'s file is written. */
  void written(CacheKey key) {
    Entry e = entries.get(key);
    entries.put(key, new Entry(e.bytes(), e.tenant(), true));
  }

  /** Drops {@code key} from the accounts; returns what it was (null: not held). */
  Entry forget(CacheKey key) {
    Entry e = entries.remove(key);
    if (e != null) {
      used -= e.bytes();
      usedBy.merge(e.tenant(), -e.bytes(), Long::sum);
      policy.removed(key);
      tenantPolicy(e.tenant()).removed(key);
    }
    return e;
  }

  /** Whether there is room for {@code bytes} without giving anything up. */
  boolean fits(long bytes) {
    return used + bytes <= capacity;
  }

  /**
   * Whether the entry the plan policy would give up now is read later than {@code key} (only the
   * plan knows; with LRU or FIFO, never).
   */
  boolean worthAVictim(CacheKey key, long time) {
    if (!(policy instanceof PlanAware<CacheKey>) || entries.isEmpty()) {
      return false;
    }
    return future.after(key, time) < future.after(policy.victim(time), time);
  }

  private long quota(String tenant) {
    return quotas.getOrDefault(tenant, capacity);
  }

  private String mostOverQuota() {
    String worst = null;
    long by = 0;
    for (Map.Entry<String, Long> u : usedBy.entrySet()) {
      long over = u.getValue() - quota(u.getKey());
      if (over > by || (over == by && over > 0 && u.getKey().compareTo(worst) < 0)) {
        worst = u.getKey();
        by = over;
      }
    }
    return worst;
  }

  private void evict(CacheKey victim) {
    Entry e = forget(victim);
    evicted.accept(Map.entry(victim, e));
  }

  private EvictionPolicy<CacheKey> tenantPolicy(String tenant) {
    return tenantPolicies.computeIfAbsent(tenant, t -> EvictionPolicy.named(policyName, future));
  }
}
