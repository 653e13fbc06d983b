package dev.conveyor.workers.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.Decoded;
import dev.conveyor.streams.sample.Member;
import dev.conveyor.streams.sample.RawSample;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/** The wire format: what crosses nodes goes through Kryo with fixed ids; nothing else goes. */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WireFormatTest {
  @JUnit5TestKit
  public final ActorTestKit kit = new JUnit5TestKitBuilder().withName("wire").withCustomConfig(ConfigFactory.load()).build();

  Serialization serialization() {
    return SerializationExtension.get(Adapter.toClassic(kit.system()));
  }

  Object roundTrip(Object o) {
    Serialization s = serialization();
    assertThat(s.findSerializerFor(o).identifier()).as(o.getClass().getName()).isEqualTo(KryoSerializer.IDENTIFIER);
    byte[] bytes = s.serialize(o).get();
    return s.deserialize(bytes, KryoSerializer.IDENTIFIER, "").get();
  }

  @Test
  void theIdsAreTheWireFormatAndDoNotChange() {
    List<String> pinned = List.of(
        "100 [B", "101 [I", "102 java.util.ImmutableCollections$List12", "103 java.util.ImmutableCollections$ListN",
        "104 java.util.ArrayList", "105 java.util.ImmutableCollections$Map1", "106 java.util.ImmutableCollections$MapN",
        "107 java.util.HashMap", "108 java.util.LinkedHashMap", "109 java.util.Optional",
        "110 org.apache.pekko.util.ByteString$ByteString1C", "111 org.apache.pekko.util.ByteString$ByteString1",
        "112 org.apache.pekko.util.ByteString$ByteStrings",
        "113 org.apache.pekko.actor.typed.internal.adapter.ActorRefAdapter", "114 java.time.Duration", "115 [J",
        "200 dev.conveyor.streams.sample.RawSample", "201 dev.conveyor.streams.sample.Member",
        "202 dev.conveyor.streams.sample.DeadLetter", "203 dev.conveyor.streams.sample.Decoded",
        "204 dev.conveyor.streams.sample.Decoded$Picture", "205 dev.conveyor.streams.sample.Decoded$Clip",
        "206 dev.conveyor.streams.pipeline.ReadEvent$Slot", "207 dev.conveyor.streams.pipeline.ReadEvent$Report",
        "208 dev.conveyor.streams.plan.WindowSlice", "209 dev.conveyor.streams.plan.Window",
        "210 dev.conveyor.streams.plan.Recipe", "211 dev.conveyor.streams.plan.Recipe$Shuffle",
        "212 dev.conveyor.streams.plan.ShardSet", "213 dev.conveyor.streams.store.ShardCheck",
        "214 dev.conveyor.streams.sample.Filtered", "215 dev.conveyor.streams.plan.Mix",
        "216 dev.conveyor.streams.plan.Mix$Source", "217 dev.conveyor.streams.plan.Mix$Batching",
        "218 dev.conveyor.streams.batch.SourceCounts",
        "219 dev.conveyor.streams.sample.Expanded", "220 dev.conveyor.streams.pipeline.BatchGate$Started",
        "221 dev.conveyor.streams.pipeline.BatchGate$Made", "222 dev.conveyor.streams.pipeline.BatchGate$RanOut",
        "223 dev.conveyor.streams.pipeline.BatchGate$Failed", "224 dev.conveyor.streams.plan.Packing",
        "225 dev.conveyor.streams.plan.Bucketing", "226 dev.conveyor.streams.plan.SelectedShardSet",
        "300 dev.conveyor.workers.reader.ShardReader$Lease", "301 dev.conveyor.workers.reader.ShardReader$Offer",
        "303 dev.conveyor.workers.reader.ShardReader$SliceEnd",
        "304 org.apache.pekko.stream.impl.streamref.SourceRefImpl",
        "305 dev.conveyor.workers.reader.ShardReader$SliceHandedBack",
        "306 dev.conveyor.workers.reader.ShardReader$SliceEvents", "307 dev.conveyor.workers.pool.PoolFront$Run",
        "308 dev.conveyor.workers.pool.PoolRouter$Ran");
    List<String> now = new ArrayList<>();
    WireRegistry.entries().forEach(e -> now.add(e.id() + " " + e.type().getName()));
    assertThat(now).isEqualTo(pinned);
  }

  @Test
  void aRecipeWithItsBatchShapeCrossesUnchanged() throws Exception {
    // a recipe travels inside a job's messages (the orchestrator's): here through the serializer itself
    KryoSerializer kryo = (KryoSerializer) serialization().serializerByIdentity().apply(KryoSerializer.IDENTIFIER);
    dev.conveyor.streams.plan.Recipe plain = new dev.conveyor.streams.plan.Recipe(
        new dev.conveyor.streams.plan.ShardSet(List.of("a.tar", "b.tar"), new int[] {10, 20}), 7, 4, false,
        new dev.conveyor.streams.plan.Recipe.Shuffle(true, 2, 16), "none");
    for (dev.conveyor.streams.plan.Recipe r : List.of(
        plain.withPacking(Optional.of(new dev.conveyor.streams.plan.Packing("text", 2048, true))),
        plain.withBucketing(Optional.of(new dev.conveyor.streams.plan.Bucketing("text", new int[] {16, 64},
            new int[] {32, 8, 2}, 64))))) {
      var back = (dev.conveyor.streams.plan.Recipe) kryo.fromBinary(kryo.toBinary(r), dev.conveyor.streams.plan.Recipe.class);
      assertThat(back.shape()).isEqualTo(r.shape());
      assertThat(back.fingerprint()).isEqualTo(r.fingerprint()); // every part of the recipe, shards included
    }
    // shards of which a catalog's query chose some samples: the choice crosses whole, and is in the fingerprint
    var selected = new dev.conveyor.streams.plan.SelectedShardSet(List.of("a.tar", "b.tar", "c.tar"),
        new int[][] {{0, 3, 4, 9}, null, {19}}, new int[] {10, 20, 30}, "where=label = 3;corpus=abc;");
    var recipe = new dev.conveyor.streams.plan.Recipe(selected, 7, 4, false,
        new dev.conveyor.streams.plan.Recipe.Shuffle(true, 2, 16), "none");
    var back = (dev.conveyor.streams.plan.Recipe) kryo.fromBinary(kryo.toBinary(recipe),
        dev.conveyor.streams.plan.Recipe.class);
    assertThat(back.shards().chosen(0)).containsExactly(0, 3, 4, 9);
    assertThat(back.shards().chosen(1)).isNull();
    assertThat(back.shards().count(1)).isEqualTo(20);
    assertThat(back.shards().held(2)).isEqualTo(30);
    assertThat(back.shards().selection()).isEqualTo(selected.selection());
    assertThat(back.fingerprint()).isEqualTo(recipe.fingerprint());
    var otherChoice = new dev.conveyor.streams.plan.SelectedShardSet(List.of("a.tar", "b.tar", "c.tar"),
        new int[][] {{0, 3, 5, 9}, null, {19}}, new int[] {10, 20, 30}, "where=label = 3;corpus=abc;");
    assertThat(new dev.conveyor.streams.plan.Recipe(otherChoice, 7, 4, false,
        new dev.conveyor.streams.plan.Recipe.Shuffle(true, 2, 16), "none").fingerprint())
        .as("the same counts, other samples chosen: another recipe").isNotEqualTo(recipe.fingerprint());
  }

  @Test
  void samplesRawAndDecodedCrossUnchanged() {
    ByteString chunked = ByteString.fromString("abc").concat(ByteString.fromArray(new byte[] {0, 1, 2, (byte) 255}));
    RawSample raw = new RawSample("s3://b/part-000001.tar", "000042",
        List.of(new Member("jpg", chunked), new Member("json", ByteString.fromString("{\"a\": 1}"))));
    Decoded decoded = new Decoded(
        Optional.of(new Decoded.Picture(new byte[] {1, 2, 3, 4, 5, 6}, 1, 2, 640, 480)),
        Optional.of(new Decoded.Clip(new byte[] {9, 8, 7, 6, 5, 4}, 2, 1, 1, 320, 240, new int[] {0, 7})),
        Map.of("txt", "a caption", "cls", "3")).withTokens("txt", new int[] {101, 7592, 102});
    RawSample withDecoded = raw.withDecoded(decoded);
    for (Object o : List.of(raw, new ReadEvent.Slot(12, raw), new ReadEvent.Report(new DeadLetter("s", "*", "why")),
        new ReadEvent.Slot(13, new DeadLetter("s", "#3", "sample 3 is missing")))) {
      assertThat(roundTrip(o)).isEqualTo(o);
    }
    RawSample back = (RawSample) ((ReadEvent.Slot) roundTrip(new ReadEvent.Slot(5, withDecoded))).record();
    assertThat(back.members()).isEqualTo(raw.members());
    Decoded d = back.decoded().orElseThrow();
    assertThat(d.image().orElseThrow().rgb()).containsExactly(1, 2, 3, 4, 5, 6);
    assertThat(d.video().orElseThrow().frameIndices()).containsExactly(0, 7);
    assertThat(d.video().orElseThrow().originalWidth()).isEqualTo(320);
    assertThat(d.text()).isEqualTo(decoded.text());
    assertThat(d.tokens().get("txt")).containsExactly(101, 7592, 102);
    // a flatMap's outputs cross too
    dev.conveyor.streams.sample.Expanded x = new dev.conveyor.streams.sample.Expanded("s", "k", List.of(raw, raw), 1);
    assertThat(roundTrip(new ReadEvent.Slot(6, x))).isEqualTo(new ReadEvent.Slot(6, x));
  }

  @Test
  void aGroupOfASlicesEventsCrossesWholeAndInOrder() {
    RawSample a = new RawSample("s3://b/part-000001.tar", "000001", List.of(new Member("jpg", ByteString.fromString("a"))));
    RawSample b = new RawSample("s3://b/part-000001.tar", "000002", List.of(new Member("jpg", ByteString.fromString("b"))))
        .withDecoded(new Decoded(Optional.of(new Decoded.Picture(new byte[] {7, 7, 7}, 1, 1, 1, 1)), Optional.empty(),
            Map.of()));
    var group = new dev.conveyor.workers.reader.ShardReader.SliceEvents(40, List.of(new ReadEvent.Slot(100, a),
        new ReadEvent.Report(new DeadLetter("s", "*", "stray")), new ReadEvent.Slot(101, b)));
    var back = (dev.conveyor.workers.reader.ShardReader.SliceEvents) roundTrip(group);
    assertThat(back.first()).isEqualTo(40);
    assertThat(back.end()).isEqualTo(43);
    assertThat(back.events().subList(0, 2)).isEqualTo(group.events().subList(0, 2));
    RawSample bBack = (RawSample) ((ReadEvent.Slot) back.events().get(2)).record();
    assertThat(bBack.key()).isEqualTo("000002");
    assertThat(bBack.decoded().orElseThrow().image().orElseThrow().rgb()).containsExactly(7, 7, 7);
  }

  @Test
  void aRecipeCrossesWithTheSameFingerprint() {
    dev.conveyor.streams.plan.Recipe r = new dev.conveyor.streams.plan.Recipe(
        new dev.conveyor.streams.plan.ShardSet(List.of("s3://b/p-0.tar", "s3://b/p-1.tar"), new int[] {10, 7}),
        5, 4, true, new dev.conveyor.streams.plan.Recipe.Shuffle(true, 8, 1000), "none");
    KryoSerializer s = new KryoSerializer((ExtendedActorSystem) Adapter.toClassic(kit.system()));
    dev.conveyor.streams.plan.Recipe back = (dev.conveyor.streams.plan.Recipe) s.fromBinaryJava(s.toBinary(r), null);
    assertThat(back.fingerprint()).isEqualTo(r.fingerprint());
    assertThat(back.shards().count(1)).isEqualTo(7);
    // and a mix of two sources, its weights, repeat and batching with it
    dev.conveyor.streams.plan.Mix mix = new dev.conveyor.streams.plan.Mix(List.of(
        new dev.conveyor.streams.plan.Mix.Source("a", 0, 1, 0.7, false),
        new dev.conveyor.streams.plan.Mix.Source("b", 1, 1, 0.3, true)), dev.conveyor.streams.plan.Mix.Batching.PER_SOURCE);
    dev.conveyor.streams.plan.Recipe mixed = new dev.conveyor.streams.plan.Recipe(r.shards(), 5, 4, true, r.shuffle(), "none",
        java.util.Optional.of(mix));
    dev.conveyor.streams.plan.Recipe mixedBack = (dev.conveyor.streams.plan.Recipe) s.fromBinaryJava(s.toBinary(mixed), null);
    assertThat(mixedBack.mix()).contains(mix);
    assertThat(mixedBack.fingerprint()).isEqualTo(mixed.fingerprint()).isNotEqualTo(r.fingerprint());
  }

  @Test
  void anActorReferenceCrossesAsItsAddressAndResolvesToTheSameActor() {
    TestProbe<String> probe = kit.createTestProbe();
    KryoSerializer s = new KryoSerializer((ExtendedActorSystem) Adapter.toClassic(kit.system()));
    @SuppressWarnings("unchecked")
    ActorRef<String> back = (ActorRef<String>) s.fromBinaryJava(s.toBinary(probe.ref()), null);
    assertThat(back).isEqualTo(probe.ref());
    back.tell("hello");
    probe.expectMessage("hello");
  }

  record NotOnTheWire(String what) {}

  @Test
  void aClassThatIsNotRegisteredIsRefusedNamingIt() {
    KryoSerializer s = new KryoSerializer((ExtendedActorSystem) Adapter.toClassic(kit.system()));
    assertThatThrownBy(() -> s.toBinary(new NotOnTheWire("x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot send dev.conveyor.workers.wire.WireFormatTest$NotOnTheWire to another node")
        .hasMessageContaining("not registered");
  }

  @Test
  void javaSerializationIsOff() {
    assertThatThrownBy(() -> serialization().serialize(new java.util.Date(0)).get())
        .hasMessageContaining("Java serialization");
  }
}
