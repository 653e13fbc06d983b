package dev.conveyor.streams.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.streams.cursor.Cursor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * A plan of full batches, computed without reading: a stand-in filter keeps one sample in ten
 * (by a hash of the sample), and the rules of {@link FullPlan} and the batch gate decide the
 * batches — each the next ten kept samples of a rank's part, the epoch as long as the rank with
 * the fewest kept samples fills. What a stop at a random batch and a resume at the same or
 * another world size then deliver is compared with the uninterrupted epoch.
 */
class FullPlanTest {
  static final int BATCH = 10;

  /** 12 shards of 100 samples. */
  static Recipe recipe() {
    List<String> names = new ArrayList<>();
    int[] counts = new int[12];
    for (int i = 0; i < 12; i++) {
      names.add("s" + i + ".tar");
      counts[i] = 100;
    }
    return new Recipe(new ShardSet(names, counts), 11, BATCH, false, new Recipe.Shuffle(true, 3, 16), "none")
        .withFullBatches(true);
  }

  /** One sample in ten kept, more on some shards than others: the ranks' parts keep different numbers. */
  static boolean kept(DataPlan.PlannedSample p) {
    long h = StableHash.of(p.shard() + "/" + p.index()) & Long.MAX_VALUE;
    return h % (p.shard() < 4 ? 7 : 12) == 0;
  }

  /** What a world delivers from {@code cursor} to the epoch's end: each rank's batches, and the cursor after each step. */
  record Run(List<List<List<DataPlan.PlannedSample>>> batches, List<Cursor> after,
             List<List<DataPlan.PlannedSample>> leftOverOf) {
    Set<DataPlan.PlannedSample> leftOver() {
      Set<DataPlan.PlannedSample> all = new HashSet<>();
      leftOverOf.forEach(all::addAll);
      return all;
    }
  }

  static Run run(DataPlan plan, Cursor cursor, int world, Predicate<DataPlan.PlannedSample> keep) {
    return outputs(plan, cursor, world, p -> keep.test(p) ? 1 : 0).asSamples();
  }

  /** A flatMap's output: output {@code j} of sample {@code of}. */
  record Out(DataPlan.PlannedSample of, int j) {}

  /** The same over outputs: sample {@code p} gives {@code outputs(p)} of them (0: filtered). */
  record OutRun(List<List<List<Out>>> batches, List<Cursor> after, List<List<Out>> leftOverOf) {
    Run asSamples() {
      return new Run(batches.stream().map(r -> r.stream().map(b -> b.stream().map(Out::of).toList()).toList()).toList(),
          after, leftOverOf.stream().map(l -> l.stream().map(Out::of).toList()).toList());
    }
  }

  static OutRun outputs(DataPlan plan, Cursor cursor, int world,
                        java.util.function.ToIntFunction<DataPlan.PlannedSample> outputs) {
    List<List<List<Out>>> batches = new ArrayList<>();
    List<long[][]> ends = new ArrayList<>();
    List<RankSegment> segs = new ArrayList<>();
    List<List<Out>> parts = new ArrayList<>();
    List<List<Integer>> partEnds = new ArrayList<>();
    long n = Long.MAX_VALUE;
    for (int r = 0; r < world; r++) {
      RankSegment seg = plan.rank(cursor, world, r);
      List<DataPlan.PlannedSample> samples = plan.samples(seg);
      List<List<Out>> mine = new ArrayList<>();
      List<long[]> myEnds = new ArrayList<>();
      List<Out> pending = new ArrayList<>();
      List<Out> part = new ArrayList<>(); // every output of the part still to deliver, in order
      List<Integer> after = new ArrayList<>(); // for each batch, how many of part it used
      for (int i = 0; i < samples.size(); i++) {
        long at = seg.firstPosition() + i;
        int m = outputs.applyAsInt(samples.get(i));
        for (int j = (int) seg.skip(at); j < m; j++) {
          Out o = new Out(samples.get(i), j);
          part.add(o);
          pending.add(o);
          if (pending.size() == BATCH) {
            mine.add(pending);
            myEnds.add(j + 1 < m ? new long[] {at, j + 1} : new long[] {at + 1, 0});
            after.add(part.size());
            pending = new ArrayList<>();
          }
        }
      }
      n = Math.min(n, mine.size());
      batches.add(mine);
      ends.add(myEnds.toArray(long[][]::new));
      segs.add(seg);
      parts.add(part);
      partEnds.add(after);
    }
    List<List<Out>> leftOver = new ArrayList<>();
    List<Cursor> after = new ArrayList<>();
    Cursor c = cursor.resumedAt(world);
    for (int k = 0; k < n; k++) {
      for (int r = 0; r < world; r++) {
        c = c.withDelivered(r, segs.get(r).firstBatch() + k + 1, ends.get(r)[k][0], ends.get(r)[k][1]);
      }
      after.add(c);
    }
    for (int r = 0; r < world; r++) {
      batches.set(r, batches.get(r).subList(0, (int) n));
      int used = n == 0 ? 0 : partEnds.get(r).get((int) n - 1);
      leftOver.add(parts.get(r).subList(used, parts.get(r).size()));
    }
    return new OutRun(batches, after, leftOver);
  }

  static Set<DataPlan.PlannedSample> delivered(Run run, int fromStep) {
    Set<DataPlan.PlannedSample> out = new HashSet<>();
    for (List<List<DataPlan.PlannedSample>> rank : run.batches()) {
      for (List<DataPlan.PlannedSample> b : rank.subList(Math.min(fromStep, rank.size()), rank.size())) {
        out.addAll(b);
      }
    }
    return out;
  }

  @Test
  void everyBatchIsFullEveryRankStepsAlikeAndEveryKeptSampleIsDeliveredOnceOrLeftOver() {
    DataPlan plan = new DataPlan(recipe());
    for (int epoch = 0; epoch < 3; epoch++) {
      Run run = run(plan, Cursor.start(plan.recipe().fingerprint(), 2).atEpoch(epoch, 2), 2, FullPlanTest::kept);
      assertThat(run.batches().get(0)).as("epoch %d has batches", epoch).isNotEmpty();
      assertThat(run.batches().get(0)).hasSameSizeAs(run.batches().get(1));
      Set<DataPlan.PlannedSample> seen = new HashSet<>();
      for (List<List<DataPlan.PlannedSample>> rank : run.batches()) {
        for (List<DataPlan.PlannedSample> b : rank) {
          assertThat(b).hasSize(BATCH).allMatch(FullPlanTest::kept);
          for (DataPlan.PlannedSample p : b) {
            assertThat(seen.add(p)).as("%s once", p).isTrue();
          }
        }
      }
      assertThat(run.leftOver()).doesNotContainAnyElementsOf(seen);
      for (int s = 0; s < 12; s++) {
        for (int i = 0; i < 100; i++) {
          DataPlan.PlannedSample p = new DataPlan.PlannedSample(s, i);
          if (kept(p)) {
            assertThat(seen.contains(p) || run.leftOver().contains(p)).as("%s delivered or left over", p).isTrue();
          }
        }
      }
      // the rank that ran out holds fewer than a batch of kept samples after the last step
      long fewest = run.leftOverOf().stream().mapToLong(l -> l.stream().filter(FullPlanTest::kept).count()).min()
          .orElseThrow();
      assertThat(fewest).isLessThan(BATCH);
    }
  }

  @Test
  void aStopAtARandomStepResumedAtTheSameWorldDeliversTheRestAsTheUninterruptedEpoch() {
    long seed = new SplittableRandom().nextLong();
    SplittableRandom random = new SplittableRandom(seed);
    DataPlan plan = new DataPlan(recipe());
    Cursor start = Cursor.start(plan.recipe().fingerprint(), 2);
    Run whole = run(plan, start, 2, FullPlanTest::kept);
    int steps = whole.after().size();
    for (int trial = 0; trial < 20; trial++) {
      int stop = random.nextInt(steps + 1); // 0 and the epoch's end too
      Cursor saved = stop == 0 ? start : Cursor.decode(whole.after().get(stop - 1).encode());
      Run rest = run(plan, saved, 2, FullPlanTest::kept);
      for (int r = 0; r < 2; r++) {
        assertThat(rest.batches().get(r)).as("seed %d, stop at %d, rank %d", seed, stop, r)
            .isEqualTo(whole.batches().get(r).subList(stop, steps));
      }
      assertThat(rest.leftOver()).isEqualTo(whole.leftOver());
    }
  }

  @Test
  void anElasticResumeFromTwoRanksToThreeDeliversEveryRemainingSampleExactlyOnceOrLeavesItOver() {
    long seed = new SplittableRandom().nextLong();
    SplittableRandom random = new SplittableRandom(seed);
    DataPlan plan = new DataPlan(recipe());
    Cursor start = Cursor.start(plan.recipe().fingerprint(), 2);
    Run whole = run(plan, start, 2, FullPlanTest::kept);
    for (int trial = 0; trial < 10; trial++) {
      int stop = 1 + random.nextInt(whole.after().size() - 1);
      Cursor saved = whole.after().get(stop - 1);
      Run three = run(plan, saved, 3, FullPlanTest::kept);
      Set<DataPlan.PlannedSample> before = new HashSet<>();
      for (List<List<DataPlan.PlannedSample>> rank : whole.batches()) {
        rank.subList(0, stop).forEach(before::addAll);
      }
      Set<DataPlan.PlannedSample> after = delivered(three, 0);
      assertThat(after).as("seed %d, stop at %d: nothing delivered twice", seed, stop).doesNotContainAnyElementsOf(before);
      assertThat(three.batches().stream().mapToInt(List::size).distinct().count()).isEqualTo(1);
      three.batches().forEach(rank -> rank.forEach(b -> assertThat(b).hasSize(BATCH)));
      Set<DataPlan.PlannedSample> kept = new HashSet<>();
      for (int s = 0; s < 12; s++) {
        for (int i = 0; i < 100; i++) {
          DataPlan.PlannedSample p = new DataPlan.PlannedSample(s, i);
          if (kept(p) && !before.contains(p)) {
            kept.add(p);
          }
        }
      }
      Set<DataPlan.PlannedSample> accounted = new HashSet<>(after);
      three.leftOver().stream().filter(FullPlanTest::kept).forEach(accounted::add);
      assertThat(accounted).as("seed %d, stop at %d: every remaining kept sample once", seed, stop).isEqualTo(kept);
      assertThat(after.size() + three.leftOver().stream().filter(FullPlanTest::kept).count()).isEqualTo(kept.size());
      // and the steps go on from the old world's count
      assertThat(plan.rank(saved.resumedAt(3), 3, 0).stepBase()).isEqualTo(stop);
    }
  }

  /** 0 to 3 outputs a sample, by a hash of it: a flatMap that sometimes makes nothing (filtered). */
  static int clips(DataPlan.PlannedSample p) {
    return (int) ((StableHash.of("clips/" + p.shard() + "/" + p.index()) & Long.MAX_VALUE) % 4);
  }

  @Test
  void aFlatMapsOutputsAreDeliveredOnceAcrossAStopBetweenTwoOutputsOfOneSampleAtTheSameOrAnotherWorld() {
    long seed = new SplittableRandom().nextLong();
    SplittableRandom random = new SplittableRandom(seed);
    DataPlan plan = new DataPlan(recipe());
    Cursor start = Cursor.start(plan.recipe().fingerprint(), 2);
    OutRun whole = outputs(plan, start, 2, FullPlanTest::clips);
    int steps = whole.after().size();
    assertThat(whole.after().stream().anyMatch(c -> c.current().offsets().length > 0))
        .as("some batch ends between two outputs of one sample").isTrue();
    for (int trial = 0; trial < 20; trial++) {
      int stop = 1 + random.nextInt(steps - 1);
      Cursor saved = Cursor.decode(whole.after().get(stop - 1).encode());
      OutRun rest = outputs(plan, saved, 2, FullPlanTest::clips);
      for (int r = 0; r < 2; r++) {
        assertThat(rest.batches().get(r)).as("seed %d, stop at %d, rank %d", seed, stop, r)
            .isEqualTo(whole.batches().get(r).subList(stop, steps));
      }
      OutRun three = outputs(plan, saved, 3, FullPlanTest::clips);
      Set<Out> before = new HashSet<>();
      whole.batches().forEach(rank -> rank.subList(0, stop).forEach(before::addAll));
      Set<Out> accounted = new HashSet<>();
      int count = 0;
      for (List<List<Out>> rank : three.batches()) {
        for (List<Out> b : rank) {
          assertThat(b).hasSize(BATCH);
          accounted.addAll(b);
          count += b.size();
        }
      }
      for (List<Out> l : three.leftOverOf()) {
        accounted.addAll(l);
        count += l.size();
      }
      assertThat(count).as("seed %d, stop at %d: no output twice", seed, stop).isEqualTo(accounted.size());
      assertThat(accounted).doesNotContainAnyElementsOf(before);
      Set<Out> all = new HashSet<>();
      for (int sh = 0; sh < 12; sh++) {
        for (int i = 0; i < 100; i++) {
          DataPlan.PlannedSample p = new DataPlan.PlannedSample(sh, i);
          for (int j = 0; j < clips(p); j++) {
            all.add(new Out(p, j));
          }
        }
      }
      all.removeAll(before);
      assertThat(accounted).as("seed %d, stop at %d: every remaining output delivered or left over", seed, stop)
          .isEqualTo(all);
      if (three.after().size() > 1) {
        // and back to two ranks from a stop of the three: a skip planned by the first resume carried by the second
        int again = 1 + random.nextInt(three.after().size() - 1);
        OutRun two = outputs(plan, three.after().get(again - 1), 2, FullPlanTest::clips);
        Set<Out> done = new HashSet<>(before);
        three.batches().forEach(rank -> rank.subList(0, again).forEach(done::addAll));
        List<Out> remaining = new ArrayList<>();
        two.batches().forEach(rank -> rank.forEach(remaining::addAll));
        two.leftOverOf().forEach(remaining::addAll);
        assertThat(remaining).as("seed %d, stops at %d and %d", seed, stop, again).doesNotHaveDuplicates()
            .doesNotContainAnyElementsOf(done);
        Set<Out> expected = new HashSet<>(all);
        expected.removeAll(done);
        assertThat(new HashSet<>(remaining)).isEqualTo(expected);
      }
    }
  }

  @Test
  void aCursorWithoutPositionsPastTheStartIsRefusedAndAFullRecipeHasItsOwnFingerprint() {
    DataPlan plan = new DataPlan(recipe());
    Cursor counted = Cursor.start(plan.recipe().fingerprint(), 2).withDelivered(0, 3).withDelivered(1, 3);
    assertThatThrownBy(() -> plan.rank(counted, 2, 0)).hasMessageContaining("records no plan positions");
    assertThat(recipe().fingerprint()).isNotEqualTo(recipe().withFullBatches(false).fingerprint());
    assertThat(Cursor.start("fp", 2).withDelivered(0, 1, 17).encode()).startsWith("cv2.");
    assertThat(Cursor.start("fp", 2).withDelivered(0, 1).encode()).startsWith("cv1.");
  }
}
