package dev.conveyor.workers.feeder;

/**
 * A point a node's trainers stop at — its stand-in trainers ({@link LockstepTrainers}) and the
 * ring writers of trainer processes ({@link RingTrainer}): once they have taken {@code at}
 * batches in all — every rank and job of this node's life — none takes another until the point
 * moves or is lifted. A simulation holds the trainers at batch N so that a fault timed
 * "at batch N" strikes when exactly N batches have been delivered, however fast the job runs.
 */
public final class TrainerHold {
  private long taken; // batches the trainers took, or are taking (counted before the take); guarded by this
  private long at = Long.MAX_VALUE;

  /** Holds the trainers once they have taken {@code batches} in all; a negative value lifts the hold. */
  public synchronized void holdAt(long batches) {
    at = batches < 0 ? Long.MAX_VALUE : batches;
    notifyAll();
  }

  /** Where the trainers stop ({@code -1}: nowhere). */
  public synchronized long at() {
    return at == Long.MAX_VALUE ? -1 : at;
  }

  /** Batches the trainers have taken or are taking. */
  public synchronized long taken() {
    return taken;
  }

  /** Waits until one more batch may be taken, and counts it as taken. */
  synchronized void reserve() throws InterruptedException {
    while (taken >= at) {
      wait();
    }
    taken++;
  }

  /** As {@link #reserve}, waiting at most {@code millis}: false (nothing counted) while still held. */
  synchronized boolean tryReserve(long millis) throws InterruptedException {
    long deadline = System.nanoTime() + millis * 1_000_000L;
    while (taken >= at) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      wait(Math.max(1, left / 1_000_000L));
    }
    taken++;
    return true;
  }

  /** A take counted by {@link #reserve} that brought no batch (the rank ended, or failed). */
  synchronized void unreserve() {
    taken--;
    notifyAll();
  }
}
