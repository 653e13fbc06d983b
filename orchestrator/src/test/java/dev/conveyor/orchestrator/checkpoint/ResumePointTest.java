package dev.conveyor.orchestrator.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.SettingsException;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.store.FileShardStore;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.Materializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * "auto" (--resume-or-start) as the coordinator reads it: the start of the plan while the
 * checkpoint directory holds no cursor, the newest cursor once it does, and a refusal when the
 * cursors there are all unreadable.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ResumePointTest {
  final ActorTestKit kit = ActorTestKit.create("resume-point", ConfigFactory.load());
  final Materializer mat = Materializer.createMaterializer(kit.system());

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  Optional<CursorStore> store(Path dir) {
    return Optional.of(new CursorStore(URI.create(dir.toUri() + "/"), new FileShardStore(), 3));
  }

  @Test
  void autoStartsWithoutACursorAndGoesOnFromTheNewestOnce() throws Exception {
    Path dir = Files.createTempDirectory("resume-auto"); // not there yet, as on a job's first run
    Files.delete(dir);
    List<String> said = new ArrayList<>();
    Cursor start = ResumePoint.of(ResumePoint.AUTO, store(dir), "fp", 1, 2, mat, said::add);
    assertThat(start).isEqualTo(Cursor.start("fp", 2));
    assertThat(said).containsExactly(ResumePoint.NO_CURSOR_YET);

    Cursor saved = Cursor.start("fp", 2).withDelivered(0, 3).withDelivered(1, 3);
    store(dir).orElseThrow().save(saved, 2);
    assertThat(ResumePoint.of(ResumePoint.AUTO, store(dir), "fp", 1, 2, mat, line -> { })).isEqualTo(saved);
  }

  @Test
  void autoRefusesADirectoryWhoseCursorsAreAllUnreadable(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("latest.cursor"), "cv1.torn");
    assertThatThrownBy(() -> ResumePoint.of(ResumePoint.AUTO, store(dir), "fp", 1, 2, mat, line -> { }))
        .isInstanceOf(SettingsException.class).hasMessageContaining("nothing to resume from");
  }
}
