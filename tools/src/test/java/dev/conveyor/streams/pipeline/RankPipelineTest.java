package dev.conveyor.streams.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.batch.BatchDigest;
import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.testing.StreamTestKit;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A rank's stream delivers exactly its plan, whatever the parallelism and however late the pieces arrive. */
class RankPipelineTest {
  static final StreamTestKit kit = new StreamTestKit();

  @TempDir
  static Path dir;

  static Manifest manifest;
  static Recipe recipe;
  static DataPlan plan;

  @BeforeAll
  static void data() throws Exception {
    manifest = new DatasetGenerator(new FileShardStore(), dir.resolve("scratch"), 2)
        .generate(new DatasetSpec(70, 3, 24 * 1024, 3), dir.resolve("data").toUri(), n -> { });
    recipe = new Recipe(manifest.shardSet(dir.resolve("data").toUri()), 99, 5, false, new Recipe.Shuffle(true, 3, 7), "none");
    plan = new DataPlan(recipe);
  }

  @AfterAll
  static void stop() {
    kit.close();
  }

  static List<RankEvent> run(ShardStore store, RankSegment seg, int readers, int stage, boolean delays) {
    RankPipeline.Settings s = new RankPipeline.Settings(readers, stage, 1 << 24,
        (epoch, e) -> delays ? CompletableFuture.supplyAsync(() -> e,
            CompletableFuture.delayedExecutor(ThreadLocalRandom.current().nextInt(3), TimeUnit.MILLISECONDS))
            : CompletableFuture.completedFuture(e));
    return kit.collect(RankPipeline.events(store, plan, seg, s));
  }

  static List<String> digests(List<RankEvent> events) {
    return events.stream().filter(e -> e instanceof RawBatch).map(e -> {
      BatchDigest d = BatchDigest.of((RawBatch) e);
      return e.step() + " " + d.bytesSha256() + " " + d.keysSha256();
    }).toList();
  }

  @Test
  void parallelismAndRandomDelaysInReaderAndStageNeverChangeTheBatches() {
    ShardStore slow = new DelayingStore(new FileShardStore());
    for (int world : new int[] {1, 3}) {
      for (int r = 0; r < world; r++) {
        RankSegment seg = plan.rank(Cursor.start(recipe.fingerprint(), world), world, r);
        List<String> serial = digests(run(new FileShardStore(), seg, 1, 1, false));
        assertThat(serial).hasSize((int) seg.steps());
        assertThat(digests(run(slow, seg, 8, 8, true))).as("world " + world + " rank " + r).isEqualTo(serial);
      }
    }
  }

  @Test
  void theSamplesDeliveredAreExactlyThePlansInOrderAndBatchesCoverFixedPositions() {
    long[] start = new long[manifest.shards().size() + 1];
    for (int i = 0; i < manifest.shards().size(); i++) {
      start[i + 1] = start[i] + manifest.shards().get(i).samples();
    }
    RankSegment seg = plan.rank(Cursor.start(recipe.fingerprint(), 2), 2, 1);
    List<String> planned = plan.samples(seg).stream()
        .map(p -> String.format(Locale.ROOT, "%06d", start[p.shard()] + p.index())).toList();
    List<RawBatch> batches = run(new FileShardStore(), seg, 2, 4, false).stream()
        .filter(e -> e instanceof RawBatch).map(RawBatch.class::cast).toList();
    List<String> delivered = batches.stream().flatMap(b -> b.samples().stream()).map(RawSample::key).toList();
    assertThat(delivered).isEqualTo(planned);
    for (RawBatch b : batches) {
      assertThat(b.samples()).hasSize((int) (seg.batchEnd(b.index()) - seg.batchStart(b.index())));
    }
  }

  @Test
  void aResumedSegmentDeliversTheUninterruptedTail() {
    RankSegment full = plan.rank(Cursor.start(recipe.fingerprint(), 2), 2, 0);
    List<String> all = digests(run(new FileShardStore(), full, 2, 2, false));
    Cursor c = Cursor.start(recipe.fingerprint(), 2).withDelivered(0, 3).withDelivered(1, 2);
    List<String> tail = digests(run(new FileShardStore(), plan.rank(c, 2, 0), 2, 2, false));
    assertThat(tail).isEqualTo(all.subList(3, all.size()));
  }

  /** A real store whose chunks arrive after random delays. */
  static final class DelayingStore extends dev.conveyor.streams.store.ForwardingShardStore {
    DelayingStore(ShardStore inner) {
      super(inner);
    }

    private static Source<ByteString, NotUsed> delayed(Source<ByteString, NotUsed> s) {
      return s.mapAsync(1, b -> CompletableFuture.supplyAsync(() -> b,
          CompletableFuture.delayedExecutor(ThreadLocalRandom.current().nextInt(2), TimeUnit.MILLISECONDS)));
    }

    @Override
    public Source<ByteString, NotUsed> read(URI shard) {
      return delayed(inner.read(shard).mapConcat(b -> List.of(b.take(4096), b.drop(4096))).filter(ByteString::nonEmpty));
    }

    @Override
    public Source<ByteString, NotUsed> read(URI shard, long offset, long length) {
      return delayed(inner.read(shard, offset, length));
    }

    @Override
    public void close() {
      inner.close();
    }
  }
}
