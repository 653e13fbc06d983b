package dev.conveyor.streams.store.cache;

import dev.conveyor.streams.store.ShardReadException;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An entry from its owners, in order: each owner's answer is bounded in time and checked against
 * the entry's key before anyone sees it, whatever {@link CachePeers} answered; an owner that is
 * silent, fails, or answers other bytes is passed over for the next, and counted by why.
 */
final class OwnerFetch {
  private static final Logger LOG = LoggerFactory.getLogger(OwnerFetch.class);

  private final long ownerMillis;
  private final CacheMetrics metrics;

  /** Each owner has {@code ownerMillis} to answer; what is passed over is counted in {@code metrics}. */
  OwnerFetch(long ownerMillis, CacheMetrics metrics) {
    this.ownerMillis = ownerMillis;
    this.metrics = metrics;
  }

  /**
   * {@code key} from the first of {@code owners} that answers its bytes within the time, else
   * {@code otherwise}: an owner is passed over when it does not answer in time ({@code timeout}),
   * fails ({@code failed}), or answers bytes that are not the key's ({@code size}: another length;
   * {@code corrupt}: another sha256 under a manifest key). Those bytes are never kept or served.
   */
  CompletionStage<ByteString> fetch(CachePeers peers, List<String> owners, CacheKey key, URI uri, String tenant,
                                    String job, Supplier<CompletionStage<ByteString>> otherwise) {
    return from(peers, owners, 0, key, uri, tenant, job, otherwise);
  }

  private CompletionStage<ByteString> from(CachePeers peers, List<String> owners, int i, CacheKey key, URI uri,
                                           String tenant, String job, Supplier<CompletionStage<ByteString>> otherwise) {
    if (i >= owners.size()) {
      return otherwise.get();
    }
    return peers.fetch(owners.get(i), key, uri, tenant, job).toCompletableFuture()
        .orTimeout(ownerMillis, TimeUnit.MILLISECONDS)
        .thenApply(b -> {
          checked(key, uri, b);
          metrics.of(tenant).bytesFromPeers.add(b.size());
          return b;
        })
        .exceptionallyCompose(e -> {
          Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
          String why = cause instanceof Refused r ? r.why : cause instanceof TimeoutException ? "timeout" : "failed";
          metrics.peerRefused(why);
          LOG.info("cache owner {} of {} passed over ({}: {}); next", owners.get(i), key, why, cause.getMessage());
          return from(peers, owners, i + 1, key, uri, tenant, job, otherwise);
        });
  }

  private static void checked(CacheKey key, URI uri, ByteString b) {
    if (b.size() != key.length()) {
      throw new Refused("size", b.size() + " bytes, not " + key.length());
    }
    try {
      CachingStore.verified(uri, key, b);
    } catch (ShardReadException e) {
      throw new Refused("corrupt", e.getMessage());
    }
  }

  /** An owner's answer that is not the entry: {@code why} is {@code size} or {@code corrupt}. */
  private static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String why;

    Refused(String why, String message) {
      super(message, null, false, false);
      this.why = why;
    }
  }
}
