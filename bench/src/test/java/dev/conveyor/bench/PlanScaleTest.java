package dev.conveyor.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** DESIGN.md invariant 5 at its stated scale: 500M samples in 500k shards, planned lazily. */
class PlanScaleTest {

  @Test
  void aPlanOf500MillionSamplesSeeksToAnyCursorInUnderASecondAndUnder200MbOfHeap() {
    PlanBenchmark.Result r = PlanBenchmark.run(500_000, 1_000, 8, 3, 11);
    assertThat(r.samples()).isEqualTo(500_000_000L);
    assertThat(r.seekSeconds()).as(r.json().toString()).isLessThan(1.0);
    assertThat(r.elasticSeekSeconds()).as(r.json().toString()).isLessThan(1.0);
    assertThat(r.heapMb()).as(r.json().toString()).isLessThan(200);
    System.out.println("plan at scale: " + r.json());
  }
}
