package dev.conveyor.streams.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.batch.Skipped;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.plan.ShardSet;
import dev.conveyor.streams.plan.ShardTask;
import dev.conveyor.streams.plan.WindowSlice;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.streams.store.ShardCheck;
import dev.conveyor.streams.store.ShardIndex;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.manifest.ShardInfo;
import dev.conveyor.streams.testing.StreamTestKit;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With a per-sample byte index, a shard split between ranks is read once per epoch, not once
 * per rank — and the batches are the same bytes as without the index; a sample whose bytes do
 * not match the index is a dead letter, and an index that does not match its shard is not used.
 */
class IndexedPiecesTest {
  static final StreamTestKit kit = new StreamTestKit();
  static final int WORLD = 3;

  @TempDir
  static Path dir;

  static Manifest manifest;
  static DataPlan plan;

  @BeforeAll
  static void data() throws Exception {
    manifest = new DatasetGenerator(new FileShardStore(), dir.resolve("scratch"), 2)
        .generate(new DatasetSpec(60, 0, 96 * 1024, 11), dir.resolve("data").toUri(), n -> { });
    plan = new DataPlan(new Recipe(manifest.shardSet(dir.resolve("data").toUri()), 5, 4, false,
        new Recipe.Shuffle(true, 2, 16), "none"));
  }

  @AfterAll
  static void stop() {
    kit.close();
  }

  /** The manifest's checks for the shards under {@code base}, the index flag as given. */
  static Map<String, ShardCheck> checks(Path base, boolean indexed) {
    Map<String, ShardCheck> checks = new HashMap<>();
    for (ShardInfo s : manifest.shards()) {
      checks.put(base.resolve(s.name()).toUri().toString(), new ShardCheck(s.bytes(), s.sha256(), indexed && s.indexed()));
    }
    return checks;
  }

  record Epoch(List<String> batches, List<String> keys, List<Skipped> skipped, long bytesRead) {}

  /** Every rank's epoch over the shards under {@code base} (a copy of the data may lie elsewhere). */
  static Epoch epoch(Path base, boolean indexed, long readAhead) {
    return epoch(base, indexed, readAhead, manifest.shardSet(base.toUri()));
  }

  /** The same over {@code shards} (the data's shards, or some of their samples). */
  static Epoch epoch(Path base, boolean indexed, long readAhead, ShardSet shards) {
    DataPlan p = new DataPlan(new Recipe(shards, 5, 4, false, new Recipe.Shuffle(true, 2, 16), "none"));
    List<String> batches = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    List<Skipped> skipped = new ArrayList<>();
    long bytes = 0;
    for (int r = 0; r < WORLD; r++) {
      try (FileShardStore store = new FileShardStore()) {
        RankSegment seg = p.rank(Cursor.start(p.recipe().fingerprint(), WORLD), WORLD, r);
        var s = new RankPipeline.Settings(2, 2, 1 << 24, SampleStage.IDENTITY, readAhead, checks(base, indexed));
        for (RankEvent e : kit.collect(RankPipeline.events(store, p, seg, s))) {
          if (e instanceof RawBatch b) {
            batches.add(r + " " + b.step() + " " + b.samples().stream().map(RawSample::key).toList()
                + " " + dev.conveyor.streams.batch.BatchDigest.of(b).bytesSha256());
            b.samples().forEach(x -> keys.add(x.key()));
          } else {
            skipped.add((Skipped) e);
          }
        }
        bytes += store.metrics().snapshot().bytes();
      }
    }
    return new Epoch(batches, keys, skipped, bytes);
  }

  @Test
  void chosenSamplesAreReadAloneWithTheIndexAndTheSameFromWholeShardsWithoutIt() {
    Path data = dir.resolve("data");
    ShardSet all = manifest.shardSet(data.toUri());
    // of each shard: samples 0, 1, 2 (a run), then every third one after
    int[][] chosen = new int[all.size()][];
    List<String> names = new ArrayList<>();
    int[] held = new int[all.size()];
    java.util.Set<String> expected = new java.util.TreeSet<>();
    for (int i = 0; i < all.size(); i++) {
      names.add(all.name(i));
      held[i] = all.count(i);
      chosen[i] = java.util.stream.IntStream.range(0, all.count(i)).filter(n -> n < 3 || n % 3 == 0).toArray();
      List<String> keys = kit.collect(dev.conveyor.streams.sample.ShardSamples.read(new FileShardStore(), all.uri(i),
          1 << 24)).stream().map(r -> ((RawSample) r).key()).toList();
      for (int n : chosen[i]) {
        expected.add(keys.get(n));
      }
    }
    ShardSet selected = new dev.conveyor.streams.plan.SelectedShardSet(names, chosen, held, "test; ");
    Epoch whole = epoch(data, true, 0, all);
    for (long readAhead : new long[] {0, 8 << 20}) {
      Epoch ranged = epoch(data, true, readAhead, selected);
      Epoch unindexed = epoch(data, false, readAhead, selected);
      assertThat(new java.util.TreeSet<>(ranged.keys())).as("read ahead %d", readAhead).isEqualTo(expected);
      assertThat(ranged.keys()).hasSize(expected.size());
      assertThat(unindexed.batches()).as("whole shards, the unchosen samples left out").isEqualTo(ranged.batches());
      assertThat(ranged.skipped()).isEmpty();
      assertThat(ranged.bytesRead()).as("only the chosen samples' ranges and the indexes")
          .isLessThan(whole.bytesRead() * 3 / 4);
    }
  }

  @Test
  void theDatasetHasShardsSplitBetweenRanksAndEveryShardAnIndex() {
    assertThat(manifest.shards()).hasSizeGreaterThanOrEqualTo(4).allMatch(ShardInfo::indexed);
    long partial = 0;
    for (int r = 0; r < WORLD; r++) {
      for (WindowSlice w : plan.rank(Cursor.start(plan.recipe().fingerprint(), WORLD), WORLD, r).toRead()) {
        partial += plan.tasks(w.window()).stream()
            .filter(t -> t.from() > 0 || t.to() < plan.recipe().shards().count(t.shard())).count();
      }
    }
    assertThat(partial).as("pieces that are part of a shard").isGreaterThanOrEqualTo(2);
  }

  @Test
  void aShardSplitBetweenRanksIsReadOnceWithItsIndexAndTheBatchesDoNotChange() {
    Path data = dir.resolve("data");
    for (long readAhead : new long[] {0, 8 << 20}) { // streamed pieces, then pieces fetched ahead
      Epoch whole = epoch(data, false, readAhead);
      Epoch ranged = epoch(data, true, readAhead);
      assertThat(ranged.batches()).as("read-ahead " + readAhead).isEqualTo(whole.batches());
      assertThat(ranged.skipped()).isEmpty();
      assertThat(whole.bytesRead()).as("without the index the split shards are read once per rank")
          .isGreaterThan(manifest.bytes() * 11 / 10);
      assertThat(ranged.bytesRead()).as("read with the index, its sidecars included")
          .isGreaterThan(manifest.bytes() * 9 / 10) // the end-of-archive blocks of split shards are not needed
          .isLessThanOrEqualTo(manifest.bytes() * 102 / 100);
    }
  }

  @Test
  void aSampleWhoseBytesDoNotMatchTheIndexIsADeadLetterAndTheSamplesBeforeItArrive() throws IOException {
    Path copy = copyOfData("corrupt");
    // a piece that starts inside its shard, and its second sample
    ShardTask piece = firstPieceStartingInside();
    String name = manifest.shards().get(piece.shard()).name();
    ShardIndex index = ShardIndex.parse(Files.readString(copy.resolve(name + ShardIndex.SUFFIX), StandardCharsets.UTF_8));
    int bad = piece.from() + 1;
    byte[] shard = Files.readAllBytes(copy.resolve(name));
    shard[(int) index.offsets()[bad] + 512 + 100] ^= 0x5a; // a byte of the sample's JPEG data, past its header
    Files.write(copy.resolve(name), shard);

    Epoch e = epoch(copy, true, 0);
    String badKey = String.format(java.util.Locale.ROOT, "%06d", sampleNumber(piece.shard(), bad));
    String goodKey = String.format(java.util.Locale.ROOT, "%06d", sampleNumber(piece.shard(), piece.from()));
    assertThat(e.keys()).doesNotContain(badKey).contains(goodKey);
    assertThat(e.skipped()).isNotEmpty()
        .allMatch(s -> s.deadLetter().reason().contains("does not match the shard's index"));
    assertThat(e.skipped()).anyMatch(s -> s.deadLetter().key().equals("#" + bad));
  }

  @Test
  void anIndexThatDoesNotMatchItsShardIsNotUsedAndTheShardIsReadWhole() throws IOException {
    Path copy = copyOfData("stale");
    ShardTask piece = firstPieceStartingInside();
    Path sidecar = copy.resolve(manifest.shards().get(piece.shard()).name() + ShardIndex.SUFFIX);
    ShardIndex index = ShardIndex.parse(Files.readString(sidecar, StandardCharsets.UTF_8));
    long[] shifted = index.offsets().clone();
    for (int i = 1; i < shifted.length - 1; i++) {
      shifted[i] += 512; // would cut every sample in the wrong place
    }
    Files.writeString(sidecar, new ShardIndex(index.shard(), index.bytes(), "00".repeat(32), shifted, index.crc32c()).toJson());

    Epoch stale = epoch(copy, true, 0);
    Epoch whole = epoch(copy, false, 0);
    assertThat(stale.skipped()).isEmpty();
    assertThat(stale.batches()).isEqualTo(whole.batches());
  }

  private static ShardTask firstPieceStartingInside() {
    for (int r = 0; r < WORLD; r++) {
      for (WindowSlice w : plan.rank(Cursor.start(plan.recipe().fingerprint(), WORLD), WORLD, r).toRead()) {
        for (ShardTask t : plan.tasks(w.window())) {
          if (t.from() > 0 && t.size() >= 2) {
            return t;
          }
        }
      }
    }
    throw new AssertionError("no piece starts inside its shard");
  }

  /** The dataset-wide number of sample {@code index} of shard {@code shard} (datagen numbers samples in shard order). */
  private static long sampleNumber(int shard, int index) {
    long n = index;
    for (int i = 0; i < shard; i++) {
      n += manifest.shards().get(i).samples();
    }
    return n;
  }

  private static Path copyOfData(String name) throws IOException {
    Path copy = dir.resolve(name);
    Files.createDirectories(copy);
    try (Stream<Path> files = Files.list(dir.resolve("data"))) {
      for (Path f : files.toList()) {
        Files.copy(f, copy.resolve(f.getFileName()));
      }
    }
    return copy;
  }
}
