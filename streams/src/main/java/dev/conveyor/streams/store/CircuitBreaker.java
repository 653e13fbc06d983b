package dev.conveyor.streams.store;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One endpoint's circuit breaker. Closed: requests go. After {@code failures} failed requests
 * in a row it opens: requests wait (their readers are back-pressured, nothing fails) until
 * {@code openMillis} have passed; then one probe goes (half-open). The probe's success closes
 * it and releases every waiting request; its failure opens it again. So while a store is down
 * it sees one request per open period, not a stampede of retries.
 *
 * <p>It trips only once the endpoint has answered at least once: a wrong endpoint or bad
 * credentials should fail fast through the bounded attempts, not wait out an outage.
 */
final class CircuitBreaker {
  enum State { CLOSED, OPEN, HALF_OPEN }

  private final int threshold;
  private final long openMillis;
  private final ScheduledExecutorService timer;
  private final ReaderMetrics metrics;
  private final ArrayDeque<CompletableFuture<Void>> waiting = new ArrayDeque<>();
  private State state = State.CLOSED;
  private int failuresInRow;
  private boolean probeOut;
  private boolean everAnswered;
  private long openings; // a request remembers this when sent: only one sent since the last opening can close it

  CircuitBreaker(int threshold, long openMillis, ScheduledExecutorService timer, ReaderMetrics metrics) {
    this.threshold = threshold;
    this.openMillis = openMillis;
    this.timer = timer;
    this.metrics = metrics;
  }

  /** Completes when a request may be sent: at once while closed; else when it is this request's turn to probe. */
  synchronized CompletableFuture<Void> admit() {
    if (state == State.CLOSED) {
      return CompletableFuture.completedFuture(null);
    }
    if (state == State.HALF_OPEN && !probeOut) {
      probeOut = true;
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> f = new CompletableFuture<>();
    waiting.add(f);
    return f;
  }

  /** True while requests are held back: a failure now is the outage's, not the request's. */
  synchronized boolean holding() {
    return state != State.CLOSED;
  }

  /** What a request notes when it is sent, to hand back with its outcome. */
  synchronized long ticket() {
    return openings;
  }

  /**
   * The store answered a request sent with {@code ticket} (any answer that is not a server
   * error or a throttle). An answer to a request sent before the breaker last opened says
   * nothing about the store now, so it does not close it.
   */
  void success(long ticket) {
    List<CompletableFuture<Void>> release;
    synchronized (this) {
      everAnswered = true;
      if (state == State.CLOSED) {
        failuresInRow = 0;
        return;
      }
      if (ticket < openings) {
        return;
      }
      failuresInRow = 0;
      state = State.CLOSED;
      probeOut = false;
      metrics.breaker("closed", false);
      release = new ArrayList<>(waiting);
      waiting.clear();
    }
    release.forEach(f -> f.complete(null));
  }

  /** A request sent with {@code ticket} failed for a reason the store may recover from (5xx, throttle, reset, stall). */
  synchronized void failure(long ticket) {
    if (state != State.CLOSED && ticket < openings) {
      return; // sent before the opening: already accounted for
    }
    failuresInRow++;
    if (state == State.HALF_OPEN || state == State.CLOSED && everAnswered && failuresInRow >= threshold) {
      open();
    }
  }

  private void open() {
    boolean fresh = state == State.CLOSED;
    openings++;
    state = State.OPEN;
    probeOut = false;
    metrics.breaker("open", fresh);
    timer.schedule(this::halfOpen, openMillis, TimeUnit.MILLISECONDS);
  }

  private void halfOpen() {
    CompletableFuture<Void> probe = null;
    synchronized (this) {
      if (state != State.OPEN) {
        return;
      }
      state = State.HALF_OPEN;
      metrics.breaker("half-open", false);
      while (!waiting.isEmpty() && probe == null) {
        CompletableFuture<Void> f = waiting.poll();
        if (!f.isDone()) { // a waiter that timed out is gone
          probe = f;
          probeOut = true;
        }
      }
    }
    if (probe != null) {
      probe.complete(null);
    }
  }
}
