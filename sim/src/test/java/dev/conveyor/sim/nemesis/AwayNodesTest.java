package dev.conveyor.sim.nemesis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.sim.scenario.Action;
import dev.conveyor.sim.scenario.Scenario.Fault;
import dev.conveyor.sim.scenario.Scenario.Trigger;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A fault due on a node that is down waits for it (as the soak's upgrade of node 2 at batch
 * 19,000 should have, 7 s after a random kill of node 2 for 8 s: it was recorded not applied).
 */
class AwayNodesTest {
  static Fault fault(Action a, int node) {
    return new Fault(Trigger.atBatch(100), a, node, null, 0.3, Duration.ofMillis(200), Duration.ofSeconds(2), "cut");
  }

  @Test
  void aFaultOnANodeThatIsDownWaitsUntilItRunsAgainOrAMinuteHasPassed() {
    AwayNodes away = new AwayNodes();
    Fault upgrade = fault(Action.UPGRADE, 2);
    Object key = new Object();
    assertThat(away.waits(key, upgrade, n -> false, 1_000)).as("node 2 down: wait").isTrue();
    assertThat(away.waits(key, upgrade, n -> false, 30_000)).isTrue();
    assertThat(away.waits(key, upgrade, n -> n == 2, 31_000)).as("back: strike").isFalse();
    Object other = new Object();
    assertThat(away.waits(other, fault(Action.KILL, 3), n -> false, 40_000)).isTrue();
    assertThat(away.waits(other, fault(Action.KILL, 3), n -> false, 40_000 + AwayNodes.WAIT_MS))
        .as("a minute on: applied as it stands").isFalse();
  }

  @Test
  void faultsThatNeedNoRunningNodeNeverWait() {
    AwayNodes away = new AwayNodes();
    assertThat(away.waits(new Object(), fault(Action.RESTART, 2), n -> false, 0)).isFalse();
    assertThat(away.waits(new Object(), fault(Action.S3_SLOWDOWN, 0), n -> {
      throw new AssertionError("no node to ask about");
    }, 0)).isFalse();
  }
}
