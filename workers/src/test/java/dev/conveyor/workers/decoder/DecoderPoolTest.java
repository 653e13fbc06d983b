package dev.conveyor.workers.decoder;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.DecodeSettings;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.decode.AuthorSteps;
import dev.conveyor.streams.decode.SampleMap;
import dev.conveyor.streams.pipeline.DecoderStage;
import dev.conveyor.streams.pipeline.RankPipeline;
import dev.conveyor.streams.pipeline.SampleStage;
import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import dev.conveyor.streams.manifest.Manifest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The decoder pool's supervision: a decoder whose map throws on one sample is restarted, that sample is dead-lettered, the rest decode as they would anywhere. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DecoderPoolTest {
  @JUnit5TestKit
  public final ActorTestKit kit = new JUnit5TestKitBuilder().withName("decoders").withCustomConfig(ConfigFactory.load()).build();
  final Materializer mat = Materializer.createMaterializer(kit.system());
  static final DecodeSettings SETTINGS = DecodeSettings.fromConfig(ConfigFactory.parseString(
      "conveyor.decode { image.short-side = 64, image.crop-height = 48, image.crop-width = 48,"
          + " augment.random-crop = on, augment.horizontal-flip = on }").withFallback(ConfigFactory.defaultReference()));
  static final long SEED = 41;

  @TempDir
  static Path dir;

  static List<ReadEvent.Slot> slots;

  /** The key the test map refuses. */
  static String poisoned;

  @BeforeAll
  void samples() throws Exception {
    Manifest m = new DatasetGenerator(new FileShardStore(), dir.resolve("scratch"), 2)
        .generate(new DatasetSpec(24, 0, 64 * 1024, 3), dir.resolve("data").toUri(), n -> { });
    DataPlan plan = new DataPlan(new Recipe(m.shardSet(dir.resolve("data").toUri()), SEED, 4, false,
        new Recipe.Shuffle(false, 1, 1), "none"));
    RankSegment seg = plan.rank(Cursor.start(plan.recipe().fingerprint(), 1), 1, 0);
    slots = new ArrayList<>();
    for (var slice : RankPipeline.slices(seg)) {
      for (ReadEvent e : RankPipeline.slice(new FileShardStore(), plan, 0, slice.first(), slice.second(),
              new RankPipeline.Settings(1, 1, 1 << 24, RankPipeline::identity))
          .runWith(Sink.seq(), mat).toCompletableFuture().get(60, TimeUnit.SECONDS)) {
        if (e instanceof ReadEvent.Slot s && s.record() instanceof RawSample) {
          slots.add(s);
        }
      }
    }
    poisoned = ((RawSample) slots.get(7).record()).key();
  }

  /** A map that throws on one sample and passes every other on unchanged. */
  public static final class ThrowsOnOne implements SampleMap {
    @Override
    public RawSample apply(RawSample decoded, SplittableRandom random) {
      if (decoded.key().equals(poisoned)) {
        throw new IllegalStateException("refusing " + decoded.key());
      }
      return decoded;
    }
  }

  /** {@code slots} in groups of {@code n}, each through {@code stage}, two groups at once, the answers in order. */
  List<ReadEvent> inGroups(SampleStage stage, int n) throws Exception {
    return Source.from(slots).<ReadEvent>map(s -> s).grouped(n).mapAsync(2, g -> stage.apply(0, g)).mapConcat(g -> g)
        .runWith(Sink.seq(), mat).toCompletableFuture().get(90, TimeUnit.SECONDS);
  }

  @Test
  void aDecoderWhoseStageThrowsIsRestartedTheSampleDeadLetteredAndTheRestDecodeAsEverywhere() throws Exception {
    DecoderPool.Stats stats = new DecoderPool.Stats();
    ActorRef<DecoderPool.Decode> pool = kit.spawn(DecoderPool.create(2, SETTINGS, SEED,
        () -> AuthorSteps.mapping(new ThrowsOnOne()), stats)).narrow();
    // groups of 5: the poisoned sample (7) is in the middle of the second; the two after it are
    // answered after the decoder's restart
    List<ReadEvent> out = inGroups(DecoderPool.stage(pool, Duration.ofSeconds(30), kit.system().scheduler()), 5);

    // the same decoding in the single-process decoder stage (its own threads, no actors), one by one
    List<ReadEvent> reference;
    try (DecoderStage local = new DecoderStage(SETTINGS, SEED, 2)) {
      reference = inGroups(local::apply, 1);
    }
    assertThat(out).hasSize(slots.size());
    for (int i = 0; i < out.size(); i++) {
      ReadEvent.Slot got = (ReadEvent.Slot) out.get(i);
      assertThat(got.position()).isEqualTo(slots.get(i).position());
      if (i == 7) {
        assertThat(got.record()).isInstanceOf(DeadLetter.class);
        assertThat(((DeadLetter) got.record()).reason()).contains("ThrowsOnOne").contains("refusing " + poisoned)
            .contains("restarted");
        continue;
      }
      RawSample sample = (RawSample) got.record();
      RawSample local = (RawSample) ((ReadEvent.Slot) reference.get(i)).record();
      assertThat(sample.decoded()).as("sample %d decoded", i).isPresent();
      assertThat(Arrays.equals(sample.decoded().get().image().orElseThrow().rgb(),
          local.decoded().orElseThrow().image().orElseThrow().rgb())).as("sample %d: same pixels as the local stage", i)
          .isTrue();
    }
    assertThat(stats.restarts()).as("the decoder that ran the map was restarted once").isEqualTo(1);
    assertThat(stats.deadLetters()).isEqualTo(1);
    assertThat(stats.decoded()).isEqualTo(slots.size() - 1);
  }

  /** A map that holds the first sample until {@link #release} opens and passes every sample on unchanged. */
  public static final class HeldOnFirst implements SampleMap {
    @Override
    public RawSample apply(RawSample decoded, SplittableRandom random) {
      if (decoded.key().equals(((RawSample) slots.get(0).record()).key())) {
        try {
          held.countDown();
          release.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return decoded;
    }
  }

  /** Opens when the held sample's decoder has it; {@link #release} lets it go. */
  static volatile java.util.concurrent.CountDownLatch held;
  static volatile java.util.concurrent.CountDownLatch release;

  @Test
  void whileOneDecoderIsHeldUpTheOtherTakesEverySampleThatWaits() throws Exception {
    held = new java.util.concurrent.CountDownLatch(1);
    release = new java.util.concurrent.CountDownLatch(1);
    DecoderPool.Stats stats = new DecoderPool.Stats();
    ActorRef<DecoderPool.Decode> pool = kit.spawn(DecoderPool.create(2, SETTINGS, SEED,
        () -> AuthorSteps.mapping(new HeldOnFirst()), stats)).narrow();
    var stage = DecoderPool.stage(pool, Duration.ofSeconds(90), kit.system().scheduler());
    var slow = stage.apply(0, List.of(slots.get(0))).toCompletableFuture();
    assertThat(held.await(30, TimeUnit.SECONDS)).as("a decoder holds the first sample").isTrue();
    List<java.util.concurrent.CompletableFuture<List<ReadEvent>>> rest = new ArrayList<>();
    for (ReadEvent.Slot s : slots.subList(1, slots.size())) {
      rest.add(stage.apply(0, List.of(s)).toCompletableFuture());
    }
    try {
      // every other sample is decoded while the first is still held: had routing queued any behind the
      // held decoder (round-robin), it would wait for the release, which comes only after this
      java.util.concurrent.CompletableFuture.allOf(rest.toArray(new java.util.concurrent.CompletableFuture[0]))
          .get(60, TimeUnit.SECONDS);
      assertThat(slow).as("the held sample, while the %d others are done", rest.size()).isNotDone();
    } finally {
      release.countDown();
    }
    assertThat(slow.get(30, TimeUnit.SECONDS)).singleElement().isInstanceOf(ReadEvent.Slot.class);
    assertThat(stats.decoded()).isEqualTo(slots.size());
  }

  /** A map that always throws: its decoder restarts until it is stopped. */
  public static final class AlwaysThrows implements SampleMap {
    @Override
    public RawSample apply(RawSample decoded, SplittableRandom random) {
      throw new IllegalStateException("refusing " + decoded.key());
    }
  }

  @Test
  void aPoolWhoseDecodersAllStoppedAnswersEverySampleAsADeadLetter() throws Exception {
    DecoderPool.Stats stats = new DecoderPool.Stats();
    ActorRef<DecoderPool.Decode> pool = kit.spawn(DecoderPool.create(1, SETTINGS, SEED,
        () -> AuthorSteps.mapping(new AlwaysThrows()), stats)).narrow();
    var stage = DecoderPool.stage(pool, Duration.ofSeconds(30), kit.system().scheduler());
    // one group: each failure dead-letters one sample and the rest is asked for again, until the
    // decoder, restarted too often, stops and the pool has none left for the rest
    List<ReadEvent> group = new ArrayList<>(slots.subList(0, DecoderPool.MAX_RESTARTS + 3));
    List<ReadEvent> out = stage.apply(0, group).toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertThat(out).hasSize(group.size());
    for (int i = 0; i < out.size(); i++) {
      assertThat(((ReadEvent.Slot) out.get(i)).position()).isEqualTo(slots.get(i).position());
    }
    assertThat(out).allSatisfy(e -> assertThat(((ReadEvent.Slot) e).record()).isInstanceOf(DeadLetter.class));
    assertThat(((DeadLetter) ((ReadEvent.Slot) out.get(out.size() - 1)).record()).reason())
        .startsWith("no decoder was left")
        .contains("the last failure, mapping " + ((RawSample) ((ReadEvent.Slot) slots.get(DecoderPool.MAX_RESTARTS))
            .record()).key()).contains("refusing"); // what stopped the decoders, for a user to fix
    assertThat(stats.restarts()).isEqualTo(DecoderPool.MAX_RESTARTS);
  }
}
