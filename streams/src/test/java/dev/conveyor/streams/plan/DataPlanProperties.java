package dev.conveyor.streams.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.plan.DataPlan.PlannedSample;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** The invariants of DESIGN.md, over random recipes, world sizes and stop points. */
class DataPlanProperties {

  record Case(Recipe recipe, int world, int epochs) {
    @Override
    public String toString() {
      int[] counts = new int[recipe.shards().size()];
      for (int i = 0; i < counts.length; i++) {
        counts[i] = recipe.shards().count(i);
      }
      return "Case[shards=" + java.util.Arrays.toString(counts) + ", seed=" + recipe.seed() + ", batch=" + recipe.batchSize()
          + ", dropLast=" + recipe.dropLast() + ", " + recipe.shuffle() + ", world=" + world + ", epochs=" + epochs + "]";
    }
  }

  @Provide
  Arbitrary<Case> cases() {
    Arbitrary<int[]> counts = Arbitraries.integers().between(0, 500).array(int[].class).ofMinSize(1).ofMaxSize(200)
        .edgeCases(c -> c.add(new int[] {0}));
    Arbitrary<Recipe.Shuffle> shuffle = Combinators.combine(Arbitraries.of(true, false), Arbitraries.integers().between(1, 8),
        Arbitraries.integers().between(0, 1200)).as(Recipe.Shuffle::new);
    Arbitrary<Recipe> recipe = Combinators.combine(counts, Arbitraries.longs(), Arbitraries.integers().between(1, 64),
        Arbitraries.of(true, false), shuffle).as((c, seed, batch, drop, sh) -> new Recipe(shards(c), seed, batch, drop, sh, "none"));
    return Combinators.combine(recipe, Arbitraries.integers().between(1, 16), Arbitraries.integers().between(1, 3)).as(Case::new);
  }

  static ShardSet shards(int[] counts) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < counts.length; i++) {
      names.add("s3://b/part-" + i + ".tar");
    }
    return new ShardSet(names, counts);
  }

  static List<PlannedSample> all(DataPlan plan, Cursor c, int world, int rank) {
    return plan.samples(plan.rank(c, world, rank));
  }

  @Property(tries = 1000)
  void everySampleOfAnEpochIsDeliveredOnceAcrossRanksInEqualNumbersOfBatches(@ForAll("cases") Case k) {
    DataPlan plan = new DataPlan(k.recipe());
    for (int e = 0; e < k.epochs(); e++) {
      Cursor start = Cursor.start(k.recipe().fingerprint(), k.world()).atEpoch(e, k.world());
      Set<PlannedSample> seen = new HashSet<>();
      long delivered = 0;
      long steps = -1;
      long dropped = 0;
      for (int r = 0; r < k.world(); r++) {
        RankSegment seg = plan.rank(start, k.world(), r);
        steps = steps < 0 ? seg.steps() : steps;
        assertThat(seg.steps()).as("equal batches per rank").isEqualTo(steps);
        assertThat(seg.size()).isLessThanOrEqualTo(seg.steps() * k.recipe().batchSize());
        List<PlannedSample> s = plan.samples(seg);
        assertThat(s).hasSize((int) seg.size());
        seen.addAll(s);
        delivered += s.size();
        dropped = seg.dropped();
      }
      assertThat(seen).as("no sample twice").hasSize((int) delivered);
      assertThat(delivered + dropped).as("every sample once, minus the reported drop-last remainder")
          .isEqualTo(k.recipe().shards().total());
      assertThat(dropped).isLessThan((long) k.world() * k.recipe().batchSize());
      if (!k.recipe().dropLast()) {
        assertThat(dropped).isZero();
      }
    }
  }

  @Property(tries = 1000)
  void resumingAtAnyStopPointDeliversExactlyTheUninterruptedTail(@ForAll("cases") Case k, @ForAll @IntRange(max = 1000) int stop) {
    DataPlan plan = new DataPlan(k.recipe());
    int epoch = stop % k.epochs();
    Cursor start = Cursor.start(k.recipe().fingerprint(), k.world()).atEpoch(epoch, k.world());
    long steps = plan.rank(start, k.world(), 0).steps();
    Cursor cursor = start;
    for (int r = 0; r < k.world(); r++) {
      cursor = cursor.withDelivered(r, steps == 0 ? 0 : (stop * 31L + r * 7L) % (steps + 1));
    }
    Cursor decoded = Cursor.decode(cursor.encode());
    for (int r = 0; r < k.world(); r++) {
      List<PlannedSample> full = all(plan, start, k.world(), r);
      RankSegment resumed = plan.rank(decoded, k.world(), r);
      int from = (int) Math.min(cursor.current().batches(r) * k.recipe().batchSize(), full.size());
      assertThat(plan.samples(resumed)).isEqualTo(full.subList(from, full.size()));
      assertThat(resumed.steps() - resumed.firstBatch()).isEqualTo(steps - cursor.current().batches(r));
    }
  }

  @Property(tries = 1000)
  void anElasticResumeDeliversTheEpochsUnconsumedSamplesEachOnce(@ForAll("cases") Case k,
      @ForAll @IntRange(min = 1, max = 16) int newWorld, @ForAll @IntRange(max = 1000) int stop) {
    DataPlan plan = new DataPlan(k.recipe());
    Cursor start = Cursor.start(k.recipe().fingerprint(), k.world());
    long steps = plan.rank(start, k.world(), 0).steps();
    Cursor cursor = start;
    Map<PlannedSample, Integer> consumed = new HashMap<>();
    Set<PlannedSample> all = new HashSet<>();
    for (int r = 0; r < k.world(); r++) {
      long d = steps == 0 ? 0 : (stop * 13L + r * 5L) % (steps + 1);
      cursor = cursor.withDelivered(r, d);
      List<PlannedSample> s = all(plan, start, k.world(), r);
      all.addAll(s);
      s.subList(0, (int) Math.min(d * k.recipe().batchSize(), s.size())).forEach(x -> consumed.merge(x, 1, Integer::sum));
    }
    Cursor resumed = Cursor.decode(cursor.resumedAt(newWorld).encode());
    List<PlannedSample> rest = new ArrayList<>();
    long newSteps = -1;
    long dropped = 0;
    for (int r = 0; r < newWorld; r++) {
      RankSegment seg = plan.rank(resumed, newWorld, r);
      newSteps = newSteps < 0 ? seg.steps() : newSteps;
      assertThat(seg.steps()).as("equal batches per rank after the re-split").isEqualTo(newSteps);
      rest.addAll(plan.samples(seg));
      dropped = seg.dropped();
      // deterministic for (cursor, new world): planned again from scratch, the same
      assertThat(new DataPlan(k.recipe()).samples(new DataPlan(k.recipe()).rank(resumed, newWorld, r))).isEqualTo(plan.samples(seg));
    }
    Set<PlannedSample> restSet = new HashSet<>(rest);
    assertThat(restSet).as("no sample twice").hasSize(rest.size());
    assertThat(restSet.stream().filter(consumed::containsKey).toList()).as("nothing consumed again").isEmpty();
    // at the same world size the split is the original one, whose remainder was never in any rank's part
    long redropped = newWorld == k.world() ? 0 : dropped;
    assertThat(rest.size() + consumed.size() + redropped).as("the rest, minus the re-split's drop-last remainder")
        .isEqualTo(all.size());
    if (newWorld == k.world()) {
      return;
    }
    // and the next epoch runs normally at the new world size
    Cursor next = resumed.atEpoch(1, newWorld);
    long total = 0;
    for (int r = 0; r < newWorld; r++) {
      total += plan.samples(plan.rank(next, newWorld, r)).size();
    }
    assertThat(total).isLessThanOrEqualTo(k.recipe().shards().total());
  }

  @Property(tries = 300)
  void twoElasticResumesInOneEpochStillDeliverEachRemainingSampleOnce(@ForAll("cases") Case k,
      @ForAll @IntRange(min = 1, max = 16) int second, @ForAll @IntRange(min = 1, max = 16) int third,
      @ForAll @IntRange(max = 1000) int stop) {
    DataPlan plan = new DataPlan(k.recipe());
    Cursor c = Cursor.start(k.recipe().fingerprint(), k.world());
    Set<PlannedSample> consumed = new HashSet<>();
    Set<PlannedSample> all = new HashSet<>();
    for (int r = 0; r < k.world(); r++) {
      all.addAll(all(plan, c, k.world(), r));
    }
    int[] worlds = {k.world(), second, third};
    for (int step = 0; step < 2; step++) {
      int w = worlds[step];
      Cursor at = c;
      long steps = plan.rank(at, w, 0).steps();
      for (int r = 0; r < w; r++) {
        RankSegment seg = plan.rank(at, w, r);
        long f = seg.firstBatch(); // delivered already (the world did not change)
        long d = f + (stop * 17L + r * 3L + step) % (steps - f + 1);
        List<PlannedSample> s = plan.samples(seg);
        consumed.addAll(s.subList(0, (int) Math.min((d - f) * k.recipe().batchSize(), s.size())));
        c = c.withDelivered(r, d);
      }
      c = c.resumedAt(worlds[step + 1]);
    }
    List<PlannedSample> rest = new ArrayList<>();
    for (int r = 0; r < third; r++) {
      RankSegment seg = plan.rank(c, third, r);
      rest.addAll(plan.samples(seg));
    }
    Set<PlannedSample> restSet = new HashSet<>(rest);
    assertThat(restSet).hasSize(rest.size());
    assertThat(restSet.stream().filter(consumed::contains).toList()).isEmpty();
    assertThat(restSet.size() + consumed.size()).isLessThanOrEqualTo(all.size());
    if (!k.recipe().dropLast()) {
      assertThat(restSet.size() + consumed.size()).as("without drop-last nothing is lost").isEqualTo(all.size());
    } else {
      assertThat((long) all.size() - restSet.size() - consumed.size()).as("at most two re-splits' remainders")
          .isLessThanOrEqualTo(2L * 16 * k.recipe().batchSize());
    }
  }

  @Property(tries = 1000)
  void thePlanIsIdenticalWhenRebuiltFromTheSameRecipe(@ForAll("cases") Case k) {
    Cursor start = Cursor.start(k.recipe().fingerprint(), k.world()).atEpoch(k.epochs() - 1, k.world());
    int r = k.world() - 1;
    Recipe copy = new Recipe(k.recipe().shards(), k.recipe().seed(), k.recipe().batchSize(), k.recipe().dropLast(),
        k.recipe().shuffle(), k.recipe().decode());
    assertThat(all(new DataPlan(copy), start, k.world(), r)).isEqualTo(all(new DataPlan(k.recipe()), start, k.world(), r));
    assertThat(copy.fingerprint()).isEqualTo(k.recipe().fingerprint());
  }
}
