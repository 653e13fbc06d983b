package dev.conveyor.streams.store.cache;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * How fast a cache may fall back to S3: at most {@code perSecond} GETs a second overall (their
 * starts spaced {@code 1/perSecond} apart, so no second ever holds more than its share), and the same object at most once per
 * {@code perObjectMillis}. When much of a cache fleet fails at once, the readers' misses queue
 * here instead of stampeding S3 into throttling every job; their streams wait, so the trainers
 * slow down through back-pressure and nothing fails. Permits are granted in the order asked.
 */
public final class FetchLimiter {
  private final double perSecond;
  private final long perObjectNanos;
  private final ScheduledExecutorService timer;
  private final Map<String, Long> lastByObject = new HashMap<>(); // guarded by this
  private long nextFree; // the earliest start of the next GET; guarded by this

  /** {@code perSecond} 0: no overall limit; {@code perObjectMillis} 0: none per object. */
  public FetchLimiter(double perSecond, long perObjectMillis, ScheduledExecutorService timer) {
    this.perSecond = perSecond;
    this.perObjectNanos = TimeUnit.MILLISECONDS.toNanos(perObjectMillis);
    this.timer = timer;
    this.nextFree = System.nanoTime();
  }

  /** Completes when a GET of {@code object} may start; true when it had to wait. */
  public CompletableFuture<Boolean> permit(String object) {
    long wait = reserve(object, System.nanoTime());
    if (wait <= 0) {
      return CompletableFuture.completedFuture(false);
    }
    CompletableFuture<Boolean> f = new CompletableFuture<>();
    timer.schedule(() -> f.complete(true), wait, TimeUnit.NANOSECONDS);
    return f;
  }

  /** Whether a GET asked now would start at once (nothing queued): when fetching ahead may go. */
  public synchronized boolean idle() {
    return nextFree <= System.nanoTime();
  }

  /** Reserves a start time for a GET of {@code object} asked at {@code now}; returns how long until it. */
  synchronized long reserve(String object, long now) {
    long at = now;
    Long last = lastByObject.get(object);
    if (perObjectNanos > 0 && last != null) {
      at = Math.max(at, last + perObjectNanos);
    }
    if (perSecond > 0) {
      at = Math.max(at, nextFree);
      nextFree = Math.max(nextFree, at + (long) (1e9 / perSecond));
    }
    lastByObject.put(object, at);
    if (lastByObject.size() > 100_000) {
      lastByObject.values().removeIf(t -> t + perObjectNanos < now);
    }
    return at - now;
  }
}
