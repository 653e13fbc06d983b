package dev.conveyor.workers.feeder;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.sample.Member;
import dev.conveyor.streams.sample.RawSample;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The trainer hand-off: prefetch ahead, count only what the trainer took, and measure its stall honestly. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RankFeederTest {
  @JUnit5TestKit
  public final ActorTestKit kit = new JUnit5TestKitBuilder().build();
  final Materializer mat = Materializer.createMaterializer(kit.system());

  static List<RankEvent> batches(int n) {
    List<RankEvent> l = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      l.add(new RawBatch(0, 0, i, i, List.of(new RawSample("s", "k" + i, List.of(new Member("bin", ByteString.fromString("x" + i)))))));
    }
    return l;
  }

  /** A loader that makes one batch every {@code loaderMs}, counting what it made. */
  static Source<RankEvent, ?> loader(List<RankEvent> all, long loaderMs, AtomicLong made) {
    return Source.from(all).throttle(1, Duration.ofMillis(loaderMs)).map(e -> {
      made.incrementAndGet();
      return e;
    });
  }

  /** A training step: the thread stays busy for {@code ms}, as a trainer computing does (a sleep would idle the core). */
  static void step(long ms) {
    long end = System.nanoTime() + ms * 1_000_000;
    while (System.nanoTime() < end) {
      Thread.onSpinWait();
    }
  }

  /** Takes every batch, training {@code stepMs} on each; returns what it got. */
  static List<RankEvent> train(RankFeeder f, long stepMs, Runnable midway) throws Exception {
    List<RankEvent> got = new ArrayList<>();
    for (Optional<RawBatch> b = f.next(Duration.ofSeconds(10)); b.isPresent(); b = f.next(Duration.ofSeconds(10))) {
      got.add(b.get());
      if (got.size() == 20) {
        midway.run();
      }
      step(stepMs);
    }
    return got;
  }

  @Test
  void aLoaderFasterThanTheTrainerNeverMakesItWaitAndOnlyTakenBatchesCount() throws Exception {
    List<RankEvent> all = batches(60);
    AtomicLong made = new AtomicLong();
    AtomicLong reported = new AtomicLong();
    long[] atTwenty = new long[2];
    try (RankFeeder f = RankFeeder.start(loader(all, 2, made), 8, mat, b -> reported.incrementAndGet(), s -> { })) {
      List<RankEvent> got = train(f, 15, () -> {
        atTwenty[0] = reported.get();
        atTwenty[1] = made.get();
      });
      assertThat(got).isEqualTo(all);
      assertThat(f.delivered()).isEqualTo(60);
      assertThat(reported.get()).isEqualTo(60);
      // when the trainer had taken 20, the cursor counted 20 while the loader had made more (the ring)
      assertThat(atTwenty[0]).isEqualTo(20);
      assertThat(atTwenty[1]).isGreaterThan(20).isLessThanOrEqualTo(20 + 8 + 2);
      System.err.printf("trainer 15 ms/step, loader 2 ms/batch, ring 8: stall %.3f%%%n", f.stall() * 100);
      assertThat(f.stall()).isLessThan(0.01);
    }
  }

  @Test
  void aLoaderSlowerThanTheTrainerShowsAsStall() throws Exception {
    AtomicLong made = new AtomicLong();
    try (RankFeeder f = RankFeeder.start(loader(batches(30), 20, made), 4, mat, b -> { }, s -> { })) {
      train(f, 1, () -> { });
      assertThat(f.stall()).isGreaterThan(0.5);
    }
  }

  @Test
  void skipsAreReportedInPlaceAndAFailureReachesTheTrainer() throws Exception {
    List<RankEvent> events = new ArrayList<>(batches(3));
    events.add(1, new dev.conveyor.streams.batch.Skipped(0, 0, 1, new dev.conveyor.streams.sample.DeadLetter("s", "k", "bad")));
    List<Object> seen = new ArrayList<>();
    try (RankFeeder f = RankFeeder.start(Source.from(events), 2, mat, seen::add, seen::add)) {
      while (f.next(Duration.ofSeconds(5)).isPresent()) {
        // take them all
      }
    }
    assertThat(seen).isEqualTo(events);

    // a failing stream: the failure reaches the trainer (Pekko lets a failure overtake elements
    // still in flight, so what came before it is a prefix of the stream, in order)
    List<Object> before = new ArrayList<>();
    Source<RankEvent, ?> failing = Source.from(events)
        .concat(Source.lazySource(() -> Source.<RankEvent>failed(new RuntimeException("the store is gone"))));
    try (RankFeeder f = RankFeeder.start(failing, 2, mat, before::add, before::add)) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
        while (true) {
          f.next(Duration.ofSeconds(5));
        }
      }).isInstanceOf(IllegalStateException.class).hasMessageContaining("the store is gone");
    }
    assertThat(events.subList(0, before.size())).isEqualTo(before);
  }

  @Test
  void itsFiguresAnswerAtOnceWhileTheTrainerWaitsForABatch() throws Exception {
    // nothing comes: the trainer waits in next(); /metrics reads stall() and delivered() on a
    // dispatcher thread meanwhile, and must not wait for the batch too
    RankFeeder feeder = RankFeeder.start(Source.<RankEvent>maybe().mapMaterializedValue(m -> m), 2, mat, b -> { }, s -> { });
    Thread trainer = new Thread(() -> {
      try {
        feeder.next(Duration.ofSeconds(20));
      } catch (Exception e) {
        // stopped below
      }
    });
    trainer.start();
    Thread.sleep(200);
    java.util.concurrent.CompletableFuture<Double> stall = java.util.concurrent.CompletableFuture.supplyAsync(
        () -> feeder.stall() + feeder.stallSeconds() + feeder.delivered());
    assertThat(stall.get(2, TimeUnit.SECONDS)).isZero();
    assertThat(trainer.isAlive()).as("the trainer still waits").isTrue();
    trainer.interrupt();
    feeder.close();
    trainer.join(5_000);
  }
}
