package dev.conveyor.sim.run;

import dev.conveyor.sim.history.Event;
import dev.conveyor.sim.nemesis.Nemesis;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Starts again a node whose process ended on its own — a worker downed while it was paused or cut
 * off finds itself removed once it is back, and stops; every member, the trainer host included,
 * is downed when the split-brain resolver finds the cluster unstable — as Kubernetes restarts the
 * container of a StatefulSet's pod. The nodes the nemesis ended (killed, stopped with SIGTERM,
 * upgrading) are its own to start (a trainer host it killed, the runs'). Each start is recorded,
 * with the exit code the node ended with.
 */
final class Respawn implements AutoCloseable {
  private static final long PAUSE_MS = 1000; // as a kubelet's first back-off, shortened

  private final Nodes nodes;
  private final Nemesis nemesis;
  private final LongSupplier clock;
  private final Consumer<Event> record;
  private final Set<Integer> starting = ConcurrentHashMap.newKeySet();
  private final ExecutorService starter = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "conveyor-sim-respawn");
    t.setDaemon(true);
    return t;
  });

  Respawn(Nodes nodes, Nemesis nemesis, LongSupplier clock, Consumer<Event> record) {
    this.nodes = nodes;
    this.nemesis = nemesis;
    this.clock = clock;
    this.record = record;
  }

  /**
   * Starts again (on a thread of its own) each node that ended on its own since the last look —
   * the trainer host too: downed with every member by the split-brain resolver, it is the first
   * seed the others need to form a cluster again, and its pod's container is restarted as theirs.
   */
  void check() {
    for (int n = 1; n <= nodes.count(); n++) {
      int node = n;
      if (!nodes.alive(node) && !nemesis.ended(node) && starting.add(node)) {
        starter.execute(() -> start(node));
      }
    }
  }

  private void start(int n) {
    try {
      Thread.sleep(PAUSE_MS);
      if (nodes.alive(n) || nemesis.ended(n)) {
        return;
      }
      int exit = nodes.exitCode(n);
      long t = clock.getAsLong();
      nodes.start(n);
      record.accept(new Event.Fault(t, "restart node " + n + " (it ended on its own, exit " + exit + ", as a pod's"
          + " container is restarted)", "restart", n, true, "up again, pid " + nodes.pid(n)));
    } catch (Exception e) {
      record.accept(new Event.Fault(clock.getAsLong(), "restart node " + n + " (it ended on its own)", "restart", n,
          false, "failed: " + e));
    } finally {
      starting.remove(n);
    }
  }

  /** Waits (up to 2 minutes) for the starts under way. */
  void awaitIdle() throws InterruptedException {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(2);
    while (!starting.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
  }

  @Override
  public void close() {
    starter.shutdownNow();
  }
}
