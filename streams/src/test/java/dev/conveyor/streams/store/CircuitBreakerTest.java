package dev.conveyor.streams.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The endpoint's breaker: opens after failures in a row, lets one probe through per open period, closes on its success. */
class CircuitBreakerTest {
  final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  final ReaderMetrics metrics = new ReaderMetrics();

  @AfterEach
  void stop() {
    timer.shutdownNow();
  }

  @Test
  void itOpensHoldsRequestsProbesOnceAndClosesWhenTheProbeSucceeds() throws Exception {
    CircuitBreaker b = new CircuitBreaker(3, 100, timer, metrics);
    b.success(b.ticket()); // the endpoint has answered: from now on it can trip
    long sent = b.ticket();
    b.failure(sent);
    b.failure(sent);
    assertThat(b.holding()).isFalse();
    b.failure(sent);
    assertThat(b.holding()).isTrue();
    assertThat(metrics.snapshot().breakerOpens()).isEqualTo(1);

    CompletableFuture<Void> first = b.admit();
    CompletableFuture<Void> second = b.admit();
    assertThat(first).isNotDone();
    // a late answer to a request sent before it opened says nothing about the store now
    b.success(sent);
    assertThat(b.holding()).isTrue();

    first.get(2, TimeUnit.SECONDS); // after open-time, one probe goes
    assertThat(second).isNotDone();
    long probe = b.ticket();
    b.failure(probe); // the probe fails: open again, still one opening counted
    assertThat(metrics.snapshot().breakerOpens()).isEqualTo(1);
    second.get(2, TimeUnit.SECONDS); // the next probe
    CompletableFuture<Void> third = b.admit();
    b.success(b.ticket());
    assertThat(b.holding()).isFalse();
    assertThat(third).isDone(); // everything waiting goes when it closes
    assertThat(metrics.snapshot().breakerState()).isEqualTo("closed");
  }

  @Test
  void anEndpointThatNeverAnsweredDoesNotTripIt() {
    CircuitBreaker b = new CircuitBreaker(2, 100, timer, metrics);
    for (int i = 0; i < 10; i++) {
      b.failure(b.ticket());
    }
    assertThat(b.holding()).isFalse(); // a wrong endpoint fails through bounded attempts instead
    assertThat(b.admit()).isDone();
  }
}
