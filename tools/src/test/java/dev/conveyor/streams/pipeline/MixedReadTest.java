package dev.conveyor.streams.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.Mix;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.plan.ShardSet;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.streams.testing.StreamTestKit;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 0.7/0.3 mix of two real datasets read by a rank's stream: the batches are the plan's, whole,
 * seven of one source and three of the other in each; a resume at a random batch gives the rest.
 */
class MixedReadTest {
  static final StreamTestKit kit = new StreamTestKit();
  static final int BATCH = 10;

  @TempDir
  static Path dir;

  static DataPlan plan;
  static int firstOfB;

  @BeforeAll
  static void data() throws Exception {
    ShardSet a = generate("a", 120, 3);
    ShardSet b = generate("b", 40, 4);
    List<String> names = new ArrayList<>();
    int[] counts = new int[a.size() + b.size()];
    for (int i = 0; i < a.size() + b.size(); i++) {
      ShardSet from = i < a.size() ? a : b;
      int j = i < a.size() ? i : i - a.size();
      names.add(from.name(j));
      counts[i] = from.count(j);
    }
    firstOfB = a.size();
    Mix mix = new Mix(List.of(new Mix.Source("a", 0, a.size(), 0.7, false),
        new Mix.Source("b", a.size(), b.size(), 0.3, true)), Mix.Batching.STRATIFIED);
    plan = new DataPlan(new Recipe(new ShardSet(names, counts), 7, BATCH, false, new Recipe.Shuffle(true, 2, 8), "none",
        Optional.of(mix)));
  }

  static ShardSet generate(String name, int images, long seed) throws Exception {
    Manifest m = new DatasetGenerator(new FileShardStore(), dir.resolve("scratch-" + name), 2)
        .generate(new DatasetSpec(images, 0, 12 * 1024, seed), dir.resolve(name).toUri(), n -> { });
    return m.shardSet(dir.resolve(name).toUri());
  }

  @AfterAll
  static void stop() {
    kit.close();
  }

  static List<RawBatch> read(RankSegment seg, int readers) {
    RankPipeline.Settings s = new RankPipeline.Settings(readers, 2, 1 << 24, RankPipeline::identity);
    return kit.collect(RankPipeline.events(new FileShardStore(), plan, seg, s)).stream()
        .filter(e -> e instanceof RawBatch).map(e -> (RawBatch) e).toList();
  }

  @Test
  void everyBatchIsWholeWithSevenOfTheFirstSourceAndThreeOfTheSecondInThePlansOrder() {
    for (int rank = 0; rank < 2; rank++) {
      RankSegment seg = plan.rank(Cursor.start(plan.recipe().fingerprint(), 2), 2, rank);
      List<RawBatch> batches = read(seg, 2);
      assertThat(batches).hasSize((int) seg.steps()).isNotEmpty();
      List<String> planned = plan.samples(seg).stream().map(p -> plan.recipe().shards().name(p.shard())).toList();
      List<String> got = new ArrayList<>();
      for (RawBatch b : batches) {
        assertThat(b.samples()).hasSize(BATCH);
        assertThat(b.samples().subList(0, 7)).allMatch(s -> isA(s));
        assertThat(b.samples().subList(7, BATCH)).noneMatch(s -> isA(s));
        b.samples().forEach(s -> got.add(s.shard()));
      }
      assertThat(got).isEqualTo(planned);
    }
  }

  @Test
  void stoppedAtARandomBatchAndResumedTheRankGetsTheRestOfItsBatches() {
    long seed = new SplittableRandom().nextLong();
    SplittableRandom rnd = new SplittableRandom(seed);
    Cursor start = Cursor.start(plan.recipe().fingerprint(), 2);
    for (int rank = 0; rank < 2; rank++) {
      List<RawBatch> whole = read(plan.rank(start, 2, rank), 1);
      int k = rnd.nextInt(whole.size() + 1);
      List<RawBatch> rest = read(plan.rank(start.withDelivered(rank, k), 2, rank), 3);
      assertThat(keys(rest)).as("seed %d: rank %d resumed at batch %d", seed, rank, k)
          .isEqualTo(keys(whole.subList(k, whole.size())));
    }
  }

  boolean isA(RawSample s) {
    for (int i = 0; i < firstOfB; i++) {
      if (plan.recipe().shards().name(i).equals(s.shard())) {
        return true;
      }
    }
    return false;
  }

  static List<String> keys(List<RawBatch> batches) {
    return batches.stream().map(b -> b.step() + ":" + b.samples().stream().map(s -> s.shard() + "/" + s.key()).toList()).toList();
  }
}
