package dev.conveyor.streams.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.plan.FullPlanTest.Out;
import dev.conveyor.streams.plan.FullPlanTest.OutRun;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Full batches of a mix, computed without reading ({@link FullPlanTest}'s harness): a rank's
 * stream is its batches' shares one after another, and a batch is its next ten kept samples. A
 * stop at a random batch (seed printed) resumed at the same world gives the uninterrupted rest;
 * resumed at another, every output still to come is delivered or left over exactly once.
 */
class MixedFullPlanTest {
  static final int BATCH = FullPlanTest.BATCH;

  /** Source "a": shards 0-5 of 100 samples, weight 0.7; "b": shards 6-11, weight 0.3; neither repeats. */
  static Recipe recipe(boolean full) {
    Recipe plain = FullPlanTest.recipe();
    Mix mix = new Mix(List.of(new Mix.Source("a", 0, 6, 0.7, false), new Mix.Source("b", 6, 6, 0.3, false)),
        Mix.Batching.STRATIFIED);
    return new Recipe(plain.shards(), plain.seed(), BATCH, false, plain.shuffle(), "none", Optional.of(mix))
        .withFullBatches(full);
  }

  @Test
  void withNothingFilteredTheFullBatchesOfAMixAreItsFixedBatchesSevenOfAAndThreeOfB() {
    DataPlan full = new DataPlan(recipe(true));
    DataPlan fixed = new DataPlan(recipe(false));
    for (int epoch = 0; epoch < 2; epoch++) {
      Cursor start = Cursor.start(full.recipe().fingerprint(), 2).atEpoch(epoch, 2);
      OutRun run = FullPlanTest.outputs(full, start, 2, p -> 1);
      for (int r = 0; r < 2; r++) {
        RankSegment seg = fixed.rank(Cursor.start(fixed.recipe().fingerprint(), 2).atEpoch(epoch, 2), 2, r);
        List<DataPlan.PlannedSample> planned = fixed.samples(seg);
        List<List<Out>> batches = run.batches().get(r);
        assertThat(batches).hasSize((int) seg.steps());
        for (int k = 0; k < batches.size(); k++) {
          List<DataPlan.PlannedSample> b = batches.get(k).stream().map(Out::of).toList();
          assertThat(b).as("epoch %d, rank %d, batch %d", epoch, r, k)
              .isEqualTo(planned.subList(k * BATCH, (k + 1) * BATCH));
          assertThat(b.stream().filter(p -> p.shard() < 6).count()).isEqualTo(7);
        }
      }
    }
  }

  @Test
  void aStopAtARandomStepOfAFilteredMixResumedAtTheSameWorldDeliversTheUninterruptedRest() {
    long seed = new SplittableRandom().nextLong();
    SplittableRandom random = new SplittableRandom(seed);
    DataPlan plan = new DataPlan(recipe(true));
    Cursor start = Cursor.start(plan.recipe().fingerprint(), 2);
    OutRun whole = FullPlanTest.outputs(plan, start, 2, FullPlanTest::clips);
    int steps = whole.after().size();
    assertThat(steps).isGreaterThan(10);
    assertThat(whole.after().stream().anyMatch(c -> c.current().offsets().length > 0))
        .as("some batch ends between two outputs of one sample").isTrue();
    for (int trial = 0; trial < 20; trial++) {
      int stop = random.nextInt(steps + 1);
      Cursor saved = stop == 0 ? start : Cursor.decode(whole.after().get(stop - 1).encode());
      OutRun rest = FullPlanTest.outputs(plan, saved, 2, FullPlanTest::clips);
      for (int r = 0; r < 2; r++) {
        assertThat(rest.batches().get(r)).as("seed %d, stop at %d, rank %d", seed, stop, r)
            .isEqualTo(whole.batches().get(r).subList(stop, steps));
      }
      assertThat(rest.leftOverOf()).isEqualTo(whole.leftOverOf());
    }
  }

  @Test
  void anElasticResumeOfAFilteredMixDeliversEveryOutputStillToComeExactlyOnceOrLeavesItOver() {
    long seed = new SplittableRandom().nextLong();
    SplittableRandom random = new SplittableRandom(seed);
    DataPlan plan = new DataPlan(recipe(true));
    Cursor start = Cursor.start(plan.recipe().fingerprint(), 2);
    OutRun whole = FullPlanTest.outputs(plan, start, 2, FullPlanTest::clips);
    for (int trial = 0; trial < 10; trial++) {
      int stop = 1 + random.nextInt(whole.after().size() - 1);
      Cursor saved = Cursor.decode(whole.after().get(stop - 1).encode());
      Set<Out> before = new HashSet<>();
      whole.batches().forEach(rank -> rank.subList(0, stop).forEach(before::addAll));
      OutRun three = FullPlanTest.outputs(plan, saved, 3, FullPlanTest::clips);
      String at = "seed " + seed + ", stop at " + stop;
      List<Out> toCome = everything(three);
      assertThat(toCome).as(at + ": nothing twice").doesNotHaveDuplicates().doesNotContainAnyElementsOf(before);
      // samples: what the three ranks' streams hold and what their plan drops (whole batches of the mix) is
      // exactly what the two ranks had not consumed
      Set<DataPlan.PlannedSample> consumed = new HashSet<>();
      for (int r = 0; r < 2; r++) {
        List<DataPlan.PlannedSample> stream = plan.samples(plan.rank(start, 2, r));
        consumed.addAll(stream.subList(0, (int) saved.current().position(r)));
      }
      List<DataPlan.PlannedSample> streams = new ArrayList<>();
      for (int r = 0; r < 3; r++) {
        streams.addAll(plan.samples(plan.rank(saved.resumedAt(3), 3, r)));
      }
      assertThat(streams).as(at).doesNotHaveDuplicates().doesNotContainAnyElementsOf(consumed);
      assertThat(streams.size() + plan.rank(saved.resumedAt(3), 3, 0).dropped()).as(at).isEqualTo(1200 - consumed.size());
      // outputs: of every sample in the three ranks' streams, what the two ranks still had to give
      Set<DataPlan.PlannedSample> inStreams = new HashSet<>(streams);
      List<Out> stillDue = everything(FullPlanTest.outputs(plan, saved, 2, FullPlanTest::clips)).stream()
          .filter(o -> inStreams.contains(o.of())).toList();
      assertThat(new HashSet<>(toCome)).as(at).containsAll(stillDue);
      assertThat(three.batches().stream().mapToInt(List::size).distinct().count()).isEqualTo(1);
      three.batches().forEach(rank -> rank.forEach(b -> assertThat(b).hasSize(BATCH)));
      assertThat(plan.rank(saved.resumedAt(3), 3, 0).stepBase()).isEqualTo(stop);
      if (three.after().size() > 1) {
        // and back to two ranks: the skips the first resume planned carried by the second
        int again = 1 + random.nextInt(three.after().size() - 1);
        Set<Out> done = new HashSet<>(before);
        three.batches().forEach(rank -> rank.subList(0, again).forEach(done::addAll));
        Cursor twice = Cursor.decode(three.after().get(again - 1).encode());
        List<Out> last = everything(FullPlanTest.outputs(plan, twice, 2, FullPlanTest::clips));
        assertThat(last).as(at + " and " + again).doesNotHaveDuplicates().doesNotContainAnyElementsOf(done);
      }
    }
  }

  /** Every output a run gives: its batches', then what each rank left over. */
  private static List<Out> everything(OutRun run) {
    List<Out> all = new ArrayList<>();
    run.batches().forEach(rank -> rank.forEach(all::addAll));
    run.leftOverOf().forEach(all::addAll);
    return all;
  }

  @Test
  void aCursorOfAFixedMixIsRefusedByAFullOneAndTheirFingerprintsDiffer() {
    DataPlan plan = new DataPlan(recipe(true));
    Cursor counted = Cursor.start(plan.recipe().fingerprint(), 2).withDelivered(0, 3).withDelivered(1, 3);
    assertThatThrownBy(() -> plan.rank(counted, 2, 0)).hasMessageContaining("records no plan positions");
    Cursor beyond = Cursor.start(plan.recipe().fingerprint(), 2).withDelivered(0, 1, 100_000, 0);
    assertThatThrownBy(() -> plan.rank(beyond, 2, 0)).hasMessageContaining("not written for this recipe");
    assertThat(recipe(true).fingerprint()).isNotEqualTo(recipe(false).fingerprint());
  }
}
