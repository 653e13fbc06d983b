package dev.conveyor.streams.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.batch.Skipped;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.Filtered;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.ShardRecord;
import dev.conveyor.streams.testing.StreamTestKit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntPredicate;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Full batches of three ranks in one process, agreed through one gate: each rank's filter keeps a
 * different share, yet every rank steps the same number of times, every batch is full, and what
 * is left after the epoch's last step is counted, not delivered.
 */
class BatchGateTest {
  static final StreamTestKit kit = new StreamTestKit();
  static final int BATCH = 4;
  static final int SIZE = 120;

  @AfterAll
  static void stop() {
    kit.close();
  }

  static RankSegment segment(int rank, int world, long firstBatch, long firstPosition) {
    return segment(rank, world, firstBatch, firstPosition, java.util.Map.of());
  }

  static RankSegment segment(int rank, int world, long firstBatch, long firstPosition, java.util.Map<Long, Long> skips) {
    return new RankSegment(0, rank, world, List.of(), SIZE, SIZE / BATCH, firstBatch, 0, BATCH, 0, Optional.empty(),
        firstPosition, true, skips, Optional.empty());
  }

  /** Rank {@code rank}'s slots from {@code from}: kept where {@code keep} says, filtered elsewhere, bad at {@code bad}. */
  static Source<ReadEvent, ?> slots(int rank, long from, IntPredicate keep, int bad) {
    List<ReadEvent> events = new ArrayList<>();
    for (int p = (int) from; p < SIZE; p++) {
      String key = rank + "-" + p;
      ShardRecord r = p == bad ? new DeadLetter("s", key, "corrupt")
          : keep.test(p) ? new RawSample("s", key, List.of()) : new Filtered("s", key, "f");
      events.add(new ReadEvent.Slot(p, r));
    }
    return Source.from(events);
  }

  record Ran(List<List<RankEvent>> events, long[] leftOver) {}

  static Ran run(BatchGate gate, List<RankSegment> segs, List<IntPredicate> keep, int badAt) throws Exception {
    List<CompletableFuture<List<RankEvent>>> runs = new ArrayList<>();
    long[] leftOver = new long[segs.size()];
    for (RankSegment seg : segs) {
      AtomicLong left = new AtomicLong(-1);
      runs.add(slots(seg.rank(), seg.firstPosition(), keep.get(seg.rank()), seg.rank() == 0 ? badAt : -1)
          .via(gate.batches(seg, n -> leftOver[seg.rank()] = n))
          .runWith(Sink.seq(), kit.mat).toCompletableFuture());
    }
    List<List<RankEvent>> out = new ArrayList<>();
    for (CompletableFuture<List<RankEvent>> f : runs) {
      out.add(f.get(30, TimeUnit.SECONDS));
    }
    return new Ran(out, leftOver);
  }

  static List<RawBatch> batches(List<RankEvent> events) {
    return events.stream().filter(e -> e instanceof RawBatch).map(e -> (RawBatch) e).toList();
  }

  @Test
  void ranksKeepingDifferentSharesStepAlikeWithFullBatchesAndTheRestIsLeftOver() throws Exception {
    // rank 0 keeps 1 in 3 (40: 10 batches), rank 1 1 in 10 (12: 3 batches), rank 2 1 in 5 (24: 6 batches)
    List<IntPredicate> keep = List.of(p -> p % 3 == 0, p -> p % 10 == 0, p -> p % 5 == 0);
    BatchGate gate = new BatchGate(3, 2);
    Ran ran = run(gate, List.of(segment(0, 3, 0, 0), segment(1, 3, 0, 0), segment(2, 3, 0, 0)), keep, 7);
    for (int r = 0; r < 3; r++) {
      List<RawBatch> b = batches(ran.events().get(r));
      assertThat(b).as("rank %d steps as the rank with fewest kept samples", r).hasSize(3);
      for (int k = 0; k < 3; k++) {
        assertThat(b.get(k).samples()).hasSize(BATCH);
        assertThat(b.get(k).index()).isEqualTo(k);
        assertThat(b.get(k).ends()[r]).as("the release carries the rank's own end").isEqualTo(b.get(k).end());
      }
    }
    // rank 1's third batch ends after its 12th kept sample, position 110; rank 0's after position 33 (12th of 1 in 3)
    assertThat(batches(ran.events().get(0)).get(2).ends()).containsExactly(34, 111, 56);
    assertThat(batches(ran.events().get(0)).get(0).filtered()).isEqualTo(5); // positions 0..9: 4 kept, 7 bad, 5 filtered
    assertThat(ran.events().get(0).stream().filter(e -> e instanceof Skipped)).hasSize(1);
    assertThat(ran.leftOver()).containsExactly(SIZE - 34, SIZE - 111, SIZE - 56);
  }

  @Test
  void ranksInTwoProcessesWhoseGatesTradeNewsStepAsOneGateWouldHaveThemStep() throws Exception {
    List<IntPredicate> keep = List.of(p -> p % 3 == 0, p -> p % 10 == 0, p -> p % 5 == 0);
    // ranks 0 and 2 in one process, rank 1 in another; what each gate publishes the other is told
    BatchGate[] gates = new BatchGate[2];
    List<BatchGate.News> told = java.util.Collections.synchronizedList(new ArrayList<>());
    gates[0] = new BatchGate(3, 2, 2, n -> {
      told.add(n);
      gates[1].news(n);
    });
    List<BatchGate.News> heard = java.util.Collections.synchronizedList(new ArrayList<>());
    gates[1] = new BatchGate(3, 1, 2, n -> {
      heard.add(n);
      gates[0].news(n);
    });
    long[] leftOver = new long[3];
    List<CompletableFuture<List<RankEvent>>> runs = new ArrayList<>();
    for (int r = 0; r < 3; r++) {
      int rank = r;
      runs.add(slots(r, 0, keep.get(r), r == 0 ? 7 : -1)
          .via(gates[r == 1 ? 1 : 0].batches(segment(r, 3, 0, 0), n -> leftOver[rank] = n))
          .runWith(Sink.seq(), kit.mat).toCompletableFuture());
    }
    Ran alone = run(new BatchGate(3, 2), List.of(segment(0, 3, 0, 0), segment(1, 3, 0, 0), segment(2, 3, 0, 0)), keep, 7);
    for (int r = 0; r < 3; r++) {
      List<RankEvent> got = runs.get(r).get(30, TimeUnit.SECONDS);
      assertThat(got).as("rank %d", r).isEqualTo(alone.events().get(r));
    }
    assertThat(leftOver).isEqualTo(alone.leftOver());
    assertThat(told).as("the first process told of its own ranks only").allMatch(n -> n.rank() != 1)
        .anyMatch(n -> n instanceof BatchGate.Started).anyMatch(n -> n instanceof BatchGate.Made);
    // rank 1, the one that keeps fewest, ran out in the second process: that ended the epoch in the first
    assertThat(heard).allMatch(n -> n.rank() == 1).contains(new BatchGate.RanOut(0, 1, 3));
  }

  @Test
  void aResumedSegmentGoesOnFromItsPositionsAndABadSampleLeftOverIsNotReported() throws Exception {
    List<IntPredicate> keep = List.of(p -> p % 3 == 0, p -> p % 10 == 0);
    BatchGate gate = new BatchGate(2, 1);
    // after two batches: rank 0 at position 22 (8 kept), rank 1 at 71 (8 kept)
    Ran ran = run(gate, List.of(segment(0, 2, 2, 22), segment(1, 2, 2, 71)), keep, 100);
    assertThat(batches(ran.events().get(0))).extracting(RawBatch::index).containsExactly(2L);
    assertThat(batches(ran.events().get(1)).get(0).samples()).extracting(RawSample::key)
        .containsExactly("1-80", "1-90", "1-100", "1-110");
    assertThat(batches(ran.events().get(0)).get(0).ends()).containsExactly(34, 111);
    // rank 0's bad sample at 100 lies after the epoch's last step: left over, never reported
    assertThat(ran.events().get(0)).noneMatch(e -> e instanceof Skipped);
    assertThat(ran.leftOver()).containsExactly(SIZE - 34, SIZE - 111);
  }

  @Test
  void aFlatMapsOutputsFillBatchesAcrossSamplesAndAResumeSkipsTheOutputsDelivered() throws Exception {
    // every 10th position a flatMap made into 3 outputs (one of which a later filter left out), the rest filtered
    java.util.function.LongFunction<List<ReadEvent>> slots = from -> {
      List<ReadEvent> events = new ArrayList<>();
      for (int p = (int) from; p < SIZE; p++) {
        List<RawSample> outs = List.of(new RawSample("s", p + "/0", List.of()), new RawSample("s", p + "/1", List.of()),
            new RawSample("s", p + "/2", List.of()));
        events.add(new ReadEvent.Slot(p, p % 10 == 0 ? new dev.conveyor.streams.sample.Expanded("s", "" + p, outs, 1)
            : new Filtered("s", "" + p, "f")));
      }
      return events;
    };
    List<RankEvent> whole = Source.from(slots.apply(0)).via(new BatchGate(1, 1).batches(segment(0, 1, 0, 0), n -> { }))
        .runWith(Sink.seq(), kit.mat).toCompletableFuture().get(30, TimeUnit.SECONDS);
    List<RawBatch> b = batches(whole);
    assertThat(b).hasSize(9); // 12 samples, 36 outputs
    assertThat(b.get(0).samples()).extracting(RawSample::key).containsExactly("0/0", "0/1", "0/2", "10/0");
    assertThat(b.get(0).end()).as("ends after the first output of position 10").isEqualTo(10);
    assertThat(b.get(0).endOffset()).isEqualTo(1);
    assertThat(b.get(0).endOffsets()).containsExactly(1);
    assertThat(b.get(0).filtered()).as("9 positions filtered, and one output each of 0 and 10").isEqualTo(9 + 2);
    assertThat(b.get(1).filtered()).as("positions 11-19 and one output of 20; 10.s was counted with batch 0").isEqualTo(9 + 1);
    // resumed after batch 0: position 10 with one output delivered
    List<RankEvent> rest = Source.from(slots.apply(10))
        .via(new BatchGate(1, 1).batches(segment(0, 1, 1, 10, java.util.Map.of(10L, 1L)), n -> { }))
        .runWith(Sink.seq(), kit.mat).toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertThat(batches(rest)).extracting(RawBatch::samples).isEqualTo(b.subList(1, 9).stream().map(RawBatch::samples)
        .toList());
  }

  @Test
  void aRankWhoseFilterKeepsNothingEndsTheEpochAtNoBatchWithItsSamplesCountedAndEveryStreamCompletes() throws Exception {
    BatchGate gate = new BatchGate(2, 1);
    Ran ran = run(gate, List.of(segment(0, 2, 0, 0), segment(1, 2, 0, 0)), List.of(p -> false, p -> true), 7);
    for (List<RankEvent> events : ran.events()) {
      assertThat(batches(events)).isEmpty();
    }
    // rank 0's bad sample is reported, though the batch it would have gone with never came
    assertThat(ran.events().get(0)).filteredOn(e -> e instanceof Skipped).hasSize(1);
    assertThat(ran.leftOver()).containsExactly(SIZE, SIZE);
  }

  @Test
  void aRunOfBadSamplesLongerThanTheReadAheadNeitherStallsTheRankNorGoesUnreported() throws Exception {
    // 40 kept, then 80 bad: the bad ones' batch is never made, and the gate lets each through as it comes
    BatchGate gate = new BatchGate(1, 1);
    List<ReadEvent> events = new ArrayList<>();
    for (int p = 0; p < SIZE; p++) {
      events.add(new ReadEvent.Slot(p, p < 40 ? new RawSample("s", "k" + p, List.of()) : new DeadLetter("s", "k" + p, "x")));
    }
    long[] leftOver = {-1};
    List<RankEvent> out = Source.from(events).via(gate.batches(segment(0, 1, 0, 0), n -> leftOver[0] = n))
        .runWith(Sink.seq(), kit.mat).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(batches(out)).hasSize(10);
    assertThat(out.stream().filter(e -> e instanceof Skipped)).hasSize(80)
        .allMatch(e -> ((Skipped) e).step() == 10);
    assertThat(leftOver[0]).isEqualTo(80);
  }

  @Test
  void aRankThatFailsFailsTheOthersInsteadOfLeavingThemWaiting() {
    BatchGate gate = new BatchGate(2, 1);
    CompletableFuture<?> healthy = slots(0, 0, p -> true, -1).via(gate.batches(segment(0, 2, 0, 0), n -> { }))
        .runWith(Sink.seq(), kit.mat).toCompletableFuture();
    CompletableFuture<?> failing = slots(1, 0, p -> true, -1).take(5).concat(Source.failed(new RuntimeException("disk")))
        .via(gate.batches(segment(1, 2, 0, 0), n -> { })).runWith(Sink.seq(), kit.mat).toCompletableFuture();
    assertThat(failing).failsWithin(java.time.Duration.ofSeconds(30));
    assertThat(healthy).failsWithin(java.time.Duration.ofSeconds(30))
        .withThrowableOfType(java.util.concurrent.ExecutionException.class).withMessageContaining("rank 1 failed: disk");
  }
}
