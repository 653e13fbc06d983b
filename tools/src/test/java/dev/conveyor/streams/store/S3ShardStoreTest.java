package dev.conveyor.streams.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.S3Settings;
import dev.conveyor.tools.s3.EmbeddedS3;
import dev.conveyor.streams.testing.StreamTestKit;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The S3 store over real HTTP against the embedded S3 server on 127.0.0.1, through the CRT client. */
class S3ShardStoreTest {
  static final StreamTestKit kit = new StreamTestKit();
  static EmbeddedS3 server;
  static S3ShardStore store;
  static byte[] object;

  @TempDir
  static Path dir;

  @BeforeAll
  static void start() throws Exception {
    object = new byte[20 * 1024 * 1024 + 17]; // larger than the part size, so the CRT client splits the GET
    new Random(3).nextBytes(object);
    Files.createDirectories(dir.resolve("s3/bkt"));
    Files.write(dir.resolve("s3/bkt/obj.tar"), object); // copied in, not PUT: the server must still serve an ETag
    server = EmbeddedS3.start(dir.resolve("s3"), 0);
    store = new S3ShardStore(server.settings(S3Settings.fromConfig(ConfigFactory.defaultReference())));
  }

  @AfterAll
  static void stop() {
    store.close();
    server.close();
    kit.close();
  }

  @Test
  void aFullGetReturnsEveryByteInOrder() {
    ByteString got = kit.concat(store.read(URI.create("s3://bkt/obj.tar")));
    assertThat(got.size()).isEqualTo(object.length);
    assertThat(got).isEqualTo(ByteString.fromArray(object));
  }

  @Test
  void listingAFolderNamesItsObjectsAndNotThoseBelowIt() throws Exception {
    Path sub = Files.createDirectories(dir.resolve("s3/bkt/listing/deeper"));
    Files.writeString(sub.getParent().resolve("b.cv"), "b");
    Files.writeString(sub.getParent().resolve("a.cv"), "a");
    Files.writeString(sub.resolve("c.cv"), "c");
    EmbeddedS3.addMissingETags(dir.resolve("s3"));
    assertThat(store.list(URI.create("s3://bkt/listing/")).toCompletableFuture().get())
        .containsExactly(URI.create("s3://bkt/listing/a.cv"), URI.create("s3://bkt/listing/b.cv"));
    assertThat(store.list(URI.create("s3://bkt/nothing-here/")).toCompletableFuture().get()).isEmpty();
  }

  @Test
  void aRangedGetReturnsExactlyTheRange() {
    assertThat(kit.concat(store.read(URI.create("s3://bkt/obj.tar"), 12_345_678, 1_000_001)))
        .isEqualTo(ByteString.fromArray(object, 12_345_678, 1_000_001));
  }

  @Test
  void aSinglePartUploadRoundTrips() throws Exception {
    Path f = Files.write(dir.resolve("up.bin"), "uploaded through the CRT client".getBytes());
    URI target = URI.create("s3://bkt/up/one.bin");
    store.write(target, f).toCompletableFuture().join();
    assertThat(kit.concat(store.read(target)).utf8String()).isEqualTo("uploaded through the CRT client");
  }

  @Test
  void aMissingObjectFailsWithOneLineNamingTheShard() {
    assertThatThrownBy(() -> kit.concat(store.read(URI.create("s3://bkt/nope.tar"))))
        .isInstanceOf(ShardReadException.class)
        .hasMessage("s3://bkt/nope.tar: not found (HTTP 404 NoSuchKey)");
  }

  @Test
  void wrongCredentialsFailWithOneLineNamingTheShardAndNeverTheSecret() {
    S3Settings wrong = server.settings(S3Settings.fromConfig(ConfigFactory.defaultReference()))
        .withEndpoint(server.endpoint(), EmbeddedS3.ACCESS_KEY_ID, "not-the-secret-xyz");
    try (S3ShardStore bad = new S3ShardStore(wrong)) {
      assertThatThrownBy(() -> kit.concat(bad.read(URI.create("s3://bkt/obj.tar"))))
          .isInstanceOf(ShardReadException.class)
          .hasMessageStartingWith("s3://bkt/obj.tar: access denied (HTTP 403")
          .hasMessageNotContaining("not-the-secret-xyz")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }
  }
}
