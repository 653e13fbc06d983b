package dev.conveyor.streams.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The adaptive concurrency limit: halves once per throttling event, grows by one per window of successes. */
class AimdLimiterTest {

  @Test
  void throttlingHalvesTheRequestsInFlightAndSuccessesWinThemBackOneAWindowAtATime() {
    ReaderMetrics metrics = new ReaderMetrics();
    AimdLimiter limiter = new AimdLimiter(1, 16, metrics);
    List<CompletableFuture<Void>> granted = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      granted.add(limiter.acquire());
    }
    assertThat(granted).allMatch(CompletableFuture::isDone);
    CompletableFuture<Void> waiting = limiter.acquire();
    assertThat(waiting).isNotDone();

    // one overload: all 16 in flight come back throttled, but the limit halves once, not 16 times
    for (int i = 0; i < 16; i++) {
      limiter.release(true);
    }
    assertThat(limiter.limit()).isEqualTo(8);
    assertThat(metrics.snapshot().concurrencyLimit()).isEqualTo(8);
    assertThat(waiting).isDone(); // a permit below the new limit went to the waiting request

    // 7 more fill the limit of 8; the 9th waits
    List<CompletableFuture<Void>> more = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      more.add(limiter.acquire());
    }
    assertThat(more.subList(0, 7)).allMatch(CompletableFuture::isDone);
    assertThat(more.get(7)).isNotDone();

    // eight successes (one window at limit 8) add one: the waiting request goes
    for (int i = 0; i < 8; i++) {
      limiter.release(false);
    }
    assertThat(limiter.limit()).isEqualTo(9);
    assertThat(more.get(7)).isDone();
  }

  @Test
  void theLimitNeverFallsBelowTheFloorNorRisesAboveTheCeiling() {
    AimdLimiter limiter = new AimdLimiter(2, 4, new ReaderMetrics());
    for (int round = 0; round < 10; round++) {
      limiter.acquire();
      limiter.acquire();
      limiter.release(true);
      limiter.release(true);
    }
    assertThat(limiter.limit()).isEqualTo(2);
    for (int i = 0; i < 1000; i++) {
      limiter.acquire();
      limiter.release(false);
    }
    assertThat(limiter.limit()).isEqualTo(4);
  }
}
