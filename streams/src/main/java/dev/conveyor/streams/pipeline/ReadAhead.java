package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.sample.ShardSamples;
import dev.conveyor.streams.store.CheckedRange;
import dev.conveyor.streams.store.ForwardingShardStore;
import dev.conveyor.streams.store.RangeDigest;
import dev.conveyor.streams.store.ReaderMetrics;
import dev.conveyor.streams.store.ShardCheck;
import dev.conveyor.streams.store.ShardIndex;
import dev.conveyor.streams.store.ShardReadException;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.streams.store.Verified;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A rank's shard pieces fetched ahead of its readers, in the order the plan will read them,
 * within a byte budget — so that at steady state a reader opening a piece finds it already
 * here.
 *
 * <p>A piece is a whole shard, or — when the manifest says the shard has an index
 * ({@link ShardIndex}) and the piece is only part of it — just the bytes of the piece's
 * samples: so a shard split between ranks is read once per epoch, not once per rank. The index
 * is fetched first (once per shard); one that is missing, unreadable or does not match the
 * manifest is logged and the piece read whole.
 *
 * <p>A piece that fits the budget is fetched whole and checked (a shard: size and sha256; a
 * range: each sample's CRC32C) before any of its bytes goes on; on a mismatch it is fetched
 * once more (a transfer error heals, a wrong object does not), then the read fails with the
 * reason and the readers turn the piece's samples into dead letters. A piece that does not
 * fit, or has no manifest size, or is opened before its turn came, streams straight from the
 * store, checked as it streams: a range sample by sample, read again from a sample that does
 * not match ({@link CheckedRange}); a whole shard without an index against its size and sha256
 * when it ends (the samples before its last chunk have gone on by then).
 *
 * <p>Budget: the pieces fetched or being fetched ahead, plus those being read from memory,
 * never hold more than {@code budget} bytes. One per materialized rank segment or slice.
 */
public final class ReadAhead extends ForwardingShardStore implements Pieces {
  private static final Logger LOG = LoggerFactory.getLogger(ReadAhead.class);
  private static final int WHOLE = -1; // a piece's `to` when it is a whole shard named by URI alone
  private static final int INDEX_READS = 3; // reads of an index that cannot be parsed before the shard is read whole

  private final Map<String, ShardCheck> checks;
  private final long budget;
  private final Materializer mat;
  private final List<Entry> entries = new ArrayList<>();
  private final Map<Key, ArrayDeque<Entry>> untaken = new HashMap<>(); // by piece, in plan order; guarded by this
  private final Map<URI, CompletableFuture<Optional<ShardIndex>>> indexes = new HashMap<>(); // guarded by this
  private long held; // bytes of the budget in use; guarded by this
  private int next; // the next entry to consider fetching; guarded by this
  private boolean closed;

  /**
   * A planned piece: the plan's samples {@code [from, to)} of a shard of {@code samples}, which
   * are the shard's samples {@code chosen[from..to)} (null: the same numbers) when a catalog's
   * query chose them.
   */
  public record PlannedPiece(URI shard, int from, int to, int samples, int[] chosen) {}

  private record Key(URI shard, int from, int to) {}

  /** One planned read of one piece. */
  private static final class Entry {
    final Key key;
    final ShardCheck check;
    final CompletableFuture<Optional<List<ShardIndex.Range>>> how; // its ranges, or empty: the whole shard; never fails
    CompletableFuture<List<ByteString>> bytes; // null until fetching starts
    boolean taken;
    boolean waiting; // fill() runs again when `how` is known
    long counted = -1; // its bytes in `held`, -1: none

    Entry(Key key, ShardCheck check, CompletableFuture<Optional<List<ShardIndex.Range>>> how) {
      this.key = key;
      this.check = check;
      this.how = how;
    }

    long size() {
      return how.join().map(runs -> runs.stream().mapToLong(ShardIndex.Range::length).sum()).orElse(check.bytes());
    }
  }

  /**
   * Fetches whole shards {@code order} ahead through {@code inner} within {@code budget} bytes;
   * {@code checks} (by shard URI) give sizes and digests. Starts fetching at once.
   */
  public ReadAhead(ShardStore inner, List<URI> order, Map<String, ShardCheck> checks, long budget, Materializer mat) {
    this(inner, checks, budget, mat);
    for (URI u : order) {
      add(new Key(u, 0, WHOLE), CompletableFuture.completedFuture(Optional.empty()));
    }
    fill();
  }

  private ReadAhead(ShardStore inner, Map<String, ShardCheck> checks, long budget, Materializer mat) {
    super(inner);
    this.checks = checks;
    this.budget = budget;
    this.mat = mat;
  }

  /** Fetches the pieces {@code order} ahead, as {@link #ReadAhead(ShardStore, List, Map, long, Materializer)} does shards. */
  public static ReadAhead pieces(ShardStore inner, List<PlannedPiece> order, Map<String, ShardCheck> checks, long budget,
                                 Materializer mat) {
    ReadAhead r = new ReadAhead(inner, checks, budget, mat);
    for (PlannedPiece p : order) {
      r.add(new Key(p.shard(), p.from(), p.to()), r.how(p.shard(), p.from(), p.to(), p.samples(), p.chosen()));
    }
    r.fill();
    return r;
  }

  private void add(Key k, CompletableFuture<Optional<List<ShardIndex.Range>>> how) {
    Entry e = new Entry(k, check(k.shard()), how);
    entries.add(e);
    untaken.computeIfAbsent(k, x -> new ArrayDeque<>()).add(e);
  }

  private ShardCheck check(URI shard) {
    return checks.getOrDefault(shard.toString(), ShardCheck.NONE);
  }

  /**
   * How samples {@code [from, to)} of a shard of {@code samples} (the shard's {@code chosen} ones,
   * when a query chose them) are read: ranges of its index — one, or one per run of consecutive
   * chosen samples — or whole. A whole indexed shard is read as the range of all its samples
   * too: each sample is checked against its CRC32C as it comes instead of the whole shard
   * against its SHA-256 before any sample goes on (over 404 MB of images into a Python trainer: 3.1 s of the
   * node's 10.8 s of CPU, and the first batch waited for the first shard's last byte).
   */
  private CompletableFuture<Optional<List<ShardIndex.Range>>> how(URI shard, int from, int to, int samples, int[] chosen) {
    ShardCheck check = check(shard);
    if (!check.indexed()) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    return index(shard).thenApply(index -> index.flatMap(i -> {
      String wrong = i.mismatch(check, samples);
      if (wrong != null) {
        LOG.warn("{}: its index {} is not used, the shard is read whole: {}", shard, ShardIndex.sidecar(shard), wrong);
        return Optional.empty();
      }
      return Optional.of(i.ranges(chosen, from, to));
    }));
  }

  /** The shard's index, fetched once; empty when it cannot be read. */
  private synchronized CompletableFuture<Optional<ShardIndex>> index(URI shard) {
    return indexes.computeIfAbsent(shard, s -> IndexFetch.fetch(inner, s, INDEX_READS, mat));
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
        if (!e.how.isDone()) { // its index is on its way
          if (!e.waiting) {
            e.waiting = true;
            e.how.thenRunAsync(this::fill, mat.executionContext()); // not the JDK's default: on 2 cores a thread per task
          }
          break;
        }
        long size = e.size();
        if (size < 0 || size > budget) {
          next++; // cannot be held whole: it streams when its turn comes
          continue;
        }
        if (held + size > budget) {
          break;
        }
        held += size;
        e.counted = size;
        e.bytes = new CompletableFuture<>();
        start.add(e);
        next++;
      }
    }
    for (Entry e : start) {
      inner.metrics().readAhead(e.counted, 1);
      fetch(e, e.how.join()).whenComplete((chunks, err) -> {
        if (err != null) {
          e.bytes.completeExceptionally(err);
        } else {
          e.bytes.complete(chunks);
        }
      });
    }
  }

  /** The whole piece in memory, checked: each of its ranges (at most 4 at a time), or the whole shard. */
  private CompletionStage<List<ByteString>> fetch(Entry e, Optional<List<ShardIndex.Range>> runs) {
    if (runs.isEmpty()) {
      return fetch(e, Optional.empty(), true);
    }
    return Source.from(runs.get()).mapAsync(4, r -> fetch(e, Optional.of(r), true))
        .runWith(Sink.fold(new ArrayList<ByteString>(), (all, chunks) -> {
          all.addAll(chunks);
          return all;
        }), mat)
        .thenApply(all -> (List<ByteString>) all);
  }

  /** A range (or the whole shard) in memory, checked; {@code again}: one more fetch is allowed on a mismatch. */
  private CompletionStage<List<ByteString>> fetch(Entry e, Optional<ShardIndex.Range> range, boolean again) {
    URI uri = e.key.shard();
    ShardCheck.Digest digest = new ShardCheck.Digest(e.check);
    RangeDigest samples = range.map(RangeDigest::of).orElse(null);
    Source<ByteString, NotUsed> bytes = range.isPresent() ? inner.read(uri, range.get().offset(), range.get().length())
        : inner.read(uri);
    return bytes
        .runWith(Sink.fold(new ArrayList<ByteString>(), (acc, b) -> {
          if (samples != null) {
            samples.update(b);
          } else {
            digest.update(b);
          }
          acc.add(b);
          return acc;
        }), mat)
        .thenCompose(chunks -> {
          String wrong = samples != null ? samples.mismatch() : digest.mismatch(e.check);
          if (wrong == null) {
            return CompletableFuture.completedFuture(chunks);
          }
          if (again) {
            inner.metrics().retry(ReaderMetrics.Cause.CORRUPT);
            LOG.warn("{}: fetching it again: {}", uri, wrong);
            return fetch(e, range, false);
          }
          inner.metrics().integrityFailure();
          return CompletableFuture.failedFuture(new ShardReadException(uri, "does not match its "
              + (samples != null ? "index" : "manifest") + ", read twice: " + wrong, null));
        });
  }

  @Override
  public CompletionStage<Piece> open(URI shard, int from, int to, int samples, int[] chosen, long maxMemberBytes) {
    Entry found = take(new Key(shard, from, to));
    CompletableFuture<Optional<List<ShardIndex.Range>>> how = found != null ? found.how : how(shard, from, to, samples, chosen);
    return how.thenApply(runs -> {
      Source<ByteString, NotUsed> bytes = bytes(shard, found, runs);
      return runs.isPresent() ? new Piece(from, ShardSamples.range(bytes, shard, maxMemberBytes))
          : new Piece(0, ShardSamples.chosen(ShardSamples.parse(bytes, shard, maxMemberBytes), chosen));
    });
  }

  /** The whole shard, from memory if it was fetched ahead. */
  @Override
  public Source<ByteString, NotUsed> read(URI shard) {
    return bytes(shard, take(new Key(shard, 0, WHOLE)), Optional.empty());
  }

  private synchronized Entry take(Key k) {
    ArrayDeque<Entry> q = untaken.get(k);
    Entry found = q != null ? q.poll() : null;
    if (found != null) {
      found.taken = true;
    }
    return found;
  }

  /** A piece's bytes, as {@code found} holds them or straight from the store, checked. */
  private Source<ByteString, NotUsed> bytes(URI shard, Entry found, Optional<List<ShardIndex.Range>> runs) {
    inner.metrics().shardOpened(found != null && found.bytes != null && found.bytes.isDone());
    if (found == null || found.bytes == null) { // not planned, not fetched yet, or too large to hold
      return runs.isPresent()
          ? Source.from(runs.get()).flatMapConcat(r -> CheckedRange.read(inner, shard, r))
          : inner.read(shard).via(Verified.flow(shard, check(shard), inner.metrics()));
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
    long size;
    synchronized (this) {
      if (e.counted < 0) {
        return;
      }
      size = e.counted;
      e.counted = -1;
      held -= size;
      e.bytes = CompletableFuture.failedFuture(new IllegalStateException("released")); // drop the chunks
    }
    inner.metrics().readAhead(-size, -1);
    fill();
  }

  /** Stops fetching ahead and gives back what was fetched and never read. The inner store stays open. */
  @Override
  public void close() {
    List<Entry> unread = new ArrayList<>();
    synchronized (this) {
      closed = true;
      for (Entry e : entries) {
        if (e.counted >= 0 && !e.taken) {
          unread.add(e);
        }
      }
    }
    for (Entry e : unread) {
      e.bytes.whenComplete((c, t) -> release(e));
    }
  }
}
