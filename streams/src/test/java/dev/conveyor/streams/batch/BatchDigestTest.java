package dev.conveyor.streams.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.sample.Member;
import dev.conveyor.streams.sample.RawSample;
import java.util.List;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

class BatchDigestTest {
  static RawBatch batch(RawSample... s) {
    return new RawBatch(0, 0, 0, 0, List.of(s));
  }

  static RawSample sample(String key, String ext, String data) {
    return new RawSample("s", key, List.of(new Member(ext, ByteString.fromString(data))));
  }

  @Test
  void theSameSamplesDigestAlikeHoweverTheirBytesAreChunked() {
    RawSample whole = sample("k", "bin", "abcdef");
    RawSample chunked = new RawSample("other-shard", "k",
        List.of(new Member("bin", ByteString.fromString("abc").concat(ByteString.fromString("def")))));
    assertThat(BatchDigest.of(batch(whole))).isEqualTo(BatchDigest.of(batch(chunked)));
  }

  @Test
  void framingKeepsMovedBoundariesApart() {
    assertThat(BatchDigest.of(batch(sample("ab", "c", "x"))).bytesSha256())
        .isNotEqualTo(BatchDigest.of(batch(sample("a", "bc", "x"))).bytesSha256());
    assertThat(BatchDigest.of(batch(sample("k", "e", "xy"), sample("j", "e", "z"))).bytesSha256())
        .isNotEqualTo(BatchDigest.of(batch(sample("k", "e", "x"), sample("j", "e", "yz"))).bytesSha256());
  }

  @Test
  void orderMattersForBothDigests() {
    BatchDigest ab = BatchDigest.of(batch(sample("a", "e", "1"), sample("b", "e", "2")));
    BatchDigest ba = BatchDigest.of(batch(sample("b", "e", "2"), sample("a", "e", "1")));
    assertThat(ab.bytesSha256()).isNotEqualTo(ba.bytesSha256());
    assertThat(ab.keysSha256()).isNotEqualTo(ba.keysSha256());
  }
}
