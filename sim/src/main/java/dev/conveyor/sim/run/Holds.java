package dev.conveyor.sim.run;

import dev.conveyor.sim.nemesis.Nemesis;
import dev.conveyor.sim.scenario.Scenario.Fault;
import java.util.List;
import java.util.TreeSet;

/**
 * Keeps the trainer host's stand-in trainers held at the next batch a fault is timed by, until
 * the nemesis has applied every fault due there, then moves the hold to the next such batch (or
 * lifts it): a fault "at batch N" strikes when exactly N batches have been delivered, however
 * fast the job runs. Batches count over the host's lives, as {@link Progress} counts them; a
 * host started again counts from 0, and is held again at once.
 */
final class Holds {
  private final Nodes nodes;
  private final TreeSet<Long> points = new TreeSet<>();
  private long sentPid = -1;
  private long sentAt = Long.MIN_VALUE;

  Holds(Nodes nodes, List<Fault> schedule) {
    this.nodes = nodes;
    schedule.stream().filter(f -> f.at().byBatch()).forEach(f -> points.add(f.at().batch()));
  }

  /**
   * With {@code batches} delivered in all ({@code earlierLives} of them by the host's earlier
   * lives): passes the points whose faults {@code nemesis} has applied, and holds the host at the next.
   */
  void update(long batches, long earlierLives, Nemesis nemesis) {
    while (!points.isEmpty() && batches >= points.first() && !nemesis.busyUpTo(points.first())) {
      points.pollFirst();
    }
    if (!nodes.alive(1)) {
      return;
    }
    long at = points.isEmpty() ? -1 : points.first() - earlierLives;
    long pid = nodes.pid(1);
    if ((pid != sentPid || at != sentAt) && nodes.hold(1, at)) {
      sentPid = pid;
      sentAt = at;
    }
  }
}
