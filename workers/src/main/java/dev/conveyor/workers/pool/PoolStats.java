package dev.conveyor.workers.pool;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one actor pool did, read by {@code /metrics} and {@code /status} while it runs: its size,
 * busy actors, queued groups, samples done, constructions, restarts, dead letters and each
 * scaling decision with its figures. Written by the pool's actors only; read from anywhere.
 */
public final class PoolStats {
  /** One scaling decision: when (ms since the pool started), the size after it, and why. */
  public record Decision(long atMillis, int actors, String why) {}

  /** Decisions kept for {@code /status} and tests (the oldest dropped beyond this). */
  static final int KEPT_DECISIONS = 1000;

  private final String stage;
  private final long startNanos = System.nanoTime();
  final AtomicInteger actors = new AtomicInteger();
  final AtomicInteger busy = new AtomicInteger();
  final AtomicInteger queued = new AtomicInteger();
  final AtomicInteger limit = new AtomicInteger();
  final AtomicLong samples = new AtomicLong();
  final AtomicLong constructions = new AtomicLong();
  final AtomicLong restarts = new AtomicLong();
  final AtomicLong retried = new AtomicLong();
  final AtomicLong deadLetters = new AtomicLong();
  final AtomicLong grown = new AtomicLong();
  final AtomicLong shrunk = new AtomicLong();
  private final List<Decision> decisions = new ArrayList<>();

  public PoolStats(String stage) {
    this.stage = stage;
  }

  public String stage() {
    return stage;
  }

  /** Actors now (started or starting). */
  public int actors() {
    return actors.get();
  }

  /** Actors working on a group now. */
  public int busy() {
    return busy.get();
  }

  /** Busy actors over actors now, 0 with none. */
  public double busyFraction() {
    int n = actors.get();
    return n == 0 ? 0 : Math.min(1.0, (double) busy.get() / n);
  }

  /** Groups waiting for an actor now. */
  public int queued() {
    return queued.get();
  }

  /** The most actors this pool may have on this node: its max, or fewer if the node's resources hold fewer. */
  public int limit() {
    return limit.get();
  }

  /** Samples through the stage (each output of an expanded sample counted once). */
  public long samples() {
    return samples.get();
  }

  /** Times the author's class was constructed (once per actor, again per restart). */
  public long constructions() {
    return constructions.get();
  }

  public long restarts() {
    return restarts.get();
  }

  /** Samples tried again on another actor after the one holding them failed. */
  public long retried() {
    return retried.get();
  }

  public long deadLetters() {
    return deadLetters.get();
  }

  /** Actors added by autoscaling. */
  public long grown() {
    return grown.get();
  }

  /** Actors removed by autoscaling. */
  public long shrunk() {
    return shrunk.get();
  }

  /** The scaling decisions so far (the latest {@value #KEPT_DECISIONS}), oldest first. */
  public synchronized List<Decision> decisions() {
    return List.copyOf(decisions);
  }

  synchronized void decided(int actorsAfter, String why) {
    if (decisions.size() == KEPT_DECISIONS) {
      decisions.remove(0);
    }
    decisions.add(new Decision((System.nanoTime() - startNanos) / 1_000_000, actorsAfter, why));
  }
}
