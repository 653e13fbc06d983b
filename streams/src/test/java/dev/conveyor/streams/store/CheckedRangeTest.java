package dev.conveyor.streams.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.streams.testing.StreamTestKit;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A streamed range whose bytes arrive wrong is read again from its first bad sample: a transfer
 * error heals without a sample lost or repeated, a wrong object fails once it is seen twice.
 */
class CheckedRangeTest {
  static final StreamTestKit kit = new StreamTestKit();
  static final int SAMPLES = 8;
  static final int SAMPLE_BYTES = 10_000;

  @TempDir
  Path dir;
  byte[] shard;
  URI uri;
  ShardIndex index;

  @AfterAll
  static void stop() {
    kit.close();
  }

  @BeforeEach
  void shard() throws Exception {
    shard = new byte[SAMPLES * SAMPLE_BYTES];
    new Random(5).nextBytes(shard);
    uri = Files.write(dir.resolve("s.tar"), shard).toUri();
    long[] offsets = new long[SAMPLES + 1];
    for (int i = 0; i <= SAMPLES; i++) {
      offsets[i] = (long) i * SAMPLE_BYTES;
    }
    RangeDigest crcs = new RangeDigest(offsets, null);
    crcs.update(ByteString.fromArray(shard));
    index = new ShardIndex(uri.toString(), shard.length, "", offsets, crcs.checksums());
  }

  /** A store whose reads pass through {@code change} (the read's number from 0, its bytes) and are recorded. */
  static final class Flaky extends ForwardingShardStore {
    final List<Long> offsets = new ArrayList<>();
    final BiFunction<Integer, ByteString, ByteString> change;

    Flaky(ShardStore inner, BiFunction<Integer, ByteString, ByteString> change) {
      super(inner);
      this.change = change;
    }

    @Override
    public Source<ByteString, NotUsed> read(URI shard, long offset, long length) {
      int n;
      synchronized (offsets) {
        n = offsets.size();
        offsets.add(offset);
      }
      return inner.read(shard, offset, length).fold(ByteString.emptyByteString(), ByteString::concat)
          .map(b -> change.apply(n, b));
    }

    @Override
    public void close() {}
  }

  static ByteString flip(ByteString b, int at) {
    byte[] a = b.toArray();
    a[at] ^= 0x5a;
    return ByteString.fromArray(a);
  }

  @Test
  void aTransferErrorIsReadAgainFromTheBadSampleAndTheBytesComeOutWhole() throws Exception {
    try (FileShardStore files = new FileShardStore()) {
      // the first read has a byte of sample 5 changed (3 samples into range [2, 8))
      Flaky store = new Flaky(files, (n, b) -> n == 0 ? flip(b, 3 * SAMPLE_BYTES + 17) : b);
      ByteString got = kit.concat(CheckedRange.read(store, uri, index.range(2, 8)));
      assertThat(got).isEqualTo(ByteString.fromArray(shard, 2 * SAMPLE_BYTES, 6 * SAMPLE_BYTES));
      assertThat(store.offsets).containsExactly(2L * SAMPLE_BYTES, 5L * SAMPLE_BYTES);
      var m = files.metrics().snapshot();
      assertThat(m.retries().get(ReaderMetrics.Cause.CORRUPT)).isEqualTo(1);
      assertThat(m.integrityFailures()).isZero();
    }
  }

  @Test
  void aReadCutShortGoesOnFromTheSampleItStoppedIn() throws Exception {
    try (FileShardStore files = new FileShardStore()) {
      Flaky store = new Flaky(files, (n, b) -> n == 0 ? b.take(4 * SAMPLE_BYTES + 123) : b);
      ByteString got = kit.concat(CheckedRange.read(store, uri, index.range(0, 8)));
      assertThat(got).isEqualTo(ByteString.fromArray(shard));
      assertThat(store.offsets).containsExactly(0L, 4L * SAMPLE_BYTES);
    }
  }

  @Test
  void aWrongObjectGivesTheSameBytesTwiceAndFailsAfterTheSamplesBeforeIt() throws Exception {
    try (FileShardStore files = new FileShardStore()) {
      Flaky store = new Flaky(files, (n, b) -> flip(b, (int) (6L * SAMPLE_BYTES + 9 - store0(n))));
      List<ByteString> out = new ArrayList<>();
      assertThatThrownBy(() -> kit.collect(CheckedRange.read(store, uri, index.range(0, 8)).map(b -> {
        out.add(b);
        return b;
      }))).hasMessageContaining("sample #6 does not match the shard's index")
          .hasMessageContaining("the object is not the one indexed");
      assertThat(out.stream().reduce(ByteString.emptyByteString(), ByteString::concat))
          .isEqualTo(ByteString.fromArray(shard, 0, 6 * SAMPLE_BYTES));
      assertThat(store.offsets).containsExactly(0L, 6L * SAMPLE_BYTES);
      assertThat(files.metrics().snapshot().integrityFailures()).isEqualTo(1);
    }
  }

  /** Where read {@code n} of the wrong-object test starts: the first from 0, the next from sample 6. */
  private static long store0(int n) {
    return n == 0 ? 0 : 6L * SAMPLE_BYTES;
  }

  @Test
  void aLinkThatNeverGetsPastOneSampleGivesUpAfterItsAttempts() throws Exception {
    try (FileShardStore files = new FileShardStore()) {
      // each read changes another byte of its first sample (sample 1): other bytes every time, no progress
      Flaky store = new Flaky(files, (n, b) -> n == 0 ? flip(b, SAMPLE_BYTES + 1) : flip(b, 1 + n));
      assertThatThrownBy(() -> kit.collect(CheckedRange.read(store, uri, index.range(0, 8))))
          .hasMessageContaining("sample #1 does not match")
          .hasMessageContaining(CheckedRange.ATTEMPTS + " reads in a row stopped at this sample");
      assertThat(store.offsets).hasSize(CheckedRange.ATTEMPTS);
      assertThat(files.metrics().snapshot().retries().get(ReaderMetrics.Cause.CORRUPT))
          .isEqualTo(CheckedRange.ATTEMPTS - 1);
      assertThat(files.metrics().snapshot().integrityFailures()).isEqualTo(1);
    }
  }
}
