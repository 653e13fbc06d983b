package dev.conveyor.streams.dsl;

import static dev.conveyor.config.Resources.cpus;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.ConveyorSettings;
import dev.conveyor.config.DecodeSettings;
import dev.conveyor.config.JobSettings;
import dev.conveyor.config.SettingsException;
import dev.conveyor.config.StageSettings;
import dev.conveyor.streams.decode.SampleDecoding;
import dev.conveyor.streams.decode.TestMediaAccess;
import dev.conveyor.streams.sample.Filtered;
import dev.conveyor.streams.sample.Member;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.ShardRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

/** The stream-graph DSL: what a pipeline compiles to, and its stages as a decoder runs them. */
class PipelineTest {
  /** What the stages saw, per test (stages are plain functions: they may record). */
  static final List<String> SEEN = new ArrayList<>();

  static Pipeline pipeline() {
    return Pipeline.from(Shards.of("file:///data/part-{0..3}.tar"))
        .filter(Stage.filter(s -> s.member("png").isPresent()).named("pictures"))
        .map((s, r) -> { SEEN.add("raw " + s.key() + " decoded=" + s.decoded().isPresent()); return s; })
        .decode(Decode.images(16, 24).randomCrop())
        .map(Stage.of((s, r) -> {
          SEEN.add("decoded " + s.key() + " " + r.nextLong());
          return s;
        }).resources(cpus(0.5)).concurrency(3))
        .filter(Stage.filter((s, r) -> !s.key().equals("drop-me")).named("not-drop-me").resources(cpus(0.25)))
        .batch(12)
        .seed(99);
  }

  public static final class Definition implements PipelineDefinition {
    @Override
    public Pipeline define() {
      return pipeline();
    }
  }

  static ConveyorSettings settings(Config pipeline) {
    return ConveyorSettings.fromConfig(pipeline.withFallback(ConfigFactory.defaultReference()).resolve());
  }

  @Test
  void aPipelineCompilesToTheSettingsAJobFileWouldHold() {
    ConveyorSettings s = settings(pipeline().settings(Definition.class.getName()));
    JobSettings job = s.job();
    assertThat(job.shards()).isEqualTo("file:///data/part-{0..3}.tar");
    assertThat(job.batchSize()).isEqualTo(12);
    assertThat(job.seed()).isEqualTo(99);
    assertThat(job.decode()).isEqualTo(JobSettings.Decode.AUTO);
    DecodeSettings d = s.decode();
    assertThat(List.of(d.image().shortSide(), d.image().cropHeight(), d.image().cropWidth())).containsExactly(24, 16, 24);
    assertThat(d.augment().randomCrop()).isTrue();
    StageSettings st = s.stages();
    assertThat(st.pipeline()).contains(Definition.class.getName());
    assertThat(st.mapCpus()).as("the stages' CPUs add to each decoder's").isEqualTo(0.75);
    assertThat(st.cpusPerDecoder()).isEqualTo(1.75);
    assertThat(st.pool()).as("a stage's concurrency caps the decoders per worker").isEqualTo(3);
    assertThat(pipeline().signature()).isEqualTo("pictures#0|map#1|decode|map#2|not-drop-me#3");
  }

  @Test
  void aPipelineWithoutStagesReadsRawBytesAndMisuseIsRefusedWithTheFix() {
    assertThat(settings(Pipeline.from(Shards.of("file:///d/a.tar")).settings("x.Y")).job().decode())
        .isEqualTo(JobSettings.Decode.NONE);
    assertThatThrownBy(() -> Pipeline.from(Shards.of("file:///d/a.tar")).map((s, r) -> s).settings("x.Y"))
        .hasMessageContaining(".decode(Decode.images(");
    assertThatThrownBy(() -> Pipeline.from(Shards.of("file:///d/a.tar")).filter(Stage.of((s, r) -> s)))
        .hasMessageContaining("use map(...)");
    assertThatThrownBy(() -> Pipeline.from(Shards.of("file:///d/a.tar")).decode(Decode.auto()).decode(Decode.auto()))
        .hasMessageContaining("decodes once");
    assertThatThrownBy(() -> Shards.of("s3://b/part-{3..1}.tar")).hasMessageContaining("Shards.of(");
    assertThatThrownBy(() -> Stage.of((s, r) -> s).concurrency(0)).hasMessageContaining("at least 1");
    assertThatThrownBy(() -> PipelineDefinition.load("no.such.Pipeline")).isInstanceOf(SettingsException.class)
        .hasMessageContaining(StageSettings.PIPELINE).hasMessageContaining("no class no.such.Pipeline");
    assertThatThrownBy(() -> PipelineDefinition.load(String.class.getName()))
        .hasMessageContaining("does not implement " + PipelineDefinition.class.getName());
  }

  static RawSample picture(String key) throws Exception {
    return new RawSample("s", key, List.of(new Member("png", ByteString.fromArray(TestMediaAccess.png()))));
  }

  static ShardRecord run(RawSample s) throws Exception {
    DecodeSettings d = settings(pipeline().settings("x")).decode();
    return new SampleDecoding(d, 99, PipelineDefinition.load(Definition.class.getName()).steps()).apply(3, s);
  }

  @Test
  void filtersBeforeDecodingSpareTheDecoderAndStagesRunInTheOrderWritten() throws Exception {
    SEEN.clear();
    RawSample text = new RawSample("s", "a-caption", List.of(new Member("txt", ByteString.fromString("hi"))));
    assertThat(run(text)).isEqualTo(new Filtered("s", "a-caption", "pictures#0"));
    assertThat(SEEN).as("nothing after the filter ran").isEmpty();

    ShardRecord kept = run(picture("k1"));
    assertThat(kept).isInstanceOf(RawSample.class);
    assertThat(((RawSample) kept).decoded().orElseThrow().image().orElseThrow().width()).isEqualTo(24);
    assertThat(SEEN).hasSize(2);
    assertThat(SEEN.get(0)).isEqualTo("raw k1 decoded=false");
    assertThat(SEEN.get(1)).startsWith("decoded k1 ");

    assertThat(run(picture("drop-me"))).isEqualTo(new Filtered("s", "drop-me", "not-drop-me#3"));
  }

  @Test
  void aStagesRandomStreamIsAFunctionOfTheSampleAlone() throws Exception {
    SEEN.clear();
    run(picture("k1"));
    run(picture("k2"));
    run(picture("k1"));
    assertThat(SEEN.get(5)).as("the same sample draws the same numbers").isEqualTo(SEEN.get(1));
    assertThat(SEEN.get(3).split(" ")[2]).as("another sample, other numbers").isNotEqualTo(SEEN.get(1).split(" ")[2]);
  }

  @Test
  void aStageThatThrowsFailsItsSampleNamingTheStage() throws Exception {
    Pipeline p = Pipeline.from(Shards.of("file:///d/a.tar")).decode(Decode.images(8, 8))
        .map(Stage.of((s, r) -> {
          throw new IllegalStateException("no labels for " + s.key());
        }).named("labeller"));
    DecodeSettings d = settings(p.settings("x")).decode();
    assertThatThrownBy(() -> new SampleDecoding(d, 1, p.steps()).apply(0, picture("k9")))
        .isInstanceOf(SampleDecoding.MapFailed.class)
        .hasMessageContaining("the stage labeller#0 failed").hasMessageContaining("no labels for k9");
    Pipeline nulls = Pipeline.from(Shards.of("file:///d/a.tar")).decode(Decode.images(8, 8)).map((s, r) -> null);
    assertThatThrownBy(() -> new SampleDecoding(d, 1, nulls.steps()).apply(0, picture("k9")))
        .isInstanceOf(SampleDecoding.MapFailed.class).hasMessageContaining("returned null");
  }

  @Test
  void aMixCompilesToTheJobFilesSourcesAndMixAndItsMistakesAreRefused() {
    Pipeline mix = Pipeline.mix(Source.of(Shards.of("file:///d/web-{0..3}.tar")).weight(0.7).named("web"),
        Source.of(Shards.of("file:///d/books.tar")).weight(0.3).repeat()).perSourceBatches().batch(16);
    JobSettings job = settings(mix.settings("x.Mix")).job();
    assertThat(job.mixed()).isTrue();
    assertThat(job.shards()).isEmpty();
    assertThat(job.sources()).containsExactly(new dev.conveyor.config.SourceSettings("web", "file:///d/web-{0..3}.tar", 0.7,
        false), new dev.conveyor.config.SourceSettings("source-1", "file:///d/books.tar", 0.3, true));
    assertThat(job.mix()).isEqualTo(JobSettings.MixBatching.PER_SOURCE);
    assertThat(job.batchSize()).isEqualTo(16);
    assertThat(settings(Pipeline.mix(Source.of(Shards.of("file:///d/a.tar"))).settings("x")).job().mix())
        .isEqualTo(JobSettings.MixBatching.STRATIFIED);
    assertThatThrownBy(() -> Source.of(Shards.of("file:///d/a.tar")).weight(0)).hasMessageContaining("positive number");
    assertThatThrownBy(() -> Pipeline.mix(Source.of(Shards.of("file:///d/a.tar")).repeat()))
        .hasMessageContaining("every source repeats");
    assertThatThrownBy(() -> Pipeline.from(Shards.of("file:///d/a.tar")).perSourceBatches())
        .hasMessageContaining("is for a mix");
  }

  /** A picture into three before decoding (keys k/0..2), one left out after; each output decoded and mapped on its own. */
  static Pipeline threes() {
    return Pipeline.from(Shards.of("file:///d/a.tar"))
        .flatMap(Stage.flatMap((s, r) -> List.of(renamed(s, "/0"), renamed(s, "/1"), renamed(s, "/2"))).named("threes"))
        .decode(Decode.images(16, 24).randomCrop())
        .filter(Stage.filter(s -> !s.key().endsWith("/1")).named("not-1"))
        .map((s, r) -> renamed(s, "@" + r.nextInt(1000)));
  }

  static RawSample renamed(RawSample s, String suffix) {
    return new RawSample(s.shard(), s.key() + suffix, s.members(), s.decoded());
  }

  @Test
  void aFlatMapMakesASampleIntoItsOutputsEachDecodedFilteredAndMappedOnItsOwn() throws Exception {
    DecodeSettings d = settings(threes().settings("x")).decode();
    SampleDecoding decoding = new SampleDecoding(d, 99, threes().steps());
    dev.conveyor.streams.sample.Expanded x = (dev.conveyor.streams.sample.Expanded) decoding.apply(3, picture("k"));
    assertThat(x.key()).isEqualTo("k");
    assertThat(x.filtered()).as("output k/1 left out by the filter after").isEqualTo(1);
    assertThat(x.outputs()).hasSize(2).allSatisfy(o -> assertThat(o.decoded()).isPresent());
    assertThat(x.outputs().get(0).key()).startsWith("k/0@");
    assertThat(x.outputs().get(1).key()).startsWith("k/2@");
    assertThat(x.outputs().get(0).key()).as("each output its own random stream")
        .isNotEqualTo(x.outputs().get(1).key().replace("k/2", "k/0"));
    dev.conveyor.streams.sample.Expanded again = (dev.conveyor.streams.sample.Expanded) decoding.apply(3, picture("k"));
    assertThat(again.outputs()).as("the same outputs every time").extracting(RawSample::key)
        .isEqualTo(x.outputs().stream().map(RawSample::key).toList());
    assertThat(again.outputs().get(1).decoded().orElseThrow().image().orElseThrow().rgb())
        .isEqualTo(x.outputs().get(1).decoded().orElseThrow().image().orElseThrow().rgb());
    assertThat(threes().signature()).isEqualTo("threes#0|decode|not-1#1|map#2");
    // a flatMap that makes nothing of a sample leaves it out, and a map stage is no flatMap
    SampleDecoding none = new SampleDecoding(d, 99, Pipeline.from(Shards.of("file:///d/a.tar"))
        .flatMap((s, r) -> List.of()).decode(Decode.images(16, 24)).steps());
    assertThat(none.apply(0, picture("k"))).isEqualTo(new Filtered("s", "k", "flatMap#0"));
    assertThatThrownBy(() -> Pipeline.from(Shards.of("file:///d/a.tar")).flatMap(Stage.of((s, r) -> s)))
        .hasMessageContaining("use map(...)");
  }

  @Test
  void fullBatchesCompileToTheJobFilesKeyForOneDatasetOrAMix() {
    assertThat(settings(Pipeline.from(Shards.of("file:///d/a.tar")).fullBatches().settings("x")).job().fullBatches())
        .isTrue();
    assertThat(settings(Pipeline.from(Shards.of("file:///d/a.tar")).settings("x")).job().fullBatches()).isFalse();
    JobSettings mixed = settings(Pipeline.mix(Source.of(Shards.of("file:///d/a.tar")), Source.of(Shards.of("file:///d/b.tar")))
        .packTokens("ids", 64).settings("x")).job();
    assertThat(mixed.fullBatches()).isTrue();
    assertThat(mixed.sources()).hasSize(2);
  }

  @Test
  void bucketByCompilesToTheJobFilesKeysAndItsMistakesAreRefusedWhereTheyAreWritten() {
    JobSettings j = settings(Pipeline.from(Shards.of("file:///d/a.tar"))
        .bucketBy("ids", new int[] {16, 64}, new int[] {32, 8, 2}).settings("x")).job();
    assertThat(j.fullBatches()).isTrue();
    assertThat(j.bucket()).contains(new JobSettings.Bucket("ids", List.of(16, 64), List.of(32, 8, 2), 1024));
    assertThatThrownBy(() -> Pipeline.from(Shards.of("file:///d/a.tar")).bucketBy("ids", new int[] {16}, new int[] {4}))
        .hasMessageContaining("2 buckets, which need as many batch sizes");
    assertThatThrownBy(() -> Pipeline.mix(Source.of(Shards.of("file:///d/a.tar"))).bucketBy("ids", new int[0],
        new int[] {4})).hasMessageContaining("not yet supported for a mix");
  }

  @Test
  void noStagesIsTheSameAsNoPipeline() throws Exception {
    DecodeSettings d = settings(pipeline().settings("x")).decode();
    RawSample p = picture("k1");
    assertThat(((RawSample) new SampleDecoding(d, 5, dev.conveyor.streams.decode.AuthorSteps.NONE).apply(0, p))
        .decoded().orElseThrow().image().orElseThrow().rgb())
        .isEqualTo(((RawSample) new SampleDecoding(d, 5, Optional.empty()).apply(0, p)).decoded().orElseThrow().image()
            .orElseThrow().rgb());
  }

  static final java.util.concurrent.atomic.AtomicInteger MADE = new java.util.concurrent.atomic.AtomicInteger();

  static Pipeline pooled() {
    return Pipeline.from(Shards.of("file:///data/part-{0..3}.tar"))
        .decode(Decode.images(16, 24))
        .map(Stage.of((s, r) -> s).resources(cpus(0.5)).concurrency(3))
        .map(Stage.actor(() -> {
          MADE.incrementAndGet();
          return (s, r) -> s;
        }).named("caption").resources(cpus(1), dev.conveyor.config.Resources.gpus(1)).concurrency(1, 4))
        .filter(Stage.filter((s, r) -> true).named("after").resources(cpus(0.25)))
        .batch(8);
  }

  @Test
  void anActorStageCompilesToAPoolWhoseActorsRunTheStagesAfterItAndTheDecodersRunThoseBefore() {
    ConveyorSettings s = settings(pooled().settings(Definition.class.getName()));
    assertThat(s.stages().pools().pools()).containsExactly(new dev.conveyor.config.PoolSettings.Pool("caption#1",
        new dev.conveyor.config.Resources(1.25, 1, 0, java.util.Map.of()), 1, 4));
    assertThat(s.stages().pool()).as("the fused stage's concurrency caps the decoders, not the pool's").isEqualTo(3);
    assertThat(s.stages().mapCpus()).as("only the stages fused in the decoders").isEqualTo(0.5);
    assertThat(pooled().steps().steps()).extracting(dev.conveyor.streams.decode.AuthorSteps.Step::name)
        .containsExactly("map#0");
    int before = MADE.get();
    var actor = pooled().actorSteps("caption#1");
    assertThat(MADE.get() - before).as("the actor's instance is made when its steps are").isEqualTo(1);
    assertThat(actor.steps()).extracting(dev.conveyor.streams.decode.AuthorSteps.Step::name)
        .containsExactly("caption#1", "after#2");
    assertThat(pooled().signature()).as("the fingerprint's shape: a stage fused or pooled is the same stage")
        .isEqualTo("decode|map#0|caption#1|after#2");
    assertThatThrownBy(() -> pooled().actorSteps("nope#9")).hasMessageContaining("caption#1");
  }

  @Test
  void actorStagesAreCheckedWhereTheAuthorWritesThem() {
    Pipeline undecoded = Pipeline.from(Shards.of("file:///data/part-0.tar"));
    assertThatThrownBy(() -> undecoded.map(Stage.actor(() -> (s, r) -> s))).hasMessageContaining(".decode(");
    assertThatThrownBy(() -> Stage.of((s, r) -> s).concurrency(1, 2)).hasMessageContaining("actor stage");
    assertThatThrownBy(() -> Stage.of((s, r) -> s).resources(dev.conveyor.config.Resources.gpus(1)))
        .hasMessageContaining("Stage.actor");
    assertThatThrownBy(() -> Stage.actor(() -> (s, r) -> s).concurrency(3, 2)).hasMessageContaining("(3, 2)");
  }
}
