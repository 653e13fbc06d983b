package dev.conveyor.workers.feeder;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Stand-ins for the trainer processes of the ranks one host runs for a job (until the PyTorch
 * hand-off), one thread each, taking batches from their ranks' {@link RankFeeder}s in
 * lockstep, as data-parallel trainers do: no rank takes its batch {@code k + 1} before every
 * other rank still running here has taken its batch {@code k}. So a cursor saved when the
 * last of them took a step holds every rank at that step, as a trainer's checkpoint would.
 * The time a trainer waits for the others is not stall (the feeder counts only its own wait).
 */
public final class LockstepTrainers {
  private final Duration step;
  private final Duration patience;
  private final TrainerHold hold;
  /** Batches each running rank has taken in this run; guarded by this. */
  private final Map<Integer, Long> taken = new HashMap<>();

  /**
   * Trainers that spend {@code step} on each batch (zero: none) and fail their rank when no
   * batch comes for {@code patience}.
   */
  public LockstepTrainers(Duration step, Duration patience) {
    this(step, patience, new TrainerHold());
  }

  /** The same, stopping where {@code hold}, the node's, says (a simulation's fault points). */
  public LockstepTrainers(Duration step, Duration patience, TrainerHold hold) {
    this.step = step;
    this.patience = patience;
    this.hold = hold;
  }
  /** Where these trainers stop, and the ring writers of this node with them. */
  public TrainerHold hold() {
    return hold;
  }


  /** The ranks whose trainers will start: each waits for all of them (call before {@link #start}). */
  public synchronized void expect(java.util.Collection<Integer> ranks) {
    ranks.forEach(r -> taken.putIfAbsent(r, 0L));
  }

  /**
   * Starts rank {@code rank}'s trainer (an {@link #expect}ed one), a daemon thread named
   * {@code name}, on {@code feeder}; after each batch it calls {@code tookOne}, and at the end
   * {@code ended} with the reason it failed, or empty when the rank delivered all its batches.
   */
  public void start(String name, int rank, RankFeeder feeder, Runnable tookOne, Consumer<Optional<String>> ended) {
    synchronized (this) {
      if (!taken.containsKey(rank)) {
        throw new IllegalStateException("rank " + rank + " was not expected");
      }
    }
    Thread t = new Thread(() -> ended.accept(train(rank, feeder, tookOne)), name);
    t.setDaemon(true);
    t.start();
  }

  private Optional<String> train(int rank, RankFeeder feeder, Runnable tookOne) {
    try {
      while (true) {
        awaitTurn(rank);
        hold.reserve();
        boolean took = false;
        try {
          if (feeder.next(patience).isEmpty()) {
            return Optional.empty();
          }
          took = true;
        } finally {
          if (!took) {
            hold.unreserve();
          }
        }
        took(rank);
        tookOne.run();
        if (!step.isZero()) {
          Thread.sleep(step.toMillis());
        }
      }
    } catch (IllegalStateException e) {
      return Optional.of(String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e.getMessage()));
    } catch (TimeoutException e) {
      return Optional.of("no batch for " + patience.toMinutes() + " min");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted");
    } finally {
      done(rank);
    }
  }

  /** Waits until every other running rank has taken as many batches as {@code rank}. */
  private synchronized void awaitTurn(int rank) throws InterruptedException {
    long mine = taken.get(rank);
    while (taken.values().stream().anyMatch(n -> n < mine)) {
      wait();
    }
  }

  private synchronized void took(int rank) {
    taken.merge(rank, 1L, Long::sum);
    notifyAll();
  }

  /** {@code rank} takes no more: the others no longer wait for it. */
  private synchronized void done(int rank) {
    taken.remove(rank);
    notifyAll();
  }
}
