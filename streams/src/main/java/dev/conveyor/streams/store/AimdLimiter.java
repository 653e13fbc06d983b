package dev.conveyor.streams.store;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Adaptive concurrency of one endpoint's GETs, AIMD as in TCP congestion control: the limit
 * starts at the maximum, is halved when the store throttles, and grows by one after each
 * window of {@code limit} successful requests. The requests in flight when it was halved were
 * sent under the old limit, so their throttles do not halve it again: one overload event that
 * throttles many requests at once counts once. Requests over the limit wait their turn;
 * nothing fails.
 */
final class AimdLimiter {
  private final int min;
  private final int max;
  private final ReaderMetrics metrics;
  private final ArrayDeque<CompletableFuture<Void>> waiting = new ArrayDeque<>();
  private int limit;
  private int inFlight;
  private int successes; // since the limit last grew
  private int sentBefore; // completions still to come from requests sent before the last halving

  AimdLimiter(int min, int max, ReaderMetrics metrics) {
    this.min = Math.min(min, max);
    this.max = max;
    this.metrics = metrics;
    this.limit = max;
    metrics.concurrencyLimit(max);
  }

  synchronized CompletableFuture<Void> acquire() {
    if (inFlight < limit) {
      inFlight++;
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> f = new CompletableFuture<>();
    waiting.add(f);
    return f;
  }

  /** A request ended; {@code throttled} when the store said slow down. */
  void release(boolean throttled) {
    List<CompletableFuture<Void>> grant = new ArrayList<>();
    synchronized (this) {
      inFlight--;
      boolean old = sentBefore > 0;
      if (old) {
        sentBefore--;
      }
      if (throttled) {
        if (!old) {
          limit = Math.max(min, limit / 2);
          successes = 0;
          sentBefore = inFlight;
        }
      } else if (++successes >= limit) {
        limit = Math.min(max, limit + 1);
        successes = 0;
      }
      metrics.concurrencyLimit(limit);
      while (inFlight < limit && !waiting.isEmpty()) {
        CompletableFuture<Void> f = waiting.poll();
        if (!f.isDone()) {
          inFlight++;
          grant.add(f);
        }
      }
    }
    grant.forEach(f -> f.complete(null));
  }

  synchronized int limit() {
    return limit;
  }
}
