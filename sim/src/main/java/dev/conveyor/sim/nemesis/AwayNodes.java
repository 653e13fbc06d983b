package dev.conveyor.sim.nemesis;

import dev.conveyor.sim.scenario.Action;
import dev.conveyor.sim.scenario.Scenario.Fault;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * A fault that needs its node running, due while the node is down and coming back (killed for a
 * while by an earlier fault, or started again after it ended on its own), waits for it — as an
 * operator's rolling upgrade waits for a pod to be ready — for up to {@link #WAIT_MS}; the
 * trainers are held at its batch meanwhile. After that it is applied as it stands (and recorded
 * as not applied when the node is still not running).
 */
final class AwayNodes {
  static final long WAIT_MS = 60_000;
  private final Map<Object, Long> since = new IdentityHashMap<>();

  /** Whether {@code fault} (of the pending entry {@code key}) waits at {@code now}, its node not {@code running}. */
  boolean waits(Object key, Fault fault, java.util.function.IntPredicate running, long now) {
    if (fault.node() <= 0 || !needsRunning(fault.action()) || running.test(fault.node())) {
      since.remove(key);
      return false;
    }
    long first = since.computeIfAbsent(key, k -> now);
    if (now - first < WAIT_MS) {
      return true;
    }
    since.remove(key);
    return false;
  }

  private static boolean needsRunning(Action a) {
    return a == Action.KILL || a == Action.TERM || a == Action.STOP || a == Action.UPGRADE || a == Action.PARTITION;
  }
}
