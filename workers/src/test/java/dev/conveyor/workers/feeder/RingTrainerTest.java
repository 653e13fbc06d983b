package dev.conveyor.workers.feeder;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.batch.Skipped;
import dev.conveyor.streams.sample.DeadLetter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A trainer process fed through a ring: delivery at hand-off, skips in their place, nothing left behind. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RingTrainerTest {
  @JUnit5TestKit
  public final ActorTestKit kit = new JUnit5TestKitBuilder().build();
  final Materializer mat = Materializer.createMaterializer(kit.system());

  @TempDir
  Path dir;

  RingTrainer.Settings settings(Duration attach) {
    return new RingTrainer.Settings(dir, 0, 1L << 24, 2, attach, Duration.ofSeconds(20));
  }

  static List<RankEvent> events(int batches) {
    List<RankEvent> l = new ArrayList<>(RankFeederTest.batches(batches));
    l.add(3, new Skipped(0, 0, 2, new DeadLetter("s", "bad", "broken")));
    l.add(new Skipped(0, 0, batches, new DeadLetter("s", "late", "broken")));
    return l;
  }

  @Test
  void aBatchCountsAsDeliveredWhenTheTrainerIsHandedItNotWhenItIsWritten() throws Exception {
    List<String> reports = new CopyOnWriteArrayList<>();
    AtomicReference<RingTrainer.Announced> announced = new AtomicReference<>();
    CompletableFuture<Optional<String>> ended = new CompletableFuture<>();
    try (RankFeeder f = RankFeeder.start(Source.from(events(10)), 8, mat,
        b -> reports.add("batch " + b.index()), s -> reports.add("skip " + s.deadLetter().key()))) {
      RingTrainer.start(settings(Duration.ofSeconds(10)), "ring-test", 0, f, b -> "cursor-" + b.index(),
          announced::set, () -> true, ended::complete);
      while (announced.get() == null) {
        Thread.sleep(1);
      }
      ShmRingTest.Reader reader = new ShmRingTest.Reader(announced.get().file()).attach();
      assertThat(reader.handOut()).isTrue();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (reader.published() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(1); // the writer runs ahead to the ring's depth
      }
      Thread.sleep(200);
      assertThat(reader.published()).isEqualTo(2); // depth 2: written ahead...
      assertThat(reports).containsExactly("batch 0"); // ...but only the batch handed over counts
      while (reader.handOut()) {
        Thread.sleep(2);
      }
      assertThat(ended.get(10, TimeUnit.SECONDS)).isEmpty();
      assertThat(reports).containsExactly("batch 0", "batch 1", "batch 2", "skip bad", "batch 3", "batch 4", "batch 5",
          "batch 6", "batch 7", "batch 8", "batch 9", "skip late");
      assertThat(Files.exists(announced.get().file())).as("the ring's file, removed once mapped").isFalse();
    }
  }

  @Test
  void aHeldWriterPublishesNoBatchPastTheHoldAndReportsWhatTheTrainerTakesMeanwhile() throws Exception {
    List<String> reports = new CopyOnWriteArrayList<>();
    AtomicReference<RingTrainer.Announced> announced = new AtomicReference<>();
    CompletableFuture<Optional<String>> ended = new CompletableFuture<>();
    TrainerHold hold = new TrainerHold();
    hold.holdAt(3);
    try (RankFeeder f = RankFeeder.start(Source.from(events(10)), 8, mat,
        b -> reports.add("batch " + b.index()), s -> reports.add("skip " + s.deadLetter().key()))) {
      RingTrainer.start(settings(Duration.ofSeconds(10)), "ring-test", 0, f, b -> "c", announced::set, () -> true,
          ended::complete, hold, List.of());
      while (announced.get() == null) {
        Thread.sleep(1);
      }
      ShmRingTest.Reader reader = new ShmRingTest.Reader(announced.get().file()).attach();
      for (int i = 0; i < 3; i++) {
        assertThat(reader.handOut()).isTrue();
      }
      // the trainer has its 3 batches, each reported as delivered, and the writer stops there
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (reports.stream().filter(r -> r.startsWith("batch")).count() < 3 && System.nanoTime() < deadline) {
        Thread.sleep(2);
      }
      assertThat(reports).containsExactly("batch 0", "batch 1", "batch 2");
      assertThat(hold.taken()).isEqualTo(3);
      Thread.sleep(300); // time to write ahead, were it not held
      assertThat(reader.published()).as("nothing written past the hold").isEqualTo(3);
      assertThat(ended).isNotDone();
      hold.holdAt(-1); // lifted: the rest comes
      while (reader.handOut()) {
        Thread.sleep(2);
      }
      assertThat(ended.get(10, TimeUnit.SECONDS)).isEmpty();
      assertThat(reports).containsExactly("batch 0", "batch 1", "batch 2", "skip bad", "batch 3", "batch 4", "batch 5",
          "batch 6", "batch 7", "batch 8", "batch 9", "skip late");
      assertThat(hold.taken()).as("the hold counts batches only").isEqualTo(10);
    }
  }

  @Test
  void aRingNoTrainerMapsFailsTheRankAndLeavesNoFile() throws Exception {
    AtomicReference<RingTrainer.Announced> announced = new AtomicReference<>();
    CompletableFuture<Optional<String>> ended = new CompletableFuture<>();
    AtomicLong delivered = new AtomicLong();
    try (RankFeeder f = RankFeeder.start(Source.from(events(10)), 8, mat, b -> delivered.incrementAndGet(), s -> { })) {
      RingTrainer.start(settings(Duration.ofSeconds(1)), "ring-test", 0, f, b -> "c", announced::set, () -> true,
          ended::complete);
      assertThat(ended.get(20, TimeUnit.SECONDS)).hasValueSatisfying(why -> assertThat(why)
          .contains("no trainer mapped the ring").contains("within 1 s"));
      assertThat(delivered).hasValue(0);
      assertThat(Files.exists(announced.get().file())).isFalse();
    }
  }

  @Test
  void aTrainerThatGoesAwayFailsTheRankInsteadOfHoldingIt() throws Exception {
    AtomicReference<RingTrainer.Announced> announced = new AtomicReference<>();
    CompletableFuture<Optional<String>> ended = new CompletableFuture<>();
    java.util.concurrent.atomic.AtomicBoolean there = new java.util.concurrent.atomic.AtomicBoolean(true);
    try (RankFeeder f = RankFeeder.start(Source.from(events(30)), 8, mat, b -> { }, s -> { })) {
      RingTrainer.start(settings(Duration.ofSeconds(10)), "ring-test", 0, f, b -> "c", announced::set, there::get,
          ended::complete);
      while (announced.get() == null) {
        Thread.sleep(1);
      }
      ShmRingTest.Reader reader = new ShmRingTest.Reader(announced.get().file()).attach();
      reader.handOut();
      there.set(false); // its connection closed; the ring fills and the writer looks
      assertThat(ended.get(10, TimeUnit.SECONDS)).hasValueSatisfying(why -> assertThat(why)
          .isEqualTo("the trainer of rank 0 is gone"));
      assertThat(reader.map.getInt(ShmRing.STATE)).as("the ring says it failed").isEqualTo(2);
    }
  }
}
