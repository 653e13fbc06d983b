package dev.conveyor.streams.store.cache;

import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's shard cache, shared by every job and tenant on the node: whole objects kept on the
 * local disk ({@link DiskTier}) within a byte budget, named by content ({@link CacheKey}), given
 * up by a policy ({@code lru}, {@code fifo}, or {@code plan}: farthest next use first, from the
 * registered jobs' plans). With a cluster tier ({@link CachePeers}), an entry lives on its
 * owners only: another node asks them for it, and falls back to S3 when none answers.
 *
 * <p>Misses of one entry share one fetch. Fetches from S3 pass a {@link FetchLimiter}. What is
 * held, and what goes for room (by policy and tenants' quotas), is the {@link CacheIndex}'s.
 */
public final class NodeCache implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeCache.class);
  static final String UNCLAIMED = ""; // entries found on disk at start, read by no tenant since

  /**
   * @param capacity       bytes the entries may take on disk
   * @param policy         lru, fifo or plan
   * @param quotas         bytes per tenant; a tenant not named may take the whole capacity
   * @param maxEntryBytes  objects larger than this are read through, not kept
   * @param s3GetsPerSecond fetches from S3 per second at most (0: no limit)
   * @param perObjectMillis the same object fetched from S3 at most once per this (0: no limit)
   * @param prefetchBytes  bytes of entries fetched ahead of the plans and not read yet, at most (0: no prefetch)
   * @param peerFetchMillis the most a fetch from one owner may take before the next owner is asked
   */
  public record Settings(long capacity, String policy, Map<String, Long> quotas, long maxEntryBytes,
                         double s3GetsPerSecond, long perObjectMillis, long prefetchBytes, long peerFetchMillis) {
    public Settings {
      quotas = Map.copyOf(quotas);
    }
  }

  private final DiskTier disk;
  private final Settings settings;
  private final Optional<CachePeers> peers;
  private final PlanFutures futures = new PlanFutures();
  private final CacheMetrics metrics = new CacheMetrics();
  private final OwnerFetch ownerFetch;
  private final ExecutorService io = Executors.newFixedThreadPool(4, daemon("conveyor-cache-io"));
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(daemon("conveyor-cache-timer"));
  private final FetchLimiter limiter;
  // guarded by this:
  private final CacheIndex index;
  private final Map<CacheKey, CompletableFuture<ByteString>> inFlight = new HashMap<>();
  private final Map<CacheKey, Long> ahead = new HashMap<>(); // fetched ahead, not read since
  private long aheadBytes;
  private long time;

  public NodeCache(DiskTier disk, Settings settings, Optional<CachePeers> peers) {
    this.disk = disk;
    this.settings = settings;
    this.peers = peers;
    this.ownerFetch = new OwnerFetch(settings.peerFetchMillis(), metrics);
    this.limiter = new FetchLimiter(settings.s3GetsPerSecond(), settings.perObjectMillis(), timer);
    this.index = new CacheIndex(settings.capacity(), settings.quotas(), settings.policy(), futures, gone -> {
      metrics.of(gone.getValue().tenant()).evictions.increment();
      dropped(gone.getKey(), gone.getValue());
    });
    List<DiskTier.Found> found = disk.scan();
    synchronized (this) {
      for (DiskTier.Found f : found) {
        if (!index.reserve(f.key(), f.bytes(), UNCLAIMED, true, time)) {
          disk.delete(f.key());
        }
      }
      if (!found.isEmpty()) {
        LOG.info("shard cache in {}: {} entries kept from before, {} bytes of {}", disk.dir(), index.size(),
            index.used(), settings.capacity());
      }
    }
  }

  /** The jobs' next reads, for the plan policy: jobs register and report here. */
  public PlanFutures futures() {
    return futures;
  }

  public CacheMetrics metrics() {
    return metrics;
  }

  public Settings settings() {
    return settings;
  }

  /** Bytes held now, by tenant. */
  public synchronized Map<String, Long> usedByTenant() {
    return index.usedByTenant();
  }

  /** Whether no fetch or write is under way (everything read so far is kept or dropped). */
  public synchronized boolean settled() {
    return inFlight.isEmpty();
  }

  public synchronized boolean holds(CacheKey key) {
    return index.present(key);
  }

  /**
   * {@code key}'s bytes for a reader of {@code job} on this node: from this node's disk when it
   * owns the entry (fetching it on a miss from another owner, else S3 through {@code fromS3});
   * from its owners otherwise, with S3 the last resort.
   */
  public CompletionStage<ByteString> read(CacheKey key, URI uri, String tenant, String job,
                                          Supplier<CompletionStage<ByteString>> fromS3) {
    futures.read(job, key.object());
    return get(key, uri, tenant, job, fromS3, true);
  }

  /**
   * Takes a copy of {@code key} as one of its replicas, from the primary (S3 when it is gone);
   * not counted as a read.
   */
  public void replicate(CacheKey key, URI uri, String tenant, String job, Supplier<CompletionStage<ByteString>> fromS3) {
    get(key, uri, tenant, job, fromS3, false);
  }

  private CompletionStage<ByteString> get(CacheKey key, URI uri, String tenant, String job,
                                          Supplier<CompletionStage<ByteString>> fromS3, boolean counted) {
    if (peers.isEmpty()) {
      return owned(key, tenant, () -> fromS3Replicated(key, uri, tenant, job, fromS3), counted);
    }
    CachePeers p = peers.get();
    List<String> owners = p.owners(key);
    int self = owners.indexOf(p.self());
    if (self >= 0) {
      List<String> before = owners.subList(0, self); // a replica asks the primary first
      return owned(key, tenant, () -> ownerFetch.fetch(p, before, key, uri, tenant, job,
          () -> fromS3Replicated(key, uri, tenant, job, fromS3)), counted);
    }
    return ownerFetch.fetch(p, owners, key, uri, tenant, job, () -> {
      if (counted) {
        metrics.of(tenant).misses.increment(); // no owner answered
      }
      return fromS3Limited(key, tenant, fromS3);
    });
  }

  /** {@code key}'s bytes for another node that counts this one an owner: this node's disk, else S3. */
  public CompletionStage<ByteString> serve(CacheKey key, URI uri, String tenant, String job,
                                           Supplier<CompletionStage<ByteString>> fromS3) {
    futures.read(job, key.object());
    return owned(key, tenant, () -> fromS3Replicated(key, uri, tenant, job, fromS3), true);
  }

  /**
   * {@code key} from S3 through the limiter; once it arrives, the owners after this node (its
   * replicas, when this is the primary) are told to take their copies.
   */
  private CompletionStage<ByteString> fromS3Replicated(CacheKey key, URI uri, String tenant, String job,
                                                       Supplier<CompletionStage<ByteString>> fromS3) {
    List<String> replicas = List.of();
    if (peers.isPresent()) {
      List<String> owners = peers.get().owners(key);
      int self = owners.indexOf(peers.get().self());
      replicas = self >= 0 ? owners.subList(self + 1, owners.size()) : List.of();
    }
    List<String> after = replicas;
    return fromS3Limited(key, tenant, fromS3).thenApply(b -> {
      after.forEach(r -> peers.get().replicate(r, key, uri, tenant, job));
      return b;
    });
  }

  private CompletionStage<ByteString> fromS3Limited(CacheKey key, String tenant, Supplier<CompletionStage<ByteString>> fromS3) {
    return limiter.permit(key.object()).thenCompose(waited -> {
      if (waited) {
        metrics.limited();
      }
      metrics.s3Get();
      return fromS3.get();
    }).thenApply(b -> {
      metrics.of(tenant).bytesFromS3.add(b.size());
      return b;
    });
  }

  /** An entry this node keeps: from disk, or fetched by {@code fetch} (once, whoever asks) and kept. */
  private CompletionStage<ByteString> owned(CacheKey key, String tenant, Supplier<CompletionStage<ByteString>> fetch,
                                            boolean counted) {
    CompletableFuture<ByteString> mine;
    synchronized (this) {
      time++;
      if (counted) {
        readAhead(key);
      }
      if (index.present(key)) {
        index.accessed(key, time);
        return CompletableFuture.supplyAsync(() -> disk.read(key), io).thenCompose(l -> {
          if (l.ok()) {
            if (counted) {
              metrics.of(tenant).hits.increment();
            }
            return CompletableFuture.completedFuture(l.bytes());
          }
          if (!"missing".equals(l.problem())) { // missing: evicted since this read began
            LOG.warn("shard cache entry {} dropped and fetched again: {}", key, l.problem());
          }
          dropCorrupt(key, tenant);
          return owned(key, tenant, fetch, counted);
        });
      }
      CompletableFuture<ByteString> running = inFlight.get(key);
      if (running != null) {
        if (counted) {
          metrics.of(tenant).hits.increment(); // shares a fetch another read started
        }
        return running;
      }
      if (counted) {
        metrics.of(tenant).misses.increment();
      }
      mine = new CompletableFuture<>();
      inFlight.put(key, mine);
    }
    fetch.get().whenComplete((bytes, err) -> {
      if (err != null) {
        synchronized (this) {
          inFlight.remove(key);
        }
        mine.completeExceptionally(err);
        return;
      }
      mine.complete(bytes);
      keep(key, tenant, bytes, mine);
    });
    return mine;
  }

  /** Stores fetched bytes when the budget allows, off the reader's thread; the fetch stays shared until then. */
  private void keep(CacheKey key, String tenant, ByteString bytes, CompletableFuture<ByteString> fetch) {
    boolean room;
    synchronized (this) {
      room = bytes.size() == key.length() && bytes.size() <= settings.maxEntryBytes()
          && index.get(key) == null && index.reserve(key, bytes.size(), tenant, false, time);
      if (!room) {
        inFlight.remove(key, fetch);
      }
    }
    if (!room) {
      return;
    }
    io.execute(() -> {
      boolean written;
      try {
        disk.write(key, bytes);
        written = true;
      } catch (java.io.IOException e) {
        LOG.warn("shard cache entry {} not kept: {}", key, e.toString());
        written = false;
      }
      synchronized (this) {
        inFlight.remove(key, fetch);
        CacheIndex.Entry e = index.get(key);
        if (e != null && !e.present()) {
          if (written) {
            index.written(key);
          } else {
            dropped(key, index.forget(key));
          }
        } else if (e == null && written) {
          disk.delete(key); // evicted while it was written
        }
      }
    });
  }

  /** {@code key}, if it was fetched ahead, no longer counts against the prefetch budget. */
  private void readAhead(CacheKey key) {
    Long b = ahead.remove(key);
    if (b != null) {
      aheadBytes -= b;
    }
  }

  /**
   * Fetches {@code key} ahead of its first read when this node is its primary owner, it is
   * neither held nor on its way, the prefetch budget has room for it, the S3 limiter has no
   * fetch waiting (demand comes first) and keeping it gives up no entry needed sooner.
   */
  public void prefetch(CacheKey key, URI uri, String tenant, String job, Supplier<CompletionStage<ByteString>> fromS3) {
    if (peers.isPresent() && !peers.get().owners(key).get(0).equals(peers.get().self())) {
      return;
    }
    synchronized (this) {
      if (index.get(key) != null || inFlight.containsKey(key) || key.length() > settings.maxEntryBytes()
          || aheadBytes + key.length() > settings.prefetchBytes() || !limiter.idle()
          || !index.fits(key.length()) && !index.worthAVictim(key, time)) {
        return;
      }
      ahead.put(key, key.length());
      aheadBytes += key.length();
    }
    owned(key, tenant, () -> fromS3Replicated(key, uri, tenant, job, fromS3), false)
        .whenComplete((b, err) -> {
          if (err != null) {
            synchronized (this) {
              readAhead(key);
            }
          }
        });
  }

  private synchronized void dropCorrupt(CacheKey key, String tenant) {
    CacheIndex.Entry e = index.forget(key);
    if (e != null) {
      dropped(key, e);
      metrics.of(tenant).corrupt.increment();
    }
  }

  /** An entry left the index: its file goes, and it no longer counts as fetched ahead. */
  private void dropped(CacheKey key, CacheIndex.Entry e) {
    readAhead(key);
    if (e != null && e.present()) {
      disk.delete(key);
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public void close() {
    io.shutdown();
    timer.shutdownNow();
  }
}
