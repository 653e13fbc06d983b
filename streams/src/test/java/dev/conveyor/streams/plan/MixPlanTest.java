package dev.conveyor.streams.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.cursor.Cursor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A mixed recipe's plan, computed without reading: the batches' composition, the epoch's length,
 * exact resume at any batch and elastic resume, for a 0.7/0.3 mix whose second source repeats.
 */
class MixPlanTest {
  static final int BATCH = 10;

  /** Source "a": 6 shards of 50 samples; source "b": 4 shards of 20, repeating. */
  static Recipe recipe(boolean repeatB, Mix.Batching batching) {
    List<String> names = new ArrayList<>();
    int[] counts = new int[10];
    for (int i = 0; i < 10; i++) {
      names.add((i < 6 ? "a" : "b") + i + ".tar");
      counts[i] = i < 6 ? 50 : 20;
    }
    Mix mix = new Mix(List.of(new Mix.Source("a", 0, 6, 0.7, false), new Mix.Source("b", 6, 4, 0.3, repeatB)), batching);
    return new Recipe(new ShardSet(names, counts), 5, BATCH, false, new Recipe.Shuffle(true, 2, 16), "none",
        Optional.of(mix));
  }

  static boolean fromA(DataPlan.PlannedSample p) {
    return p.shard() < 6;
  }

  @Test
  void everyBatchOfThreeEpochsHoldsSevenOfAAndThreeOfBAndTheEpochEndsWhenAIsShort() {
    DataPlan plan = new DataPlan(recipe(true, Mix.Batching.STRATIFIED));
    for (int epoch = 0; epoch < 3; epoch++) {
      Cursor start = Cursor.start(plan.recipe().fingerprint(), 2).atEpoch(epoch, 2);
      Set<DataPlan.PlannedSample> seenA = new HashSet<>();
      for (int rank = 0; rank < 2; rank++) {
        RankSegment seg = plan.rank(start, 2, rank);
        // a: 150 samples per rank, 7 a batch: 21 whole batches, the 3 left over on each rank dropped
        assertThat(seg.steps()).isEqualTo(21);
        assertThat(seg.dropped()).isEqualTo(300 - 2 * 21 * 7);
        List<DataPlan.PlannedSample> all = plan.samples(seg);
        assertThat(all).hasSize(21 * BATCH);
        for (int k = 0; k < 21; k++) {
          List<DataPlan.PlannedSample> batch = all.subList(k * BATCH, (k + 1) * BATCH);
          assertThat(batch.stream().filter(MixPlanTest::fromA).count()).as("batch " + k).isEqualTo(7);
          assertThat(batch.subList(0, 7)).allMatch(MixPlanTest::fromA); // source by source
          for (DataPlan.PlannedSample p : batch.subList(0, 7)) {
            assertThat(seenA.add(p)).as("a's sample %s once in the epoch", p).isTrue();
          }
        }
      }
    }
  }

  @Test
  void aRepeatingSourceStartsANewPassInAnotherOrderWhenItRunsOut() {
    DataPlan plan = new DataPlan(recipe(true, Mix.Batching.STRATIFIED));
    RankSegment seg = plan.rank(Cursor.start(plan.recipe().fingerprint(), 2), 2, 0);
    List<DataPlan.PlannedSample> b = plan.samples(seg).stream().filter(p -> !fromA(p)).toList();
    // 63 of b: its part of pass 0 (40 of its 80), then 23 of its part of pass 1
    assertThat(b).hasSize(63);
    assertThat(new HashSet<>(b.subList(0, 40))).hasSize(40);
    List<DataPlan.PlannedSample> pass1 = b.subList(40, 63);
    assertThat(new HashSet<>(pass1)).hasSize(23);
    assertThat(pass1).isNotEqualTo(b.subList(0, 23)); // its own order
  }

  @Test
  void withoutRepeatTheSmallerSourceEndsTheEpoch() {
    DataPlan plan = new DataPlan(recipe(false, Mix.Batching.STRATIFIED));
    RankSegment seg = plan.rank(Cursor.start(plan.recipe().fingerprint(), 2), 2, 1);
    // b: 40 per rank, 3 a batch: 13 batches (39); a gives 91 of its 150 per rank
    assertThat(seg.steps()).isEqualTo(13);
    assertThat(seg.dropped()).isEqualTo(300 - 2 * 91 + 80 - 2 * 39);
  }

  @Test
  void resumingAtAnyBatchGivesTheRestOfTheUninterruptedEpoch() {
    long seed = new SplittableRandom().nextLong();
    SplittableRandom rnd = new SplittableRandom(seed);
    for (Mix.Batching batching : Mix.Batching.values()) {
      DataPlan plan = new DataPlan(recipe(true, batching));
      Cursor start = Cursor.start(plan.recipe().fingerprint(), 2);
      for (int rank = 0; rank < 2; rank++) {
        List<DataPlan.PlannedSample> whole = plan.samples(plan.rank(start, 2, rank));
        int k = rnd.nextInt((int) plan.rank(start, 2, rank).steps() + 1);
        RankSegment resumed = plan.rank(start.withDelivered(rank, k), 2, rank);
        assertThat(plan.samples(resumed)).as("seed %d, %s, rank %d from batch %d", seed, batching, rank, k)
            .isEqualTo(whole.subList(k * BATCH, whole.size()));
      }
    }
  }

  @Test
  void anElasticResumeFromTwoRanksToThreeDeliversEachRemainingSampleOfTheSourceThatEndsTheEpochOnce() {
    DataPlan plan = new DataPlan(recipe(true, Mix.Batching.STRATIFIED));
    Cursor start = Cursor.start(plan.recipe().fingerprint(), 2);
    Cursor at = start.withDelivered(0, 9).withDelivered(1, 8); // a rank one batch behind, as a save may find them
    Set<DataPlan.PlannedSample> consumed = new HashSet<>();
    List<DataPlan.PlannedSample> allA = new ArrayList<>();
    for (int rank = 0; rank < 2; rank++) {
      List<DataPlan.PlannedSample> whole = plan.samples(plan.rank(start, 2, rank));
      int done = rank == 0 ? 9 : 8;
      whole.subList(0, done * BATCH).stream().filter(MixPlanTest::fromA).forEach(consumed::add);
    }
    // every sample of a in the epoch: each shard's samples
    for (int shard = 0; shard < 6; shard++) {
      for (int i = 0; i < 50; i++) {
        allA.add(new DataPlan.PlannedSample(shard, i));
      }
    }
    Cursor elastic = at.resumedAt(3);
    Set<DataPlan.PlannedSample> after = new HashSet<>();
    long steps = -1;
    long dropped = 0;
    for (int rank = 0; rank < 3; rank++) {
      RankSegment seg = plan.rank(elastic, 3, rank);
      assertThat(seg.stepBase()).isEqualTo(9);
      steps = steps < 0 ? seg.steps() : steps;
      assertThat(seg.steps()).as("every rank the same number of batches").isEqualTo(steps);
      dropped = seg.dropped();
      for (DataPlan.PlannedSample p : plan.samples(seg)) {
        if (fromA(p)) {
          assertThat(consumed).as("%s was consumed before the resume", p).doesNotContain(p);
          assertThat(after.add(p)).as("%s once after the resume", p).isTrue();
        }
      }
    }
    // what a left: delivered once, or left over (dropped) — nothing lost, nothing twice
    assertThat(consumed.size() + after.size() + dropped).as("consumed, delivered after, or left over: all of a")
        .isEqualTo(allA.size());
    assertThat(after.size()).isEqualTo(steps * 3 * 7);
  }

  @Test
  void theMixIsInTheFingerprintAndARecipeWithoutOneKeepsItsOwn() {
    Recipe mixed = recipe(true, Mix.Batching.STRATIFIED);
    assertThat(mixed.fingerprint()).isNotEqualTo(recipe(false, Mix.Batching.STRATIFIED).fingerprint())
        .isNotEqualTo(recipe(true, Mix.Batching.PER_SOURCE).fingerprint());
    Recipe plain = new Recipe(mixed.shards(), 5, BATCH, false, mixed.shuffle(), "none");
    assertThat(plain.fingerprint()).isNotEqualTo(mixed.fingerprint());
    assertThat(new DataPlan(plain).rank(Cursor.start(plain.fingerprint(), 2), 2, 0).mixed()).isEmpty();
  }
}
