package dev.conveyor.workers.feeder;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.sample.Member;
import dev.conveyor.streams.sample.RawSample;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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

/** Stand-in trainers take their ranks' batches in lockstep, and a rank that ends frees the others. */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // one actor system for the class, shut down after it
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LockstepTrainersTest {
  @JUnit5TestKit
  public ActorTestKit kit = new JUnit5TestKitBuilder().build();

  static List<RankEvent> batches(int rank, int n) {
    List<RankEvent> l = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      l.add(new RawBatch(0, rank, i, i, List.of(new RawSample("s", "r" + rank + "-" + i,
          List.of(new Member("bin", ByteString.fromString("x")))))));
    }
    return l;
  }

  /** Runs ranks whose loaders make a batch every {@code loaderMs[r]}; returns the ranks in the order their trainers took. */
  List<Integer> takes(int[] counts, long[] loaderMs) throws Exception {
    Materializer mat = Materializer.createMaterializer(kit.system());
    LockstepTrainers trainers = new LockstepTrainers(Duration.ZERO, Duration.ofSeconds(30));
    List<Integer> order = Collections.synchronizedList(new ArrayList<>());
    Map<Integer, Optional<String>> ends = new ConcurrentHashMap<>();
    CountDownLatch done = new CountDownLatch(counts.length);
    List<Integer> ranks = new ArrayList<>();
    for (int r = 0; r < counts.length; r++) {
      ranks.add(r);
    }
    trainers.expect(ranks);
    for (int r = 0; r < counts.length; r++) {
      int rank = r;
      RankFeeder f = RankFeeder.start(Source.from(batches(r, counts[r])).throttle(1, Duration.ofMillis(loaderMs[r])), 4,
          mat, b -> order.add(rank), s -> { });
      trainers.start("trainer-" + r, r, f, () -> { }, failed -> {
        ends.put(rank, failed);
        done.countDown();
      });
    }
    assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(ends.values()).allMatch(Optional::isEmpty);
    return order;
  }

  @Test
  void noRankTakesItsNextBatchBeforeEveryOtherRankHasTakenItsCurrentOne() throws Exception {
    // rank 0's loader is ten times faster than rank 2's: without the lockstep it would run ahead
    List<Integer> order = takes(new int[] {12, 12, 12}, new long[] {2, 8, 20});
    assertThat(order).hasSize(36);
    int[] taken = new int[3];
    for (int rank : order) {
      taken[rank]++;
      for (int other = 0; other < 3; other++) {
        assertThat(taken[rank] - taken[other]).as("after " + order).isLessThanOrEqualTo(1);
      }
    }
  }

  @Test
  void aRankThatHasEndedHoldsNoOneBack() throws Exception {
    List<Integer> order = takes(new int[] {10, 3}, new long[] {2, 2});
    assertThat(order.stream().filter(r -> r == 0)).hasSize(10);
    assertThat(order.stream().filter(r -> r == 1)).hasSize(3);
    assertThat(order.subList(6, 13)).as("rank 1 is done after its 3: rank 0 goes on alone").containsOnly(0);
  }

  @Test
  void heldAtSevenBatchesTheTrainersTakeExactlySevenUntilTheHoldMovesThenTheRest() throws Exception {
    Materializer mat = Materializer.createMaterializer(kit.system());
    TrainerHold hold = new TrainerHold();
    hold.holdAt(7); // not a multiple of the 3 ranks: a round is cut short
    LockstepTrainers trainers = new LockstepTrainers(Duration.ZERO, Duration.ofSeconds(30), hold);
    java.util.concurrent.atomic.AtomicInteger taken = new java.util.concurrent.atomic.AtomicInteger();
    CountDownLatch seventh = new CountDownLatch(7);
    CountDownLatch done = new CountDownLatch(3);
    trainers.expect(List.of(0, 1, 2));
    for (int r = 0; r < 3; r++) {
      RankFeeder f = RankFeeder.start(Source.from(batches(r, 5)), 4, mat, b -> {
        taken.incrementAndGet();
        seventh.countDown();
      }, s -> { });
      trainers.start("trainer-" + r, r, f, () -> { }, failed -> done.countDown());
    }
    assertThat(seventh.await(30, TimeUnit.SECONDS)).isTrue();
    // the trainers are seen waiting at the hold: every one of them has asked for its next take
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!holding() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(hold.taken()).isEqualTo(7);
    assertThat(taken.get()).as("no batch past the hold").isEqualTo(7);
    hold.holdAt(11);
    assertThat(waitFor(() -> taken.get() == 11)).isTrue();
    hold.holdAt(-1);
    assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(taken.get()).isEqualTo(15);
  }

  /** Whether the three trainers' threads are all parked (at the hold or the lockstep turn). */
  static boolean holding() {
    return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("trainer-"))
        .filter(t -> t.getState() == Thread.State.WAITING).count() == 3;
  }

  static boolean waitFor(java.util.function.BooleanSupplier c) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(10);
    }
    return true;
  }
}
