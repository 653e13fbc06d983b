package dev.conveyor.streams.store.cache;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * A cache's counters, per tenant: reads served from this node's disk (hits), reads that were
 * not (misses), bytes fetched from S3 and from peer nodes, entries evicted, entries found
 * corrupt; and for the node, S3 fetches the limiter made wait, and owners passed over by why.
 */
public final class CacheMetrics {
  private final Map<String, Counters> tenants = new ConcurrentHashMap<>();
  private final LongAdder limited = new LongAdder();
  private final LongAdder s3Gets = new LongAdder();
  private final Map<String, LongAdder> peerRefused = new ConcurrentHashMap<>();

  /** One tenant's counters. */
  public static final class Counters {
    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder bytesFromS3 = new LongAdder();
    final LongAdder bytesFromPeers = new LongAdder();
    final LongAdder evictions = new LongAdder();
    final LongAdder corrupt = new LongAdder();

    Snapshot snapshot() {
      return new Snapshot(hits.sum(), misses.sum(), bytesFromS3.sum(), bytesFromPeers.sum(), evictions.sum(),
          corrupt.sum());
    }
  }

  /** A tenant's counters at one moment. */
  public record Snapshot(long hits, long misses, long bytesFromS3, long bytesFromPeers, long evictions, long corrupt) {
    public double hitRatio() {
      return hits + misses == 0 ? 0 : (double) hits / (hits + misses);
    }
  }

  Counters of(String tenant) {
    return tenants.computeIfAbsent(tenant, t -> new Counters());
  }

  void limited() {
    limited.increment();
  }

  void s3Get() {
    s3Gets.increment();
  }

  void peerRefused(String cause) {
    peerRefused.computeIfAbsent(cause, c -> new LongAdder()).increment();
  }

  /**
   * Owners of an entry this node asked and passed over, by why: {@code timeout} (no answer within
   * the peer fetch time), {@code failed} (gone, or it said it could not), {@code size} or
   * {@code corrupt} (bytes that are not the entry's).
   */
  public Map<String, Long> peerRefusals() {
    Map<String, Long> out = new TreeMap<>();
    peerRefused.forEach((c, n) -> out.put(c, n.sum()));
    return out;
  }

  /** Every tenant's counters, by name. */
  public Map<String, Snapshot> byTenant() {
    Map<String, Snapshot> out = new TreeMap<>();
    tenants.forEach((t, c) -> out.put(t, c.snapshot()));
    return out;
  }

  /** S3 fetches this node's cache made (whole objects). */
  public long s3Gets() {
    return s3Gets.sum();
  }

  /** S3 fetches that waited for the limiter. */
  public long limitedFetches() {
    return limited.sum();
  }
}
