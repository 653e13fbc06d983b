package dev.conveyor.streams.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The batches' composition in a mix: each batch within one sample of every share, running totals within one. */
class MixTest {

  static Mix mix(Mix.Batching batching, double... weights) {
    List<Mix.Source> s = new ArrayList<>();
    for (int i = 0; i < weights.length; i++) {
      s.add(new Mix.Source("s" + i, i, 1, weights[i], i > 0));
    }
    return new Mix(s, batching);
  }

  @Test
  void aSeventyThirtyMixOfBatchesOfTenIsSevenAndThreeEveryBatch() {
    Mix.Schedule s = mix(Mix.Batching.STRATIFIED, 0.7, 0.3).schedule(10);
    for (int k = 0; k < 100; k++) {
      assertThat(s.next()).containsExactly(7, 3);
    }
    assertThat(s.taken()).containsExactly(700, 300);
  }

  @Test
  void everyBatchHoldsEachSharesWithinOneSampleAndTheRunningTotalsStayWithinOne() {
    SplittableRandom rnd = new SplittableRandom(33);
    for (int trial = 0; trial < 300; trial++) {
      int n = 2 + rnd.nextInt(7);
      double[] w = new double[n];
      for (int i = 0; i < n; i++) {
        w[i] = 0.01 + rnd.nextDouble();
      }
      int batch = 1 + rnd.nextInt(128);
      Mix m = mix(Mix.Batching.STRATIFIED, w);
      long[] parts = m.parts();
      long den = m.denominator();
      Mix.Schedule s = m.schedule(batch);
      String why = "trial " + trial + ": weights " + java.util.Arrays.toString(w) + ", batch " + batch;
      for (long k = 1; k <= 3000; k++) {
        int[] c = s.next();
        assertThat(java.util.Arrays.stream(c).sum()).as(why).isEqualTo(batch);
        for (int i = 0; i < n; i++) {
          // |c - w·B| ≤ 1 and |taken - w·B·k| < 1, in parts of the denominator (exact)
          assertThat(Math.abs(c[i] * den - parts[i] * batch)).as(why + ", batch " + k + ", source " + i)
              .isLessThanOrEqualTo(den);
          assertThat(Math.abs(s.taken(i) * den - parts[i] * batch * k)).as(why + ", after " + k + ", source " + i)
              .isLessThan(den);
        }
      }
    }
  }

  @Test
  void perSourceBatchingGivesWholeBatchesFromOneSourceInTurnsByWeight() {
    Mix.Schedule s = mix(Mix.Batching.PER_SOURCE, 0.5, 0.25, 0.25).schedule(8);
    List<Integer> from = new ArrayList<>();
    for (int k = 0; k < 400; k++) {
      int[] c = s.next();
      int src = -1;
      for (int i = 0; i < c.length; i++) {
        assertThat(c[i]).isIn(0, 8);
        if (c[i] == 8) {
          assertThat(src).as("one source per batch").isEqualTo(-1);
          src = i;
        }
      }
      from.add(src);
      // over any prefix, each source's whole batches follow its weight within one batch
      assertThat(Math.abs(s.taken(0) / 8 - (k + 1) * 0.5)).isLessThan(1.0);
      assertThat(Math.abs(s.taken(1) / 8 - (k + 1) * 0.25)).isLessThan(1.0);
    }
    assertThat(from.subList(0, 4)).containsExactly(0, 1, 2, 0);
  }

  @Test
  void theScheduleIsAFunctionOfTheBatchIndexAlone() {
    Mix m = mix(Mix.Batching.STRATIFIED, 0.31, 0.52, 0.17);
    Mix.Schedule a = m.schedule(17);
    a.advanceTo(1234);
    assertThat(m.taken(17, 1234)).containsExactly(a.taken());
    assertThat(a.next()).containsExactly(nth(m, 17, 1234));
  }

  private static int[] nth(Mix m, int batch, long k) {
    Mix.Schedule s = m.schedule(batch);
    s.advanceTo(k);
    return s.next();
  }

  @Test
  void aMixWhoseEverySourceRepeatsOrWithANonPositiveWeightIsRefusedSayingWhy() {
    assertThatThrownBy(() -> new Mix(List.of(new Mix.Source("a", 0, 1, 1, true)), Mix.Batching.STRATIFIED))
        .hasMessageContaining("at least one source needs repeat = false");
    assertThatThrownBy(() -> new Mix.Source("b", 0, 1, 0, false)).hasMessageContaining("source b: a weight must be");
    assertThatThrownBy(() -> new Mix.Source("c", 0, 1, -0.5, false)).hasMessageContaining("positive");
  }
}
