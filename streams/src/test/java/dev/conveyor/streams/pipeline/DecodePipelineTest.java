package dev.conveyor.streams.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.DecodeSettings;
import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.batch.Skipped;
import dev.conveyor.streams.batch.TensorBatch;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.plan.ShardSet;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.streams.testing.StreamTestKit;
import dev.conveyor.streams.testing.Tars;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Decoding inside the rank pipeline: deterministic whatever the pool size, and bad media never stops the good. */
class DecodePipelineTest {
  static final StreamTestKit kit = new StreamTestKit();
  static final List<String> BAD = List.of("000002", "000005", "000008", "000011");

  @TempDir
  static Path dir;

  static DataPlan plan;
  static RankSegment seg;

  @BeforeAll
  static void shard() throws Exception {
    byte[] clip = dev.conveyor.streams.decode.TestMediaAccess.clip();
    byte[] png = dev.conveyor.streams.decode.TestMediaAccess.png();
    Tars t = Tars.builder();
    for (int i = 0; i < 12; i++) {
      String k = String.format("%06d", i);
      switch (i % 3 == 2 ? BAD.indexOf(k) : -1) {
        case 0 -> t.file(k + ".jpg", "definitely not a jpeg");
        case 1 -> t.file(k + ".mp4", new byte[0]);
        case 2 -> t.file(k + ".mp4", dev.conveyor.streams.decode.TestMediaAccess.audioOnly());
        case 3 -> t.file(k + ".png", dev.conveyor.streams.decode.TestMediaAccess.pngDeclaring(30000, 30000));
        default -> t.file(k + (i % 2 == 0 ? ".png" : ".mp4"), i % 2 == 0 ? png : clip);
      }
      t.file(k + ".json", "{\"label\": " + i + "}");
    }
    Path shard = Files.write(dir.resolve("media.tar"), t.bytes());
    Recipe r = new Recipe(new ShardSet(List.of(shard.toUri().toString()), new int[] {12}), 3, 4, false,
        new Recipe.Shuffle(true, 1, 5), "auto");
    plan = new DataPlan(r);
    seg = plan.rank(Cursor.start(r.fingerprint(), 1), 1, 0);
  }

  @AfterAll
  static void stop() {
    kit.close();
  }

  static List<RankEvent> run(int pool, String hocon) {
    DecodeSettings s = DecodeSettings.fromConfig(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference()));
    try (DecoderStage decoder = new DecoderStage(s, 3, pool)) {
      return kit.collect(RankPipeline.events(new FileShardStore(), plan, seg,
          new RankPipeline.Settings(2, pool, 1 << 24, decoder::apply)));
    }
  }

  static final String SMALL = "conveyor.decode { image { short-side = 32, crop-height = 32, crop-width = 32 },"
      + " video { frames = 4, short-side = 32, crop-height = 32, crop-width = 32 },"
      + " augment { random-crop = true, horizontal-flip = true } }";

  @Test
  void poolSizesOneAndFourGiveByteIdenticalBatchBuffers() {
    List<TensorBatch> one = tensors(run(1, SMALL));
    List<TensorBatch> four = tensors(run(4, SMALL));
    List<TensorBatch> again = tensors(run(4, SMALL));
    assertThat(one).hasSize(3);
    for (int b = 0; b < one.size(); b++) {
      assertThat(bytes(four.get(b).images())).isEqualTo(bytes(one.get(b).images()));
      assertThat(bytes(four.get(b).videos())).isEqualTo(bytes(one.get(b).videos()));
      assertThat(bytes(again.get(b).videos())).isEqualTo(bytes(one.get(b).videos()));
      assertThat(four.get(b).imageShape()).isEqualTo(one.get(b).imageShape());
    }
    TensorBatch first = one.get(0);
    assertThat(first.videoShape()[1]).isEqualTo(4);
    assertThat(first.imageShape()[1]).isEqualTo(32);
    for (TensorBatch t : one) {
      for (TensorBatch.SampleMeta m : t.samples()) {
        assertThat(m.label()).hasValue(Long.parseLong(m.key())); // {"label": i} for sample i
        assertThat(m.imageRow() >= 0 || m.videoRow() >= 0).isTrue();
        if (m.videoRow() >= 0) {
          assertThat(m.frameIndices()).hasSize(4);
          assertThat(m.originalWidth()).isEqualTo(64);
        }
      }
    }
  }

  @Test
  void everyBadSampleIsOneDeadLetterAndEveryGoodOneArrivesOnce() {
    List<RankEvent> events = run(4, SMALL);
    List<String> good = events.stream().filter(e -> e instanceof RawBatch).flatMap(e -> ((RawBatch) e).samples().stream())
        .map(RawSample::key).sorted().toList();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      String k = String.format("%06d", i);
      if (!BAD.contains(k)) {
        expected.add(k);
      }
    }
    assertThat(good).isEqualTo(expected);
    List<Skipped> skipped = events.stream().filter(e -> e instanceof Skipped).map(Skipped.class::cast).toList();
    assertThat(skipped).extracting(s -> s.deadLetter().key()).containsExactlyInAnyOrderElementsOf(BAD);
    assertThat(skipped).allSatisfy(s -> assertThat(s.deadLetter().shard()).endsWith("media.tar"));
  }

  @Test
  void aDecodeThatOutlastsTheTimeoutIsDeadLetteredAndTheRunGoesOn() {
    List<RankEvent> events = run(2, SMALL + "\nconveyor.decode.limits.timeout = 1ms");
    long timedOut = events.stream().filter(e -> e instanceof Skipped s && s.deadLetter().reason().contains("limits.timeout")).count();
    assertThat(timedOut).isPositive();
    assertThat(events.stream().filter(e -> e instanceof RawBatch).count()).isEqualTo(3);
  }

  static List<TensorBatch> tensors(List<RankEvent> events) {
    return events.stream().filter(e -> e instanceof RawBatch).map(e -> TensorBatch.of((RawBatch) e)).toList();
  }

  static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }
}
