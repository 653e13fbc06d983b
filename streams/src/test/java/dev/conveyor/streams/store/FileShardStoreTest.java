package dev.conveyor.streams.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.streams.testing.StreamTestKit;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileShardStoreTest {
  static final StreamTestKit kit = new StreamTestKit();
  final FileShardStore store = new FileShardStore();

  @TempDir
  Path dir;

  @AfterAll
  static void stop() {
    kit.close();
  }

  byte[] object(int size) throws Exception {
    byte[] b = new byte[size];
    new Random(7).nextBytes(b);
    Files.write(dir.resolve("x.tar"), b);
    return b;
  }

  @Test
  void aFullReadReturnsEveryByteInOrder() throws Exception {
    byte[] b = object(1_000_003);
    assertThat(kit.concat(store.read(dir.resolve("x.tar").toUri()))).isEqualTo(ByteString.fromArray(b));
  }

  @Test
  void aRangedReadReturnsExactlyTheRangeAndStopsAtTheEnd() throws Exception {
    byte[] b = object(700_000);
    URI uri = dir.resolve("x.tar").toUri();
    assertThat(kit.concat(store.read(uri, 300_000, 262_145))).isEqualTo(ByteString.fromArray(b, 300_000, 262_145));
    assertThat(kit.concat(store.read(uri, 699_990, 100))).isEqualTo(ByteString.fromArray(b, 699_990, 10));
  }

  @Test
  void aMissingFileFailsWithOneLineNamingTheShard() {
    URI uri = dir.resolve("missing.tar").toUri();
    assertThatThrownBy(() -> kit.concat(store.read(uri)))
        .isInstanceOf(ShardReadException.class)
        .hasMessage(uri + ": not found (no such file)");
  }

  @Test
  void writeReplacesTheTargetWithTheFile() throws Exception {
    Path src = Files.writeString(dir.resolve("src"), "payload");
    URI target = dir.resolve("sub/dir/out.tar").toUri();
    store.write(target, src).toCompletableFuture().join();
    assertThat(Files.readString(Path.of(target))).isEqualTo("payload");
  }
}
