package dev.conveyor.workers.feeder;

import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How deep a trainer's ring runs, decided while it runs: every {@link #WINDOW} batches handed
 * over, the depth doubles (up to the ring's slots) when the trainer waited more than 1 % of the
 * window although the pipeline keeps up with it on average — the writer waited less for a batch
 * than the trainer spent on one, so the waits come from bursts, which a deeper ring absorbs.
 * When the pipeline is the slower, no depth ends the wait: the ring stays as it is and says so
 * once. Each decision is logged with the figures behind it. Used by the ring's writer thread only.
 */
final class RingDepth {
  private static final Logger LOG = LoggerFactory.getLogger(RingTrainer.class); // the ring's log (INFO in the CLI)
  static final int WINDOW = 16;
  private static final double STALL_TO_GROW = 0.01;

  private final String name;
  private final ShmRing ring;
  private long windowStart = -1; // batches handed, wall time, trainer's stall and pipeline time at the window's start
  private long windowNanos;
  private double windowStall;
  private long windowProduce;
  private boolean saidPipelineBound;

  RingDepth(String name, ShmRing ring) {
    this.name = name;
    this.ring = ring;
  }

  /**
   * The trainer has been handed {@code handed} batches and waited {@code stall} seconds for them
   * (from its second batch on); the writer has waited {@code produceNanos} for the pipeline.
   */
  void handed(long handed, double stall, long produceNanos) {
    long now = System.nanoTime();
    if (windowStart < 0) {
      start(handed, now, stall, produceNanos);
      return;
    }
    if (handed - windowStart < WINDOW) {
      return;
    }
    double wall = (now - windowNanos) / 1e9;
    double stalled = stall - windowStall;
    long batches = handed - windowStart;
    double produce = (produceNanos - windowProduce) / 1e9 / batches;
    double step = Math.max(0, wall - stalled) / batches;
    int depth = ring.depth();
    if (stalled > STALL_TO_GROW * wall && depth < ring.slots()) {
      boolean helps = produce < step;
      if (helps) {
        ring.depth(Math.min(ring.slots(), depth * 2));
      }
      if (helps || !saidPipelineBound) {
        LOG.info(String.format(Locale.ROOT, "%s: ring depth %d%s (the budget holds %d): the trainer waited %.1f %% of"
            + " the last %d batches; the pipeline gave a batch every %.1f ms, the trainer spent %.1f ms on one; %s",
            name, depth, helps ? " -> " + ring.depth() : " kept", ring.slots(), 100 * stalled / wall, batches,
            produce * 1e3, step * 1e3, helps ? "the pipeline keeps up on average, so a deeper ring absorbs its bursts"
                : "the pipeline is slower than the trainer, and no depth makes up for that"));
        saidPipelineBound = !helps;
      }
    }
    start(handed, now, stall, produceNanos);
  }

  private void start(long handed, long now, double stall, long produceNanos) {
    windowStart = handed;
    windowNanos = now;
    windowStall = stall;
    windowProduce = produceNanos;
  }
}
