package dev.conveyor.streams.store.cache;

import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.store.ForwardingShardStore;
import dev.conveyor.streams.store.ShardCheck;
import dev.conveyor.streams.store.ShardReadException;
import dev.conveyor.streams.store.ShardStore;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * One job's view of its node's {@link NodeCache}: reads of the job's shards go through the
 * cache (a whole shard is fetched and kept, and any range of it served from there); anything
 * else — manifests, indexes, cursors — goes straight to the store underneath. Registers the
 * job's plan with the cache when made, unregisters it on close.
 *
 * <p>A shard's identity is its manifest sha256, else its ETag and size (one HEAD per shard and
 * job). Bytes fetched from S3 are checked against the manifest before they are kept or served:
 * a wrong object is never cached. Each read offers the cache the shards the job reads next
 * ({@link NodeCache#prefetch}).
 */
public final class CachingStore extends ForwardingShardStore {
  private final NodeCache cache;
  private final String job;
  private final String tenant;
  private final Map<URI, Integer> shards = new HashMap<>();
  private final java.util.List<URI> byIndex = new java.util.ArrayList<>();
  private final int horizon; // shards looked ahead for prefetch
  private final Map<String, ShardCheck> checks;
  private final Map<URI, CompletableFuture<CacheKey>> keys = new ConcurrentHashMap<>();
  private final Materializer mat;

  /**
   * The cache for job {@code job} of {@code tenant}, reading {@code plan}'s shards at
   * {@code world} ranks for {@code epochs} epochs; {@code checks} are the manifest's, by URI.
   */
  public CachingStore(ShardStore inner, NodeCache cache, String job, String tenant, DataPlan plan, int world,
                      int epochs, Map<String, ShardCheck> checks, Materializer mat) {
    super(inner);
    this.cache = cache;
    this.job = job;
    this.tenant = tenant;
    this.checks = checks;
    this.mat = mat;
    for (int i = 0; i < plan.recipe().shards().size(); i++) {
      shards.put(plan.recipe().shards().uri(i), i);
      byIndex.add(plan.recipe().shards().uri(i));
    }
    this.horizon = PlanReads.slack(plan, world);
    cache.futures().register(job, PlanReads.shards(plan, world, 0, epochs), horizon);
    shards.forEach((uri, i) -> CacheKey.whole(checks.getOrDefault(uri.toString(), ShardCheck.NONE))
        .ifPresent(k -> cache.futures().identify(job, i, k.object())));
  }

  @Override
  public Source<ByteString, NotUsed> read(URI shard) {
    return read(shard, 0, Long.MAX_VALUE);
  }

  @Override
  public Source<ByteString, NotUsed> read(URI shard, long offset, long length) {
    Integer index = shards.get(shard);
    if (index == null || length <= 0) {
      return inner.read(shard, offset, length);
    }
    return Source.completionStageSource(key(shard, index).handle((k, unknown) -> k).thenCompose(k -> {
      if (k == null || k.length() > cache.settings().maxEntryBytes()) { // no identity (the HEAD failed), or too large
        return CompletableFuture.completedFuture(inner.read(shard, offset, length));
      }
      CompletionStage<ByteString> got = cache.read(k, shard, tenant, job, () -> fetch(shard, k));
      prefetchNext();
      return got.thenApply(b -> {
        int from = (int) Math.min(offset, b.size());
        int to = (int) Math.min(b.size(), from + Math.min(length, Integer.MAX_VALUE));
        return Source.single(b.slice(from, to));
      });
    })).mapMaterializedValue(f -> NotUsed.getInstance());
  }

  /** Offers the cache the shards this job reads next, to fetch ahead within its prefetch budget. */
  private void prefetchNext() {
    if (cache.settings().prefetchBytes() <= 0) {
      return;
    }
    for (int index : cache.futures().upcoming(job, horizon)) {
      URI u = byIndex.get(index);
      key(u, index).thenAccept(k -> cache.prefetch(k, u, tenant, job, () -> fetch(u, k))).exceptionally(e -> null);
    }
  }

  /** The shard's cache key: from its manifest check, else from the store's ETag and size (a failed HEAD is asked again). */
  private CompletionStage<CacheKey> key(URI shard, int index) {
    CompletableFuture<CacheKey> k = keys.computeIfAbsent(shard, u -> {
      var fromManifest = CacheKey.whole(checks.getOrDefault(u.toString(), ShardCheck.NONE));
      return fromManifest.isPresent() ? CompletableFuture.completedFuture(fromManifest.get())
          : inner.stat(u).thenApply(CacheKey::whole).toCompletableFuture();
    });
    return k.whenComplete((key, err) -> {
      if (err != null) {
        keys.remove(shard, k);
      } else {
        cache.futures().identify(job, index, key.object());
      }
    });
  }

  /** The whole object from the store underneath, checked against its key before anyone sees it. */
  CompletionStage<ByteString> fetch(URI shard, CacheKey key) {
    return fetch(inner, shard, key, mat);
  }

  /** The whole object {@code shard} from {@code store}, checked against {@code key}. */
  public static CompletionStage<ByteString> fetch(ShardStore store, URI shard, CacheKey key, Materializer mat) {
    return store.read(shard).runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), mat)
        .thenApply(b -> verified(shard, key, b));
  }

  /**
   * {@code bytes} when they are {@code key}'s (its size, and its sha256 when the key is one);
   * otherwise a {@link ShardReadException} saying why.
   */
  public static ByteString verified(URI shard, CacheKey key, ByteString bytes) {
    ByteString b = bytes.compact();
    if (b.size() != key.length()) {
      throw new ShardReadException(shard, "size " + b.size() + " bytes, but its cache identity " + key
          + " says " + key.length() + ": the object changed or the read was cut", null);
    }
    if (key.object().startsWith("sha256:")) {
      ShardCheck check = new ShardCheck(key.length(), key.object().substring("sha256:".length()));
      ShardCheck.Digest d = new ShardCheck.Digest(check);
      d.update(b);
      String bad = d.mismatch(check);
      if (bad != null) {
        throw new ShardReadException(shard, bad, null);
      }
    }
    return b;
  }

  @Override
  public void close() {
    cache.futures().unregister(job);
    inner.close();
  }
}
