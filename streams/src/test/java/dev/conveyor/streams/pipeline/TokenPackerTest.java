package dev.conveyor.streams.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.plan.Packing;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.sample.Decoded;
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
 * Token packing over samples of random lengths (token {@code 1000·i + j} is sample i's j-th, so
 * each is known): rows exactly full, every token once (or dropped, or after the last batch), a
 * sample's pieces contiguous and in order within their segment, and a resume at any batch's
 * end — inside a sample too — giving the batches that followed.
 */
class TokenPackerTest {
  static final StreamTestKit kit = new StreamTestKit();
  static final int SIZE = 200;
  static final int ROWS = 3;
  static final int LENGTH = 16;

  @AfterAll
  static void stop() {
    kit.close();
  }

  static RankSegment segment(long firstBatch, long firstPosition, Map<Long, Long> skips, boolean dropLong) {
    return new RankSegment(0, 0, 1, List.of(), SIZE, SIZE, firstBatch, 0, ROWS, 0, Optional.empty(), firstPosition, true,
        skips, Optional.of(new Packing("text", LENGTH, dropLong)));
  }

  /** Sample i has 1 to 40 tokens (by a seeded draw), every 7th is filtered. */
  static List<ReadEvent> slots(long seed, long from) {
    SplittableRandom r = new SplittableRandom(seed);
    List<ReadEvent> out = new ArrayList<>();
    for (int i = 0; i < SIZE; i++) {
      int n = 1 + r.nextInt(40);
      if (i < from) {
        continue;
      }
      if (i % 7 == 3) {
        out.add(new ReadEvent.Slot(i, new Filtered("s", "" + i, "f")));
        continue;
      }
      int[] t = new int[n];
      for (int j = 0; j < n; j++) {
        t[j] = 1000 * i + j;
      }
      out.add(new ReadEvent.Slot(i, new RawSample("s", "" + i, List.of(),
          Optional.of(new Decoded(Optional.empty(), Optional.empty(), Map.of())))
          .withDecoded(new Decoded(Optional.empty(), Optional.empty(), Map.of()).withTokens("text", t))));
    }
    return out;
  }

  static List<RawBatch> run(List<ReadEvent> slots, RankSegment seg) throws Exception {
    List<RankEvent> events = Source.from(slots).via(new BatchGate(1, 1).batches(seg, n -> { }))
        .runWith(Sink.seq(), kit.mat).toCompletableFuture().get(30, TimeUnit.SECONDS);
    return events.stream().filter(e -> e instanceof RawBatch).map(e -> (RawBatch) e).toList();
  }

  static int[] field(RawSample row, String name) {
    return row.decoded().orElseThrow().tokens().get(name);
  }

  @Test
  void rowsAreExactlyFullEveryTokenIsInOneRowOnceAndASamplesPiecesAreInOrder() throws Exception {
    long seed = new SplittableRandom().nextLong();
    for (boolean drop : new boolean[] {false, true}) {
      List<RawBatch> batches = run(slots(seed, 0), segment(0, 0, Map.of(), drop));
      assertThat(batches).as("seed %d drop %s", seed, drop).hasSizeGreaterThan(5);
      Set<Integer> seen = new HashSet<>();
      for (RawBatch b : batches) {
        assertThat(b.samples()).hasSize(ROWS);
        for (RawSample row : b.samples()) {
          int[] t = field(row, "text");
          int[] s = field(row, "text_segments");
          assertThat(t).hasSize(LENGTH);
          for (int x = 0; x < LENGTH; x++) {
            assertThat(seen.add(t[x])).as("seed %d: token %d once", seed, t[x]).isTrue();
            assertThat(s[x]).isPositive();
            if (x > 0 && s[x] == s[x - 1]) {
              assertThat(t[x]).as("a piece is its sample's next tokens").isEqualTo(t[x - 1] + 1);
            }
            if (x > 0) {
              assertThat(s[x]).isGreaterThanOrEqualTo(s[x - 1]);
            }
          }
        }
      }
      // every token of every kept sample before the last batch's end is in a row (or its sample dropped as too long)
      RawBatch last = batches.get(batches.size() - 1);
      SplittableRandom r = new SplittableRandom(seed);
      for (int i = 0; i < SIZE; i++) {
        int n = 1 + r.nextInt(40);
        if (i % 7 == 3 || i > last.end()) {
          continue;
        }
        boolean dropped = drop && n > LENGTH;
        for (int j = 0; j < n; j++) {
          boolean before = i < last.end() || j < last.endOffset();
          assertThat(seen.contains(1000 * i + j)).as("seed %d drop %s: token %d of sample %d", seed, drop, j, i)
              .isEqualTo(before && !dropped);
        }
      }
    }
  }

  @Test
  void aResumeAtAnyBatchsEndInsideASampleTooGivesTheBatchesThatFollowed() throws Exception {
    long seed = new SplittableRandom().nextLong();
    List<RawBatch> whole = run(slots(seed, 0), segment(0, 0, Map.of(), false));
    int inside = 0;
    for (int k = 1; k < whole.size(); k++) {
      RawBatch at = whole.get(k - 1);
      inside += at.endOffset() > 0 ? 1 : 0;
      Map<Long, Long> skips = at.endOffset() > 0 ? Map.of(at.end(), at.endOffset()) : Map.of();
      List<RawBatch> rest = run(slots(seed, at.end()), segment(k, at.end(), skips, false));
      assertThat(rest).as("seed %d, resumed after batch %d", seed, k - 1).hasSize(whole.size() - k);
      for (int j = 0; j < rest.size(); j++) {
        for (int row = 0; row < ROWS; row++) {
          assertThat(field(rest.get(j).samples().get(row), "text"))
              .isEqualTo(field(whole.get(k + j).samples().get(row), "text"));
        }
      }
    }
    assertThat(inside).as("some batch ends inside a sample").isPositive();
  }
}
