package dev.conveyor.streams.store.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The S3 limiter spaces GET starts {@code 1/perSecond} apart and the same object
 * {@code perObjectMillis} apart, and says which permits waited — on times given, not measured.
 */
class FetchLimiterTest {
  static final long MS = 1_000_000L;

  @Test
  void aBurstAskedAtOnceIsSpacedAtTheRateAndEveryGetButTheFirstWaits() {
    FetchLimiter limiter = new FetchLimiter(8, 0, null);
    long now = System.nanoTime() + TimeUnit.SECONDS.toNanos(1); // past the limiter's start: nothing queued
    for (int i = 0; i < 20; i++) {
      assertThat(limiter.reserve("obj-" + i, now)).as("GET " + i).isEqualTo(i * 125 * MS);
    }
  }

  @Test
  void getsAskedSlowerThanTheRateNeverWait() {
    FetchLimiter limiter = new FetchLimiter(8, 0, null);
    long now = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    for (int i = 0; i < 20; i++) {
      assertThat(limiter.reserve("obj-" + i, now + i * 200 * MS)).as("GET " + i).isZero();
    }
  }

  @Test
  void theSameObjectWaitsItsOwnIntervalWhateverTheOverallRate() {
    FetchLimiter limiter = new FetchLimiter(0, 500, null);
    long now = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    assertThat(limiter.reserve("a", now)).isZero();
    assertThat(limiter.reserve("b", now)).isZero();
    assertThat(limiter.reserve("a", now + 100 * MS)).isEqualTo(400 * MS);
    assertThat(limiter.reserve("a", now + 2_000 * MS)).isZero();
  }

  @Test
  void aPermitSaysWhetherItWaitedAndCompletesOnlyWhenItsTurnComes() throws Exception {
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    try {
      FetchLimiter limiter = new FetchLimiter(4, 0, timer);
      Thread.sleep(10); // past the limiter's start
      long t0 = System.nanoTime(); // before the first is asked: its turn is no earlier
      assertThat(limiter.permit("x").get(1, TimeUnit.SECONDS)).as("the first does not wait").isFalse();
      var second = limiter.permit("y");
      assertThat(limiter.idle()).as("a GET is queued").isFalse();
      assertThat(second.get(5, TimeUnit.SECONDS)).as("the second waited").isTrue();
      assertThat(System.nanoTime() - t0).as("until its turn, 250 ms after the first").isGreaterThanOrEqualTo(250 * MS);
    } finally {
      timer.shutdownNow();
    }
  }
}
