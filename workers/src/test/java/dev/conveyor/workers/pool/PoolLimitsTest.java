package dev.conveyor.workers.pool;

import static dev.conveyor.config.Resources.cpus;
import static dev.conveyor.config.Resources.gpus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.config.PoolSettings.Pool;
import dev.conveyor.config.Resources;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How many actors each pool of a job may have on a node: the pools together never ask more than it offers. */
class PoolLimitsTest {
  @Test
  void everyPoolGetsItsMinThenTheRestIsSharedEvenlyUpToEachMax() {
    Resources offer = new Resources(8, 1, 0, Map.of());
    PoolLimits l = PoolLimits.of(List.of(new Pool("gpu#1", cpus(1).plus(gpus(1)), 1, 4),
        new Pool("cpu#2", cpus(1), 1, 16), new Pool("fixed#3", cpus(2), 2, 2)), offer);
    assertThat(l.refusal()).isEmpty();
    // min: 1 + 1 + 4 cpus, 1 gpu; left 2 cpus shared by the two that grow: 1 each, but gpu#1 has no gpu left
    assertThat(l.limits()).containsExactly(1, 2, 2);
    int cpusAsked = l.limits().get(0) + l.limits().get(1) + 2 * l.limits().get(2);
    assertThat(cpusAsked).isLessThanOrEqualTo(8);
  }

  @Test
  void aNodeThatCannotHoldAPoolsMinRefusesNamingTheStageItsAskAndTheOffer() {
    PoolLimits gpu = PoolLimits.of(List.of(new Pool("caption#2", cpus(1).plus(gpus(1)), 1, 2)), cpus(4));
    assertThat(gpu.limits()).isEmpty();
    assertThat(gpu.refusal()).hasValueSatisfying(r -> assertThat(r).contains("caption#2").contains("cpus=1, gpus=1")
        .contains("offers (cpus=4)"));
    PoolLimits many = PoolLimits.of(List.of(new Pool("a#0", cpus(1), 3, 3), new Pool("b#1", cpus(1), 2, 2)), cpus(4));
    assertThat(many.refusal()).hasValueSatisfying(r -> assertThat(r).contains("b#1").contains("min of 2"));
    assertThat(PoolLimits.of(List.of(), Resources.NONE).limits()).isEmpty();
  }
}
