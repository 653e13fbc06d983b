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
 * A plan of length buckets, computed without reading: a stand-in filter keeps half the samples
 * and a stand-in length (both by a hash of the sample) puts each in a bucket; pools are filled
 * and closed by the rules of {@code BucketCutter}, and the ranks step as the batch gate has them.
 * A stop at a random step resumed at the same world gives the uninterrupted batches; resumed at
 * another world (2 → 3 → 2), no sample is delivered twice and every kept sample is delivered,
 * left in a bucket when a pool closed, or left over at the epoch's end.
 */
class BucketPlanTest {
  static final Bucketing BUCKETS = new Bucketing("text", new int[] {10, 30}, new int[] {8, 4, 2}, 24);

  static Recipe recipe() {
    return FullPlanTest.recipe().withBucketing(Optional.of(BUCKETS));
  }

  static boolean kept(DataPlan.PlannedSample p) {
    return (StableHash.of("keep/" + p.shard() + "/" + p.index()) & 1) == 0;
  }

  static int length(DataPlan.PlannedSample p) {
    return (int) ((StableHash.of("len/" + p.shard() + "/" + p.index()) & Long.MAX_VALUE) % 50);
  }

  /** A run from a cursor to the epoch's end: each rank's batches, the cursor after each step, what was left in buckets. */
  record Run(List<List<List<DataPlan.PlannedSample>>> batches, List<Cursor> after, Set<DataPlan.PlannedSample> leftIn,
             Set<DataPlan.PlannedSample> leftOver) {}

  static Run run(DataPlan plan, Cursor cursor, int world) {
    List<List<List<DataPlan.PlannedSample>>> batches = new ArrayList<>();
    List<List<long[]>> ends = new ArrayList<>();
    List<RankSegment> segs = new ArrayList<>();
    List<List<DataPlan.PlannedSample>> streams = new ArrayList<>();
    Set<DataPlan.PlannedSample> leftIn = new HashSet<>();
    for (int r = 0; r < world; r++) {
      RankSegment seg = plan.rank(cursor, world, r);
      List<DataPlan.PlannedSample> samples = plan.samples(seg);
      List<List<DataPlan.PlannedSample>> mine = new ArrayList<>();
      List<long[]> myEnds = new ArrayList<>();
      List<DataPlan.PlannedSample> held = new ArrayList<>();
      long start = -1;
      long end = -1;
      long delivered = 0;
      for (int i = 0; i <= samples.size(); i++) {
        long at = seg.firstPosition() + i;
        if (start >= 0 && (i == samples.size() || (end >= 0 && at >= end))) {
          close(held, start, end >= 0 ? end : seg.firstPosition() + samples.size(), delivered, mine, myEnds, leftIn);
          start = -1;
        }
        if (i == samples.size()) {
          break;
        }
        if (start < 0) {
          long mark = seg.skip(at);
          start = at;
          end = mark > 0 ? at + Bucketing.lengthOf(mark) : -1;
          delivered = mark > 0 ? Bucketing.batchesOf(mark) : 0;
        }
        if (kept(samples.get(i))) {
          held.add(samples.get(i));
        }
        if (end < 0 && held.size() >= BUCKETS.pool()) {
          close(held, start, at + 1, delivered, mine, myEnds, leftIn);
          start = -1;
        }
      }
      batches.add(mine);
      ends.add(myEnds);
      segs.add(seg);
      streams.add(samples);
    }
    int n = batches.stream().mapToInt(List::size).min().orElse(0);
    List<Cursor> after = new ArrayList<>();
    Cursor c = cursor.resumedAt(world);
    for (int k = 0; k < n; k++) {
      for (int r = 0; r < world; r++) {
        long[] e = ends.get(r).get(k);
        c = c.withDelivered(r, segs.get(r).firstBatch() + k + 1, e[0], e[1]);
      }
      after.add(c);
    }
    Set<DataPlan.PlannedSample> leftOver = new HashSet<>();
    for (int r = 0; r < world; r++) {
      batches.set(r, batches.get(r).subList(0, n));
      long from = n == 0 ? segs.get(r).firstPosition() : ends.get(r).get(n - 1)[0];
      List<DataPlan.PlannedSample> s = streams.get(r);
      leftOver.addAll(s.subList((int) (from - segs.get(r).firstPosition()), s.size()));
    }
    return new Run(batches, after, leftIn, leftOver);
  }

  /** A pool's samples into its buckets, its batches from the {@code delivered}-th on with their ends. */
  private static void close(List<DataPlan.PlannedSample> held, long start, long end, long delivered,
                            List<List<DataPlan.PlannedSample>> out, List<long[]> ends, Set<DataPlan.PlannedSample> leftIn) {
    List<List<DataPlan.PlannedSample>> filling = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      filling.add(new ArrayList<>());
    }
    List<List<DataPlan.PlannedSample>> made = new ArrayList<>();
    for (DataPlan.PlannedSample p : held) {
      int b = BUCKETS.bucketOf(length(p));
      filling.get(b).add(p);
      if (filling.get(b).size() == BUCKETS.batchSizes()[b]) {
        made.add(filling.get(b));
        filling.set(b, new ArrayList<>());
      }
    }
    filling.forEach(leftIn::addAll);
    for (int i = (int) delivered; i < made.size(); i++) {
      boolean last = i == made.size() - 1;
      out.add(made.get(i));
      ends.add(last ? new long[] {end, 0} : new long[] {start, Bucketing.mark(i + 1, end - start)});
    }
    held.clear();
  }

  static Set<DataPlan.PlannedSample> delivered(Run run, int steps) {
    Set<DataPlan.PlannedSample> out = new HashSet<>();
    for (List<List<DataPlan.PlannedSample>> rank : run.batches()) {
      rank.subList(0, Math.min(steps, rank.size())).forEach(out::addAll);
    }
    return out;
  }

  @Test
  void aStopAtARandomStepResumedAtTheSameWorldGivesTheUninterruptedBatches() {
    long seed = new SplittableRandom().nextLong();
    SplittableRandom random = new SplittableRandom(seed);
    DataPlan plan = new DataPlan(recipe());
    Cursor start = Cursor.start(plan.recipe().fingerprint(), 2);
    Run whole = run(plan, start, 2);
    int steps = whole.after().size();
    assertThat(steps).isGreaterThan(10);
    assertThat(whole.after().stream().anyMatch(c -> c.current().offsets().length > 0))
        .as("some batch ends inside a pool").isTrue();
    for (int trial = 0; trial < 20; trial++) {
      int stop = random.nextInt(steps + 1);
      Cursor saved = stop == 0 ? start : Cursor.decode(whole.after().get(stop - 1).encode());
      Run rest = run(plan, saved, 2);
      for (int r = 0; r < 2; r++) {
        assertThat(rest.batches().get(r)).as("seed %d, stop at %d, rank %d", seed, stop, r)
            .isEqualTo(whole.batches().get(r).subList(stop, steps));
      }
    }
  }

  @Test
  void anElasticResumeDeliversNoSampleTwiceAndLosesNoneThatWasNotLeftInABucketOrLeftOver() {
    long seed = new SplittableRandom().nextLong();
    SplittableRandom random = new SplittableRandom(seed);
    DataPlan plan = new DataPlan(recipe());
    Cursor start = Cursor.start(plan.recipe().fingerprint(), 2);
    Run whole = run(plan, start, 2);
    Set<DataPlan.PlannedSample> kept = new HashSet<>();
    for (int s = 0; s < 12; s++) {
      for (int i = 0; i < 100; i++) {
        DataPlan.PlannedSample p = new DataPlan.PlannedSample(s, i);
        if (kept(p)) {
          kept.add(p);
        }
      }
    }
    for (int trial = 0; trial < 10; trial++) {
      int stop = 1 + random.nextInt(whole.after().size() - 1);
      Cursor saved = Cursor.decode(whole.after().get(stop - 1).encode());
      Run three = run(plan, saved, 3);
      String at = "seed " + seed + ", stop at " + stop;
      List<DataPlan.PlannedSample> after = new ArrayList<>();
      three.batches().forEach(rank -> rank.forEach(after::addAll));
      Set<DataPlan.PlannedSample> before = delivered(whole, stop);
      assertThat(after).as(at).doesNotHaveDuplicates().doesNotContainAnyElementsOf(before);
      assertThat(three.batches().stream().mapToInt(List::size).distinct().count()).isEqualTo(1);
      assertThat(plan.rank(saved.resumedAt(3), 3, 0).stepBase()).isEqualTo(stop);
      Set<DataPlan.PlannedSample> explained = new HashSet<>(before);
      explained.addAll(after);
      explained.addAll(whole.leftIn());
      explained.addAll(three.leftIn());
      explained.addAll(three.leftOver());
      assertThat(explained).as(at + ": every kept sample delivered, left in a bucket or left over").containsAll(kept);
      if (three.after().size() > 1) {
        int again = 1 + random.nextInt(three.after().size() - 1);
        Run two = run(plan, Cursor.decode(three.after().get(again - 1).encode()), 2);
        Set<DataPlan.PlannedSample> done = new HashSet<>(before);
        done.addAll(delivered(three, again));
        List<DataPlan.PlannedSample> last = new ArrayList<>();
        two.batches().forEach(rank -> rank.forEach(last::addAll));
        assertThat(last).as(at + " and " + again).doesNotHaveDuplicates().doesNotContainAnyElementsOf(done);
        Set<DataPlan.PlannedSample> all = new HashSet<>(done);
        all.addAll(last);
        all.addAll(whole.leftIn());
        all.addAll(three.leftIn());
        all.addAll(two.leftIn());
        all.addAll(two.leftOver());
        assertThat(all).as(at + " and " + again).containsAll(kept);
      }
    }
  }
}
