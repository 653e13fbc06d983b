package dev.conveyor.streams.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.streams.store.ShardCheck;
import dev.conveyor.streams.testing.StreamTestKit;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Read-ahead: fetches in plan order within its budget, hands back exactly each shard's bytes, checks them. */
class ReadAheadTest {
  static final StreamTestKit kit = new StreamTestKit();

  @TempDir
  Path dir;

  @AfterAll
  static void stop() {
    kit.close();
  }

  @Test
  void eachShardComesBackWholeInTheOrderAskedAndTheBudgetIsNeverExceeded() throws Exception {
    List<URI> order = new ArrayList<>();
    List<byte[]> contents = new ArrayList<>();
    Map<String, ShardCheck> checks = new HashMap<>();
    Random rnd = new Random(1);
    for (int i = 0; i < 8; i++) {
      byte[] b = new byte[100_000 + i];
      rnd.nextBytes(b);
      Path p = Files.write(dir.resolve("s" + i + ".tar"), b);
      order.add(p.toUri());
      contents.add(b);
      checks.put(p.toUri().toString(), new ShardCheck(b.length, sha256(b)));
    }
    try (FileShardStore files = new FileShardStore()) {
      long budget = 250_000; // two shards at a time
      try (ReadAhead ahead = new ReadAhead(files, order, checks, budget, kit.mat)) {
        for (int i = 0; i < order.size(); i++) {
          assertThat(kit.concat(ahead.read(order.get(i)))).isEqualTo(ByteString.fromArray(contents.get(i)));
        }
      }
      // the last shard's bytes are given back when its stream's termination is signalled, just after its last byte
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (files.metrics().snapshot().readAheadBytes() != 0 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      var m = files.metrics().snapshot();
      assertThat(m.readAheadPeakBytes()).isPositive().isLessThanOrEqualTo(250_000);
      assertThat(m.shardsOpened()).isEqualTo(8);
      assertThat(m.readAheadBytes()).isZero(); // all given back
      assertThat(m.requests()).isEqualTo(8); // each shard fetched once
    }
  }

  @Test
  void aReaderSlowerThanTheStoreFindsEachShardAlreadyFetchedWhenItOpensIt() throws Exception {
    List<URI> order = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      byte[] b = new byte[20_000];
      new Random(i).nextBytes(b);
      order.add(Files.write(dir.resolve("t" + i + ".tar"), b).toUri());
    }
    Map<String, ShardCheck> sizes = new HashMap<>();
    order.forEach(u -> sizes.put(u.toString(), new ShardCheck(20_000, "")));
    try (FileShardStore files = new FileShardStore();
         ReadAhead ahead = new ReadAhead(files, order, sizes, 100_000, kit.mat)) {
      for (URI u : order) {
        Thread.sleep(100); // the trainer's step: the store has time to fetch the next shards
        assertThat(kit.concat(ahead.read(u)).size()).isEqualTo(20_000);
      }
      var m = files.metrics().snapshot();
      assertThat(m.shardsOpened()).isEqualTo(6);
      assertThat(m.shardsReady()).isEqualTo(6);
    }
  }

  @Test
  void aShardThatDoesNotMatchItsManifestIsFetchedTwiceThenFailsWithBothDigests() throws Exception {
    byte[] b = new byte[50_000];
    new Random(2).nextBytes(b);
    Path p = Files.write(dir.resolve("bad.tar"), b);
    String claimed = sha256(new byte[] {1});
    try (FileShardStore files = new FileShardStore();
         ReadAhead ahead = new ReadAhead(files, List.of(p.toUri()), Map.of(p.toUri().toString(),
             new ShardCheck(b.length, claimed)), 1 << 20, kit.mat)) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> kit.collect(ahead.read(p.toUri())))
          .hasMessageContaining("does not match its manifest, read twice: sha256 " + sha256(b) + ", but the manifest says " + claimed);
      assertThat(files.metrics().snapshot().requests()).isEqualTo(2);
      assertThat(files.metrics().snapshot().integrityFailures()).isEqualTo(1);
    }
  }

  static String sha256(byte[] b) throws Exception {
    return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
  }
}
