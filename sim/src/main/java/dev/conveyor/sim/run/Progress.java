package dev.conveyor.sim.run;

import dev.conveyor.sim.history.Event;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Reads every node's /metrics four times a second on a thread of its own (a paused node only
 * delays its own reading): the samples the trainer host's ranks delivered and each worker's
 * readers sent, as history events, and the batches delivered in all — summed over the trainer
 * host's lives, as a restarted host counts from 0 again — for faults timed by batch.
 */
final class Progress implements AutoCloseable {
  static final String BATCHES = "conveyor_rank_batches_total";
  static final String DELIVERED = "conveyor_rank_samples_total";
  static final String SENT = "conveyor_reader_events_total";
  private static final long PERIOD_MS = 250;

  private final Nodes nodes;
  private final LongSupplier clock;
  private final Consumer<Event> record;
  private final Thread thread;
  private volatile long batches;
  private long earlierLives; // batches of the host's lives before its last restart
  private double hostLast;
  private volatile boolean closed;

  Progress(Nodes nodes, LongSupplier clock, Consumer<Event> record) {
    this.nodes = nodes;
    this.clock = clock;
    this.record = record;
    this.thread = new Thread(this::loop, "conveyor-sim-progress");
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Batches delivered to the trainers in all so far. */
  long batches() {
    return batches;
  }

  /** Of {@link #batches}, those the trainer host delivered in its lives before this one. */
  synchronized long earlierLives() {
    return earlierLives;
  }

  private void loop() {
    while (!closed) {
      long began = System.nanoTime();
      // all nodes at once: a paused node's silence delays no one else's reading
      java.util.Map<Integer, java.util.concurrent.CompletableFuture<String>> pages = new java.util.TreeMap<>();
      for (int n = 1; n <= nodes.count(); n++) {
        if (nodes.alive(n)) {
          pages.put(n, nodes.metrics(n));
        }
      }
      for (java.util.Map.Entry<Integer, java.util.concurrent.CompletableFuture<String>> e : pages.entrySet()) {
        int n = e.getKey();
        String page = e.getValue().join();
        if (page.isEmpty()) {
          continue;
        }
        long t = clock.getAsLong();
        if (n == 1) {
          double b = Nodes.metric(page, BATCHES);
          synchronized (this) {
            if (b < hostLast) {
              earlierLives += (long) hostLast;
            }
            hostLast = b;
            batches = earlierLives + (long) b;
          }
          record.accept(new Event.Progress(t, n, "trainer-host", Nodes.metric(page, DELIVERED)));
        } else {
          record.accept(new Event.Progress(t, n, "worker", Nodes.metric(page, SENT)));
        }
      }
      long left = PERIOD_MS - (System.nanoTime() - began) / 1_000_000;
      if (left > 0) {
        try {
          Thread.sleep(left);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  @Override
  public void close() throws InterruptedException {
    closed = true;
    thread.interrupt();
    thread.join(5_000);
  }
}
