package dev.conveyor.streams.store;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * The reader's counters, in process: bytes, requests, retries by cause, circuit state,
 * adaptive concurrency and read-ahead depth. Thread-safe; {@link #snapshot()} reads them all.
 */
public final class ReaderMetrics {
  /** Why a request was retried. */
  public enum Cause {
    /** HTTP 503 SlowDown (or 429): the store asks the client to slow down. */
    THROTTLE,
    /** HTTP 500, 502, 504. */
    SERVER_ERROR,
    /** The connection failed or was reset, before or during the body. */
    RESET,
    /** No byte arrived for the stall timeout (read watchdog). */
    STALL,
    /** The body ended before the requested range did. */
    TRUNCATED,
    /** Bytes that did not match their checksum (a sample's CRC32C, a shard's sha256): read again. */
    CORRUPT
  }

  private final LongAdder bytes = new LongAdder();
  private final LongAdder requests = new LongAdder();
  private final LongAdder resumes = new LongAdder();
  private final LongAdder failedReads = new LongAdder();
  private final LongAdder breakerOpens = new LongAdder();
  private final LongAdder integrityFailures = new LongAdder();
  private final Map<Cause, LongAdder> retries = new EnumMap<>(Cause.class);
  private final AtomicReference<String> breakerState = new AtomicReference<>("closed");
  private final AtomicLong concurrencyLimit = new AtomicLong();
  private final AtomicLong readAheadBytes = new AtomicLong();
  private final AtomicLong readAheadShards = new AtomicLong();
  private final AtomicLong readAheadPeakBytes = new AtomicLong();
  private final LongAdder shardsOpened = new LongAdder();
  private final LongAdder shardsReady = new LongAdder();
  private final java.util.concurrent.atomic.AtomicLongArray latency =
      new java.util.concurrent.atomic.AtomicLongArray(LATENCY_BOUNDS_MILLIS.length + 1);

  /**
   * Upper bounds (ms) of the request latency histogram's buckets: the time from sending a GET to
   * its response's headers; the last bucket holds everything slower.
   */
  public static final long[] LATENCY_BOUNDS_MILLIS = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};

  public ReaderMetrics() {
    for (Cause c : Cause.values()) {
      retries.put(c, new LongAdder());
    }
  }

  void bytes(long n) {
    bytes.add(n);
  }

  void request() {
    requests.increment();
  }

  /** A request answered (its headers arrived) {@code nanos} after it was sent. */
  void latency(long nanos) {
    long ms = nanos / 1_000_000;
    int b = 0;
    while (b < LATENCY_BOUNDS_MILLIS.length && ms >= LATENCY_BOUNDS_MILLIS[b]) {
      b++;
    }
    latency.incrementAndGet(b);
  }

  public void retry(Cause cause) {
    retries.get(cause).increment();
  }

  /** A retry that continued from a byte after the range's start (a mid-body resume). */
  void resume() {
    resumes.increment();
  }

  void failedRead() {
    failedReads.increment();
  }

  void breaker(String state, boolean opened) {
    breakerState.set(state);
    if (opened) {
      breakerOpens.increment();
    }
  }

  void concurrencyLimit(long limit) {
    concurrencyLimit.set(limit);
  }

  /** A shard whose bytes did not match its manifest (counted once per shard given up on). */
  public void integrityFailure() {
    integrityFailures.increment();
  }

  /** Read-ahead holds {@code deltaBytes} more (or fewer) bytes in {@code deltaShards} more (or fewer) shards. */
  public void readAhead(long deltaBytes, int deltaShards) {
    long now = readAheadBytes.addAndGet(deltaBytes);
    readAheadShards.addAndGet(deltaShards);
    readAheadPeakBytes.accumulateAndGet(now, Math::max);
  }

  /** A reader opened a shard; {@code ready}: read-ahead had all its bytes in memory already. */
  public void shardOpened(boolean ready) {
    shardsOpened.increment();
    if (ready) {
      shardsReady.increment();
    }
  }

  public Snapshot snapshot() {
    Map<Cause, Long> r = new EnumMap<>(Cause.class);
    retries.forEach((k, v) -> r.put(k, v.sum()));
    return new Snapshot(bytes.sum(), requests.sum(), r, resumes.sum(), failedReads.sum(), breakerOpens.sum(),
        breakerState.get(), concurrencyLimit.get(), readAheadBytes.get(), readAheadShards.get(), readAheadPeakBytes.get(),
        shardsOpened.sum(), shardsReady.sum(), integrityFailures.sum(), latencies());
  }

  private long[] latencies() {
    long[] l = new long[latency.length()];
    for (int i = 0; i < l.length; i++) {
      l[i] = latency.get(i);
    }
    return l;
  }

  /**
   * The counters at one moment; {@code latencyMillis[i]}: requests answered under
   * {@code LATENCY_BOUNDS_MILLIS[i]} ms (and at least the bound before), the last one slower.
   */
  public record Snapshot(long bytes, long requests, Map<Cause, Long> retries, long resumes, long failedReads,
                         long breakerOpens, String breakerState, long concurrencyLimit, long readAheadBytes,
                         long readAheadShards, long readAheadPeakBytes, long shardsOpened, long shardsReady,
                         long integrityFailures, long[] latencyMillis) {
    public long retriesTotal() {
      return retries.values().stream().mapToLong(Long::longValue).sum();
    }

    /** One line for the job summary. */
    public String line() {
      StringBuilder causes = new StringBuilder();
      retries.forEach((c, n) -> {
        if (n > 0) {
          causes.append(causes.length() == 0 ? "" : ", ").append(c.name().toLowerCase(Locale.ROOT).replace('_', ' '))
              .append(' ').append(n);
        }
      });
      return String.format(Locale.ROOT, "reads: requests %d   retries %d%s   resumed mid-body %d   breaker opened %d"
              + "   shards ready when opened %d/%d (read-ahead peak %.1f MB)   integrity failures %d",
          requests, retriesTotal(), causes.length() == 0 ? "" : " (" + causes + ")", resumes, breakerOpens,
          shardsReady, shardsOpened, readAheadPeakBytes / 1e6, integrityFailures);
    }
  }
}
