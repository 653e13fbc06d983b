package dev.conveyor.orchestrator.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.orchestrator.delivery.RankReport.BatchDone;
import dev.conveyor.orchestrator.delivery.RankReport.SkipDone;
import dev.conveyor.streams.sample.DeadLetter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Delivery accounting: lockstep order whatever the interleaving of the ranks, and the bad-sample policy. */
class DeliveryTest {
  @TempDir
  Path dir;

  static BatchDone batch(int epoch, long step, int rank, int samples) {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < samples; i++) {
      keys.add("e" + epoch + "-s" + step + "-r" + rank + "-" + i);
    }
    return new BatchDone(epoch, step, rank, step, "b" + epoch + step + rank, "k" + epoch + step + rank, samples,
        100L * samples, keys, 0, 0);
  }

  static SkipDone skip(int epoch, long step, int rank, String key) {
    return new SkipDone(epoch, step, rank, new DeadLetter("shard-" + rank, key, "bad bytes"));
  }

  /** Each rank's reports in its own order: per epoch, per step, a skip now and then before the batch. */
  static List<List<RankReport>> ranks(int world, int epochs, int steps, long seed) {
    Random rnd = new Random(seed);
    List<List<RankReport>> out = new ArrayList<>();
    for (int r = 0; r < world; r++) {
      List<RankReport> own = new ArrayList<>();
      for (int e = 0; e < epochs; e++) {
        for (int s = 0; s < steps; s++) {
          if (rnd.nextInt(5) == 0) {
            own.add(skip(e, s, r, "bad-" + e + "-" + s + "-" + r));
          }
          own.add(batch(e, s, r, 1 + rnd.nextInt(4)));
        }
      }
      out.add(own);
    }
    return out;
  }

  /** The files written when {@code ranks}' reports arrive interleaved at random (seeded by {@code order}). */
  static List<String> written(List<List<RankReport>> ranks, long order, Path dir) throws IOException {
    Path digests = dir.resolve("d-" + order);
    Path keys = dir.resolve("k-" + order);
    Path dead = dir.resolve("x-" + order);
    List<Integer> served = new ArrayList<>();
    for (int r = 0; r < ranks.size(); r++) {
      served.add(r);
    }
    try (JobOutputs out = new JobOutputs(Optional.of(digests), Optional.of(keys), Optional.of(dead))) {
      Delivery d = new Delivery(served, new Delivery.Policy(false, 1.0), out, line -> { });
      Random rnd = new Random(order);
      int[] next = new int[ranks.size()];
      int left = ranks.size();
      while (left > 0) {
        int r = rnd.nextInt(ranks.size());
        if (next[r] > ranks.get(r).size()) {
          continue;
        }
        if (next[r] == ranks.get(r).size()) {
          d.rankEnded(r);
          next[r]++;
          left--;
        } else {
          d.report(ranks.get(r).get(next[r]++));
        }
      }
      d.finish();
    }
    List<String> all = new ArrayList<>(Files.readAllLines(digests));
    all.add("--");
    all.addAll(Files.readAllLines(keys));
    all.add("--");
    all.addAll(Files.readAllLines(dead));
    return all;
  }

  @Property(tries = 60)
  void theFilesAreTheSameWhateverTheInterleavingOfTheRanks(@ForAll @IntRange(min = 1, max = 5) int world,
      @ForAll @IntRange(min = 1, max = 3) int epochs, @ForAll @IntRange(min = 0, max = 6) int steps,
      @ForAll long seed, @ForAll long order) throws IOException {
    Path tmp = Files.createTempDirectory("delivery");
    try {
      List<List<RankReport>> ranks = ranks(world, epochs, steps, seed);
      assertThat(written(ranks, order, tmp)).isEqualTo(written(ranks, order + 1, tmp));
    } finally {
      try (var files = Files.list(tmp)) {
        for (Path p : files.toList()) {
          Files.delete(p);
        }
      }
      Files.delete(tmp);
    }
  }

  @Test
  void linesAreInLockstepOrderAStepsSkipsBeforeItsBatch() throws IOException {
    List<List<RankReport>> ranks = List.of(
        List.of(batch(0, 0, 0, 1), skip(0, 1, 0, "a"), batch(0, 1, 0, 1)),
        List.of(batch(0, 0, 1, 1), batch(0, 1, 1, 2)));
    List<String> lines = written(ranks, 7, dir);
    assertThat(lines.subList(0, lines.indexOf("--"))).containsExactly(
        "0 0 0 b000 k000", "0 0 1 b001 k001", "0 1 0 b010 k010", "0 1 1 b011 k011");
    assertThat(lines.subList(lines.lastIndexOf("--") + 1, lines.size())).containsExactly("shard-0 a bad bytes");
  }

  @Test
  void aReportIsHeldUntilEverySlowerRankHasReachedIt() throws IOException {
    Path digests = dir.resolve("d");
    try (JobOutputs out = new JobOutputs(Optional.of(digests), Optional.empty(), Optional.empty())) {
      Delivery d = new Delivery(List.of(0, 1), new Delivery.Policy(false, 1.0), out, line -> { });
      d.report(batch(0, 0, 1, 1));
      d.report(batch(0, 1, 1, 1));
      assertThat(d.counts().batches()).as("rank 0 has reported nothing yet").isZero();
      d.report(batch(0, 0, 0, 1));
      assertThat(d.counts().batches()).as("rank 0's step 0; rank 1's waits for rank 0's next report").isEqualTo(1);
      d.report(batch(0, 1, 0, 1));
      assertThat(d.counts().batches()).as("step 0 of rank 1, step 1 of rank 0").isEqualTo(3);
      d.rankEnded(0);
      assertThat(d.counts().batches()).as("rank 0 is done: rank 1's step 1 goes").isEqualTo(4);
      d.rankEnded(1);
      assertThat(d.finish().samples()).isEqualTo(4);
    }
  }

  @Test
  void withOnBadSampleFailTheFirstSkipInLockstepOrderStopsTheJob() throws IOException {
    try (JobOutputs out = new JobOutputs(Optional.empty(), Optional.empty(), Optional.empty())) {
      Delivery d = new Delivery(List.of(0, 1), new Delivery.Policy(true, 1.0), out, line -> { });
      d.report(skip(0, 3, 1, "late")); // rank 1 skipped at step 3, but rank 0 may still skip earlier
      d.report(batch(0, 0, 0, 1));
      // rank 1's next report comes after step 3: rank 0's skip at step 1 is the first
      assertThatThrownBy(() -> d.report(skip(0, 1, 0, "early")))
          .isInstanceOf(BadSampleException.class)
          .hasMessage("bad sample in shard-0: early: bad bytes (on-bad-sample = fail; use --on-bad-sample skip to"
              + " skip and record such samples)");
    }
  }

  @Test
  void deadLettersOverMaxBadFractionStopTheJobFromTheHundredthSampleOn() throws IOException {
    try (JobOutputs out = new JobOutputs(Optional.empty(), Optional.empty(), Optional.empty())) {
      Delivery d = new Delivery(List.of(0), new Delivery.Policy(false, 0.1), out, line -> { });
      for (int s = 0; s < 9; s++) {
        d.report(skip(0, s, 0, "bad" + s));
        d.report(batch(0, s, 0, 10)); // 9 bad of 99 consumed: under 100, not checked
      }
      d.report(skip(0, 9, 0, "bad9"));
      assertThat(d.counts().bad()).as("10 of 100: at the bound, not over it").isEqualTo(10);
      assertThatThrownBy(() -> d.report(skip(0, 9, 0, "bad10")))
          .isInstanceOf(BadSampleException.class)
          .hasMessage("11 of 101 samples consumed were bad (10.9%), over max-bad-fraction 0.100; the last: shard-0"
              + " bad10: bad bytes (see --dead-letter for all; raise conveyor.job.max-bad-fraction to go on)");
    }
  }

  @Test
  void theBoundIsCheckedAtTheEndEvenUnderAHundredSamples() throws IOException {
    try (JobOutputs out = new JobOutputs(Optional.empty(), Optional.empty(), Optional.empty())) {
      Delivery d = new Delivery(List.of(0), new Delivery.Policy(false, 0.1), out, line -> { });
      d.report(skip(0, 0, 0, "bad"));
      d.report(batch(0, 0, 0, 3));
      d.rankEnded(0);
      assertThatThrownBy(d::finish).isInstanceOf(BadSampleException.class)
          .hasMessageStartingWith("1 of 4 samples consumed were bad (25.0%)");
    }
  }

  @Test
  void aJobIsNotFinishedWhileARankHasNotEnded() throws IOException {
    try (JobOutputs out = new JobOutputs(Optional.empty(), Optional.empty(), Optional.empty())) {
      Delivery d = new Delivery(List.of(0, 1), new Delivery.Policy(false, 1.0), out, line -> { });
      d.rankEnded(0);
      assertThatThrownBy(d::finish).isInstanceOf(IllegalStateException.class).hasMessageContaining("[1]");
    }
  }
}
