package dev.conveyor.workers.feeder;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.batch.Skipped;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The hand-off of one rank's batches to its trainer: the rank's stream runs ahead into a
 * prefetch ring of {@code depth} batches, and the trainer takes them one at a time with
 * {@link #next}. A batch counts as delivered — reported to {@code onDelivered}, which advances
 * the cursor — when the trainer takes it, never when it is prefetched, so a cursor saved with
 * the trainer's checkpoint resumes exactly after the last batch it trained on. The time the
 * trainer spends waiting in {@code next} is its stall; {@link #stall()} gives it against wall
 * time since the first batch was handed over. A trainer that hands batches on — into a ring in
 * shared memory — takes them with {@link #take} and reports each later with the report
 * {@link #reportOf} prepared while the batch was at hand, so that it need not keep the batch.
 */
public final class RankFeeder implements AutoCloseable {
  private final Ring<RankEvent> ring;
  private final UniqueKillSwitch stop;
  private final Function<RawBatch, Runnable> onDelivered;
  private final Consumer<Skipped> onSkipped;
  // The trainer's calls take turns on `taking`, held while it waits for the ring; the counters
  // are guarded by `this`, never held while waiting: a /metrics scrape (on a dispatcher thread)
  // reading them while the trainer waits for a batch must not wait too — with every dispatcher
  // thread so blocked, nothing could fill the ring (a worker's loss stalled a host that way)
  private final Object taking = new Object();
  private long firstHandOverNanos = -1;
  private long lastReturnNanos;
  private long stallNanos;
  private long delivered;

  private RankFeeder(Ring<RankEvent> ring, UniqueKillSwitch stop, Function<RawBatch, Runnable> onDelivered,
                     Consumer<Skipped> onSkipped) {
    this.ring = ring;
    this.stop = stop;
    this.onDelivered = onDelivered;
    this.onSkipped = onSkipped;
  }

  /** Starts {@code events} into a prefetch ring of {@code depth} events (batches, and the skips between them). */
  public static RankFeeder start(Source<RankEvent, ?> events, int depth, Materializer mat, Consumer<RawBatch> onDelivered,
                                 Consumer<Skipped> onSkipped) {
    return preparing(events, depth, mat, b -> () -> onDelivered.accept(b), onSkipped);
  }

  /**
   * As {@link #start}, with a batch's report in two parts: {@code onDelivered} prepares it when
   * the batch is taken (it may read the batch: its digest, its keys) and returns what to run
   * when the batch is delivered (which must not hold the batch).
   */
  public static RankFeeder preparing(Source<RankEvent, ?> events, int depth, Materializer mat,
                                     Function<RawBatch, Runnable> onDelivered, Consumer<Skipped> onSkipped) {
    if (depth < 1) {
      throw new IllegalArgumentException("prefetch depth must be at least 1, got " + depth);
    }
    Ring<RankEvent> ring = new Ring<>(depth);
    UniqueKillSwitch stop = events.viaMat(KillSwitches.single(), Keep.right()).to(ring.sink()).run(mat);
    return new RankFeeder(ring, stop, onDelivered, onSkipped);
  }

  /**
   * The next batch, waiting for it up to {@code timeout}; empty when the rank has no more.
   * Skips before it are reported to {@code onSkipped} first, and the batch counts as delivered
   * when it is returned. A failure of the rank's stream is thrown here, as an
   * {@link IllegalStateException} with its cause.
   */
  public Optional<RawBatch> next(Duration timeout) throws TimeoutException, InterruptedException {
    synchronized (taking) {
      long t0 = System.nanoTime();
      while (true) {
        Optional<RankEvent> e = take(Duration.ofNanos(Math.max(1, timeout.toNanos() - (System.nanoTime() - t0))));
        if (e.isEmpty()) {
          return Optional.empty();
        }
        reportOf(e.get()).run();
        if (e.get() instanceof RawBatch b) {
          return Optional.of(b);
        }
      }
    }
  }

  /**
   * The next event — a batch or a skip — without reporting it: for a trainer that hands batches
   * on and reports each with {@link #reportOf} when its consumer has it (a ring in shared memory).
   * Empty at the end; waits and fails as {@link #next} does.
   */
  public Optional<RankEvent> take(Duration timeout) throws TimeoutException, InterruptedException {
    synchronized (taking) {
      long t0 = System.nanoTime();
      try {
        return Optional.ofNullable(ring.take(timeout.toNanos()));
      } finally {
        waited(t0, System.nanoTime());
      }
    }
  }

  private synchronized void waited(long t0, long now) {
    if (firstHandOverNanos < 0) {
      firstHandOverNanos = now; // the first wait is the pipeline's start-up, not a stall
    } else {
      stallNanos += now - t0;
    }
    lastReturnNanos = now;
  }

  /**
   * The report of {@code e}, taken with {@link #take}, to run when it is delivered: a batch's
   * counts it as delivered (it moves the cursor), a skip's reports it skipped. Prepared now,
   * while the batch is at hand; the runnable keeps no reference to it.
   */
  public Runnable reportOf(RankEvent e) {
    if (e instanceof Skipped s) {
      return () -> onSkipped.accept(s);
    }
    Runnable report = onDelivered.apply((RawBatch) e);
    return () -> {
      synchronized (this) {
        delivered++;
      }
      report.run();
    };
  }

  /** Events (batches and skips) waiting in the prefetch ring now: its depth of use. */
  public int ready() {
    return ring.size();
  }

  /** Time the trainer waited in {@code next} or {@code take} since the first batch, in seconds. */
  public synchronized double stallSeconds() {
    return stallNanos / 1e9;
  }

  /** Batches handed to the trainer so far. */
  public synchronized long delivered() {
    return delivered;
  }

  /** Time the trainer waited in {@code next} since the first batch ÷ wall time since then (0 before the second call). */
  public synchronized double stall() {
    long wall = lastReturnNanos - firstHandOverNanos;
    return wall <= 0 ? 0 : (double) stallNanos / wall;
  }

  /** Stops the rank's stream (the trainer is done or gone). */
  @Override
  public void close() {
    stop.shutdown();
  }
}
