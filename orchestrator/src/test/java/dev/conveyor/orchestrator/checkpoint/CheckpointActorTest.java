package dev.conveyor.orchestrator.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.store.FileShardStore;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.stream.Materializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The checkpoint actor: saves every N delivered batches and on demand, keeps K, and a new one goes on from the newest valid cursor. */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CheckpointActorTest {
  @JUnit5TestKit
  public final ActorTestKit kit = new JUnit5TestKitBuilder().withName("checkpoint").withCustomConfig(ConfigFactory.load()).build();
  final Materializer mat = Materializer.createMaterializer(kit.system());
  static final Cursor START = Cursor.start("fp-test", 2);

  @TempDir
  Path dir;

  CursorStore store() {
    return new CursorStore(URI.create(dir.toUri() + "/"), new FileShardStore(), 3);
  }

  ActorRef<CheckpointActor.Command> spawn() {
    Optional<CursorStore> store = Optional.of(store());
    return kit.spawn(CheckpointActor.starting(store, CheckpointActor.recover(store, START, mat).orElse(START), 4, false));
  }

  String current(ActorRef<CheckpointActor.Command> a) {
    TestProbe<CheckpointActor.Saved> p = kit.createTestProbe();
    a.tell(new CheckpointActor.Current(p.ref()));
    return p.receiveMessage().cursor();
  }

  @Test
  void itSavesEveryNStepsOnceTheSlowestRankHasTakenThemAndOnDemandKeepingTheLastK() throws Exception {
    ActorRef<CheckpointActor.Command> a = spawn();
    for (long step = 0; step < 6; step++) {
      a.tell(new CheckpointActor.Delivered(0, 0, step)); // rank 0 runs ahead: no step is complete yet
    }
    assertThat(current(a)).isEqualTo(START.withDelivered(0, 6).encode());
    try (var files = Files.list(dir)) {
      assertThat(files.toList()).as("nothing saved while rank 1 has taken nothing").isEmpty();
    }
    for (long step = 0; step < 18; step++) {
      if (step >= 6) {
        a.tell(new CheckpointActor.Delivered(0, 0, step));
      }
      a.tell(new CheckpointActor.Delivered(1, 0, step));
    }
    Cursor expected = START.withDelivered(0, 18).withDelivered(1, 18);
    assertThat(current(a)).isEqualTo(expected.encode());
    // every 4 steps of the slowest rank: saved after steps 3, 7, 11 and 15, the last 3 kept
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
          .containsExactly("cursor-000000-000000000007.cv", "cursor-000000-000000000011.cv",
              "cursor-000000-000000000015.cv", "latest.cursor");
    }
    assertThat(Cursor.decode(Files.readString(dir.resolve("latest.cursor")).trim()))
        .as("saved when rank 1 took step 15; rank 0 had taken it too")
        .isEqualTo(START.withDelivered(0, 16).withDelivered(1, 16));
    TestProbe<CheckpointActor.Saved> p = kit.createTestProbe();
    a.tell(new CheckpointActor.Delivered(0, 0, 18));
    a.tell(new CheckpointActor.SaveNow(p.ref()));
    CheckpointActor.Saved saved = p.receiveMessage();
    assertThat(saved.persisted()).isTrue();
    assertThat(Files.readString(dir.resolve("latest.cursor")).trim()).isEqualTo(saved.cursor());
  }

  @Test
  void aNewCheckpointActorGoesOnFromTheNewestValidCursorEvenWhenLatestIsDamaged() throws Exception {
    ActorRef<CheckpointActor.Command> first = spawn();
    for (long step = 0; step < 6; step++) {
      first.tell(new CheckpointActor.Delivered(0, 0, step));
      first.tell(new CheckpointActor.Delivered(1, 0, step));
    }
    TestProbe<CheckpointActor.Saved> p = kit.createTestProbe();
    first.tell(new CheckpointActor.SaveNow(p.ref()));
    String saved = p.receiveMessage().cursor();
    kit.stop(first);

    assertThat(current(spawn())).as("restart from latest.cursor").isEqualTo(saved);

    // a torn latest.cursor: the newest numbered cursor that reads back whole is used
    Files.writeString(dir.resolve("latest.cursor"), saved.substring(0, saved.length() - 3) + "xyz\n");
    assertThat(current(spawn())).isEqualTo(saved);

    // a cursor of another job is not taken
    Files.writeString(dir.resolve("latest.cursor"), Cursor.start("another-job", 2).encode() + "\n");
    try (var files = Files.list(dir)) {
      for (Path f : files.filter(f -> f.getFileName().toString().startsWith("cursor-")).toList()) {
        Files.delete(f);
      }
    }
    assertThat(current(spawn())).isEqualTo(START.encode());
  }

  @Test
  void ranksOutOfStepKeepTheCursorInTheSlowestRanksEpochAndLateReportsNeverMoveItBack() {
    ActorRef<CheckpointActor.Command> a = kit.spawn(CheckpointActor.starting(Optional.empty(), START, 0, false));
    for (long step = 0; step < 5; step++) {
      a.tell(new CheckpointActor.Delivered(0, 0, step));
    }
    a.tell(new CheckpointActor.Delivered(0, 1, 0)); // rank 0 is into epoch 1
    a.tell(new CheckpointActor.Delivered(0, 1, 1));
    a.tell(new CheckpointActor.Delivered(1, 0, 0));
    a.tell(new CheckpointActor.Delivered(1, 0, 1));
    assertThat(Cursor.decode(current(a))).as("rank 1 is still in epoch 0: rank 0 counts its 5 batches there")
        .isEqualTo(START.withDelivered(0, 5).withDelivered(1, 2));
    a.tell(new CheckpointActor.Delivered(1, 0, 2));
    a.tell(new CheckpointActor.Delivered(1, 1, 0));
    Cursor epoch1 = START.atEpoch(1, 2).withDelivered(0, 2).withDelivered(1, 1);
    assertThat(Cursor.decode(current(a))).as("both ranks in epoch 1").isEqualTo(epoch1);
    a.tell(new CheckpointActor.Delivered(1, 0, 2)); // late, of a finished epoch
    a.tell(new CheckpointActor.Delivered(0, 1, 0)); // twice
    assertThat(Cursor.decode(current(a))).isEqualTo(epoch1);
  }

  @Test
  void itsMessagesCrossNodesThroughTheWireFormat() {
    Serialization s = SerializationExtension.get(Adapter.toClassic(kit.system()));
    TestProbe<CheckpointActor.Saved> p = kit.createTestProbe();
    for (Object m : List.of(new CheckpointActor.Delivered(3, 1, 42), new CheckpointActor.Saved("cv1.x.y", true),
        new CheckpointActor.SaveNow(p.ref()))) {
      assertThat(s.findSerializerFor(m).identifier()).isEqualTo(dev.conveyor.workers.wire.KryoSerializer.IDENTIFIER);
      assertThat(s.deserialize(s.serialize(m).get(), dev.conveyor.workers.wire.KryoSerializer.IDENTIFIER, "").get())
          .isEqualTo(m);
    }
  }

  @Test
  void aResumeFromATornLatestCursorFallsBackToTheNewestWholeOneAndSaysSo() throws Exception {
    CursorStore store = store();
    Cursor older = START.withDelivered(0, 4).withDelivered(1, 4);
    Cursor newer = older.withDelivered(0, 8).withDelivered(1, 8);
    store.save(older, 3);
    store.save(newer, 7);
    java.util.List<String> said = new java.util.ArrayList<>();
    assertThat(store.latest(mat, said::add)).isEqualTo(newer.encode());
    assertThat(said).as("a whole latest.cursor: nothing to say").isEmpty();

    // cut short: the newest numbered cursor (the same as latest was) is taken, and the run is told
    Path latest = dir.resolve("latest.cursor");
    java.nio.file.Files.writeString(latest, newer.encode().substring(0, 20) + "\n");
    assertThat(store.latest(mat, said::add)).isEqualTo(newer.encode());
    assertThat(said).singleElement().asString().startsWith("latest.cursor is unreadable (damaged: ")
        .endsWith("resuming from the previous good cursor, cursor-000000-000000000007.cv");

    // the newest numbered one garbled too: the one before it
    Path newest = dir.resolve("cursor-000000-000000000007.cv");
    java.nio.file.Files.writeString(newest, newer.encode().replace('A', 'B').replace('Q', 'R') + "\n");
    said.clear();
    assertThat(store.latest(mat, said::add)).isEqualTo(older.encode());
    assertThat(said).singleElement().asString().endsWith("cursor-000000-000000000003.cv");

    // nothing whole left: refused, naming the setting
    java.nio.file.Files.delete(dir.resolve("cursor-000000-000000000003.cv"));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.latest(mat, said::add))
        .hasMessageContaining("checkpoint-dir").hasMessageContaining("nothing to resume from");
  }
}
