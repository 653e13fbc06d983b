package dev.conveyor.streams.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.batch.Skipped;
import dev.conveyor.streams.plan.Bucketing;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.sample.Decoded;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.Filtered;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.testing.StreamTestKit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Length buckets over samples of random lengths (a seeded draw; sample i is key "i"): every batch
 * is one bucket's batch size of samples of that bucket, every kept sample is delivered once, left
 * in a bucket when its pool closed (counted), or after the last batch; a resume at any batch's
 * end — inside a pool too — gives the batches that followed, counting nothing twice.
 */
class BucketCutterTest {
  static final StreamTestKit kit = new StreamTestKit();
  static final int SIZE = 400;
  static final Bucketing BUCKETS = new Bucketing("text", new int[] {8, 24}, new int[] {6, 3, 2}, 20);

  @AfterAll
  static void stop() {
    kit.close();
  }

  static RankSegment segment(long firstBatch, long firstPosition, Map<Long, Long> skips) {
    return new RankSegment(0, 0, 1, List.of(), SIZE, SIZE / 2, firstBatch, 0, 6, 0, Optional.empty(), firstPosition, true,
        skips, Optional.of(BUCKETS));
  }

  static int length(long seed, int i) {
    return 1 + new SplittableRandom(seed + i).nextInt(40);
  }

  /** Sample i has 1 to 40 tokens; every 7th is filtered, every 50th bad. */
  static List<ReadEvent> slots(long seed, long from) {
    List<ReadEvent> out = new ArrayList<>();
    for (int i = (int) from; i < SIZE; i++) {
      if (i % 7 == 3) {
        out.add(new ReadEvent.Slot(i, new Filtered("s", "" + i, "f")));
      } else if (i % 50 == 11) {
        out.add(new ReadEvent.Slot(i, new DeadLetter("s", "" + i, "corrupt")));
      } else {
        out.add(new ReadEvent.Slot(i, new RawSample("s", "" + i, List.of(), Optional.of(
            new Decoded(Optional.empty(), Optional.empty(), Map.of()).withTokens("text", new int[length(seed, i)])))));
      }
    }
    return out;
  }

  static List<RankEvent> run(List<ReadEvent> slots, RankSegment seg) throws Exception {
    return Source.from(slots).via(new BatchGate(1, 1).batches(seg, n -> { })).runWith(Sink.seq(), kit.mat)
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static List<RawBatch> batches(List<RankEvent> events) {
    return events.stream().filter(e -> e instanceof RawBatch).map(e -> (RawBatch) e).toList();
  }

  static List<String> keys(RawBatch b) {
    return b.samples().stream().map(RawSample::key).toList();
  }

  @Test
  void everyBatchIsOneBucketsSizeAndEveryKeptSampleIsDeliveredOnceOrLeftInItsPoolsBuckets() throws Exception {
    long seed = new SplittableRandom().nextLong();
    List<RankEvent> events = run(slots(seed, 0), segment(0, 0, Map.of()));
    List<RawBatch> batches = batches(events);
    assertThat(batches).as("seed %d", seed).hasSizeGreaterThan(20);
    Set<String> seen = new HashSet<>();
    long filtered = 0;
    for (RawBatch b : batches) {
      int bucket = BUCKETS.bucketOf(length(seed, Integer.parseInt(b.samples().get(0).key())));
      assertThat(b.samples()).as("seed %d", seed).hasSize(BUCKETS.batchSizes()[bucket])
          .allMatch(s -> BUCKETS.bucketOf(length(seed, Integer.parseInt(s.key()))) == bucket)
          .allMatch(s -> seen.add(s.key()));
      filtered += b.filtered();
    }
    long kept = java.util.stream.IntStream.range(0, SIZE).filter(i -> i % 7 != 3 && i % 50 != 11).count();
    RawBatch last = batches.get(batches.size() - 1);
    long after = java.util.stream.IntStream.range((int) last.end(), SIZE).filter(i -> i % 7 != 3 && i % 50 != 11).count();
    long filters = java.util.stream.IntStream.range(0, (int) last.end()).filter(i -> i % 7 == 3).count();
    // each kept sample up to the last batch's pool: delivered, or left in a bucket and counted as filtered
    assertThat(seen.size() + (filtered - filters) + after).as("seed %d", seed).isEqualTo(kept);
    assertThat(filtered - filters).as("seed %d: buckets left partly filled", seed).isPositive();
    long bad = java.util.stream.IntStream.range(0, SIZE).filter(i -> i % 7 != 3 && i % 50 == 11).count();
    assertThat(events.stream().filter(e -> e instanceof Skipped)).hasSize((int) bad); // every bad sample once
  }

  @Test
  void aResumeAtAnyBatchsEndInsideAPoolTooGivesTheBatchesThatFollowedCountingNothingTwice() throws Exception {
    long seed = new SplittableRandom().nextLong();
    List<RankEvent> all = run(slots(seed, 0), segment(0, 0, Map.of()));
    List<RawBatch> whole = batches(all);
    int inside = 0;
    for (int k = 1; k < whole.size(); k++) {
      RawBatch at = whole.get(k - 1);
      inside += at.endOffset() > 0 ? 1 : 0;
      Map<Long, Long> skips = at.endOffset() > 0 ? Map.of(at.end(), at.endOffset()) : Map.of();
      List<RankEvent> events = run(slots(seed, at.end()), segment(k, at.end(), skips));
      List<RawBatch> rest = batches(events);
      assertThat(rest).as("seed %d, resumed after batch %d", seed, k - 1).hasSize(whole.size() - k);
      long filtered = 0;
      long filteredBefore = 0;
      for (int j = 0; j < rest.size(); j++) {
        assertThat(keys(rest.get(j))).isEqualTo(keys(whole.get(k + j)));
        assertThat(rest.get(j).end()).isEqualTo(whole.get(k + j).end());
        assertThat(rest.get(j).endOffset()).isEqualTo(whole.get(k + j).endOffset());
        filtered += rest.get(j).filtered();
        filteredBefore += whole.get(k + j).filtered();
      }
      // a pool read again counts nothing again: the filtered, left-out and bad samples of the batches that followed
      assertThat(filtered).as("seed %d, resumed after batch %d", seed, k - 1).isEqualTo(filteredBefore);
      long badAfter = all.subList(all.indexOf(at) + 1, all.size()).stream().filter(e -> e instanceof Skipped).count();
      assertThat(events.stream().filter(e -> e instanceof Skipped)).hasSize((int) badAfter);
    }
    assertThat(inside).as("seed %d: some batches end inside a pool", seed).isPositive();
  }
}
