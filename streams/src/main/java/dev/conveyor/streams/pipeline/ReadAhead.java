package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.store.ForwardingShardStore;
import dev.conveyor.streams.store.ShardCheck;
import dev.conveyor.streams.store.ShardReadException;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.streams.store.Verified;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * A rank's shards fetched ahead of its readers, in the order the plan will read them, within
 * a byte budget — so that at steady state a reader opening a shard finds it already here.
 *
 * <p>A shard whose manifest size fits the budget is fetched whole and checked (size, sha256)
 * before any of its bytes goes on; on a mismatch it is fetched once more (a transfer error
 * heals, a wrong object does not), then the read fails with the reason and the readers turn
 * the shard's samples into dead letters. A shard that does not fit, or has no manifest size,
 * or is opened before its turn came, streams straight from the store, checked as it streams.
 *
 * <p>Budget: the shards fetched or being fetched ahead, plus those being read from memory,
 * never hold more than {@code budget} bytes. A ShardStore to the readers; one per
 * materialized rank segment.
 */
public final class ReadAhead extends ForwardingShardStore {
  private final Map<String, ShardCheck> checks;
  private final long budget;
  private final Materializer mat;
  private final List<Entry> entries = new ArrayList<>();
  private final Map<URI, ArrayDeque<Entry>> untaken = new HashMap<>(); // by shard, in plan order; guarded by this
  private long held; // bytes of the budget in use; guarded by this
  private int next; // the next entry to consider fetching; guarded by this
  private boolean closed;

  /** One planned read of one shard. */
  private static final class Entry {
    final URI uri;
    final ShardCheck check;
    CompletableFuture<List<ByteString>> bytes; // null until fetching starts
    boolean taken;
    boolean counted; // its bytes are in `held`

    Entry(URI uri, ShardCheck check) {
      this.uri = uri;
      this.check = check;
    }
  }

  /**
   * Fetches {@code order} ahead through {@code inner} within {@code budget} bytes; {@code checks}
   * (by shard URI) give sizes and digests. Starts fetching at once.
   */
  public ReadAhead(ShardStore inner, List<URI> order, Map<String, ShardCheck> checks, long budget, Materializer mat) {
    super(inner);
    this.checks = checks;
    this.budget = budget;
    this.mat = mat;
    for (URI u : order) {
      Entry e = new Entry(u, checks.getOrDefault(u.toString(), ShardCheck.NONE));
      entries.add(e);
      untaken.computeIfAbsent(u, k -> new ArrayDeque<>()).add(e);
    }
    fill();
  }

  /** Starts fetching the next entries in order while the budget has room for them. */
  private void fill() {
    List<Entry> start = new ArrayList<>();
    synchronized (this) {
      while (!closed && next < entries.size()) {
        Entry e = entries.get(next);
        if (e.taken) {
          next++;
          continue;
        }
        long size = e.check.bytes();
        if (size < 0 || size > budget) {
          next++; // cannot be held whole: it streams when its turn comes
          continue;
        }
        if (held + size > budget) {
          break;
        }
        held += size;
        e.counted = true;
        e.bytes = new CompletableFuture<>();
        start.add(e);
        next++;
      }
    }
    for (Entry e : start) {
      inner.metrics().readAhead(e.check.bytes(), 1);
      fetch(e, true).whenComplete((chunks, err) -> {
        if (err != null) {
          e.bytes.completeExceptionally(err);
        } else {
          e.bytes.complete(chunks);
        }
      });
    }
  }

  /** The whole shard in memory, checked; {@code again}: one more fetch is allowed on a mismatch. */
  private CompletionStage<List<ByteString>> fetch(Entry e, boolean again) {
    ShardCheck.Digest digest = new ShardCheck.Digest(e.check);
    return inner.read(e.uri)
        .runWith(Sink.fold(new ArrayList<ByteString>(), (acc, b) -> {
          digest.update(b);
          acc.add(b);
          return acc;
        }), mat)
        .thenCompose(chunks -> {
          String wrong = digest.mismatch(e.check);
          if (wrong == null) {
            return CompletableFuture.completedFuture(chunks);
          }
          if (again) {
            return fetch(e, false);
          }
          inner.metrics().integrityFailure();
          return CompletableFuture.failedFuture(
              new ShardReadException(e.uri, "does not match its manifest, read twice: " + wrong, null));
        });
  }

  @Override
  public Source<ByteString, NotUsed> read(URI shard) {
    Entry found = null;
    synchronized (this) {
      ArrayDeque<Entry> q = untaken.get(shard);
      if (q != null && !q.isEmpty()) {
        found = q.poll();
        found.taken = true;
      }
    }
    inner.metrics().shardOpened(found != null && found.bytes != null && found.bytes.isDone());
    if (found == null || found.bytes == null) { // not planned, not fetched yet, or too large to hold
      ShardCheck check = found != null ? found.check : checks.getOrDefault(shard.toString(), ShardCheck.NONE);
      return inner.read(shard).via(Verified.flow(shard, check, inner.metrics()));
    }
    Entry e = found;
    return Source.completionStageSource(e.bytes.<Source<ByteString, NotUsed>>thenApply(Source::from)
            .exceptionally(t -> Source.failed(t instanceof CompletionException && t.getCause() != null ? t.getCause() : t)))
        .watchTermination((m, done) -> {
          done.whenComplete((ok, err) -> release(e));
          return NotUsed.getInstance();
        });
  }

  private void release(Entry e) {
    synchronized (this) {
      if (!e.counted) {
        return;
      }
      e.counted = false;
      held -= e.check.bytes();
      e.bytes = CompletableFuture.failedFuture(new IllegalStateException("released")); // drop the chunks
    }
    inner.metrics().readAhead(-e.check.bytes(), -1);
    fill();
  }

  /** Stops fetching ahead and gives back what was fetched and never read. The inner store stays open. */
  @Override
  public void close() {
    List<Entry> unread = new ArrayList<>();
    synchronized (this) {
      closed = true;
      for (Entry e : entries) {
        if (e.counted && !e.taken) {
          unread.add(e);
        }
      }
    }
    for (Entry e : unread) {
      e.bytes.whenComplete((c, t) -> release(e));
    }
  }
}
