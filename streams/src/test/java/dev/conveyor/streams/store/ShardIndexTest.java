package dev.conveyor.streams.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

/** A shard index survives its JSON form, refuses what cannot be an index, and its ranges check sample by sample. */
class ShardIndexTest {
  static final String SHA = "ab".repeat(32);

  static int crc(String s) {
    CRC32C c = new CRC32C();
    c.update(s.getBytes(StandardCharsets.US_ASCII));
    return (int) c.getValue();
  }

  @Test
  void itsJsonFormReadsBackTheSame() {
    ShardIndex i = new ShardIndex("a.tar", 3072, SHA, new long[] {0, 1024, 2048}, new int[] {-5, 7});
    assertThat(ShardIndex.parse(i.toJson())).isEqualTo(i);
    assertThat(i.toJson()).contains("\"crc32c\":[4294967291,7]"); // unsigned, as other tools print CRCs
  }

  @Test
  void whatCannotBeAnIndexIsRefusedSayingWhy() {
    assertThatThrownBy(() -> ShardIndex.parse("{\"version\":2}")).hasMessageContaining("\"version\" must be 1");
    assertThatThrownBy(() -> ShardIndex.parse("not json")).hasMessageContaining("not a valid shard index");
    assertThatThrownBy(() -> new ShardIndex("a.tar", 100, SHA, new long[] {0, 50, 40}, new int[] {1, 2}))
        .hasMessageContaining("offsets must rise");
    assertThatThrownBy(() -> new ShardIndex("a.tar", 100, SHA, new long[] {0, 50}, new int[] {1, 2}))
        .hasMessageContaining("needs 3 offsets");
  }

  @Test
  void anIndexChangedAfterItWasWrittenIsRefusedByItsCheckAndOneWithoutACheckIsRead() {
    ShardIndex i = new ShardIndex("a.tar", 3072, SHA, new long[] {0, 1024, 2048}, new int[] {1, 2});
    String json = i.toJson();
    // one digit changed: still valid JSON and a possible index, but not the one written
    assertThatThrownBy(() -> ShardIndex.parse(json.replace("1024", "1034")))
        .hasMessageContaining("does not match its content");
    assertThatThrownBy(() -> ShardIndex.parse(json.replace("\"crc32c\":[1,2]", "\"crc32c\":[1,3]")))
        .hasMessageContaining("does not match its content");
    assertThat(ShardIndex.parse(json.replaceAll(",\"check\":\\d+", ""))).isEqualTo(i); // written before checks
  }

  @Test
  void anIndexIsUsedOnlyForTheShardItDescribes() {
    ShardIndex i = new ShardIndex("a.tar", 3072, SHA, new long[] {0, 1024, 2048}, new int[] {1, 2});
    assertThat(i.mismatch(new ShardCheck(3072, SHA, true), 2)).isNull();
    assertThat(i.mismatch(new ShardCheck(4096, SHA, true), 2)).contains("3072 bytes");
    assertThat(i.mismatch(new ShardCheck(3072, "cd".repeat(32), true), 2)).contains("sha256");
    assertThat(i.mismatch(new ShardCheck(3072, SHA, true), 3)).contains("plan counts 3");
  }

  @Test
  void aRangeIsCheckedSampleBySampleInWhateverChunksItArrives() {
    ShardIndex i = new ShardIndex("a.tar", 20, SHA, new long[] {0, 4, 9, 15}, new int[] {crc("aaaa"), crc("bbbbb"), crc("cccccc")});
    ShardIndex.Range r = i.range(1, 3);
    assertThat(r.offset()).isEqualTo(4);
    assertThat(r.length()).isEqualTo(11);
    RangeDigest ok = RangeDigest.of(r);
    for (String chunk : new String[] {"bb", "bbbc", "ccccc"}) {
      assertThat(ok.update(ByteString.fromString(chunk))).isEqualTo(-1);
    }
    assertThat(ok.mismatch()).isNull();

    RangeDigest bad = RangeDigest.of(r);
    assertThat(bad.update(ByteString.fromString("bbbbbcc"))).isEqualTo(-1);
    assertThat(bad.update(ByteString.fromString("Xccc"))).isEqualTo(1); // the range's second sample
    assertThat(bad.start(1)).isEqualTo(9);
    assertThat(bad.mismatch()).contains("sample at byte 9");

    RangeDigest shortOne = RangeDigest.of(r);
    shortOne.update(ByteString.fromString("bbbbbccc"));
    assertThat(shortOne.mismatch()).contains("ended at byte 12");
  }

  @Test
  void aCheckedRangeLetsOnlyWholeMatchingSamplesGoOnWhateverTheChunks() {
    ShardIndex i = new ShardIndex("a.tar", 20, SHA, new long[] {0, 4, 9, 15}, new int[] {crc("aaaa"), crc("bbbbb"), crc("cccccc")});
    ReaderMetrics metrics = new ReaderMetrics();
    try (var kit = new dev.conveyor.streams.testing.StreamTestKit()) {
      for (int chunk : new int[] {1, 3, 7, 15}) {
        // the third sample is damaged: the first two go on, whole; of the third, nothing
        var bytes = dev.conveyor.streams.testing.Tars.chunked("aaaabbbbbccXccc".getBytes(StandardCharsets.US_ASCII), chunk);
        var probe = bytes.via(Verified.range(java.net.URI.create("file:///a.tar"), i.range(0, 3), metrics))
            .runWith(org.apache.pekko.stream.testkit.javadsl.TestSink.probe(kit.system), kit.mat);
        probe.request(100);
        StringBuilder got = new StringBuilder();
        Throwable failure = null;
        while (failure == null) {
          var e = probe.expectNextOrError();
          if (e.isLeft()) {
            failure = e.left().get();
          } else {
            got.append(e.right().get().utf8String());
          }
        }
        assertThat(got.toString()).as("chunks of " + chunk).isEqualTo("aaaabbbbb");
        assertThat(failure).isInstanceOf(ShardReadException.class).hasMessageContaining("sample #2 does not match");
        assertThat(((ShardReadException) failure).atSampleBoundary()).isTrue();
      }
      // an intact range goes on byte for byte
      var all = kit.concat(dev.conveyor.streams.testing.Tars.chunked("aaaabbbbbcccccc".getBytes(StandardCharsets.US_ASCII), 4)
          .via(Verified.range(java.net.URI.create("file:///a.tar"), i.range(0, 3), metrics)));
      assertThat(all.utf8String()).isEqualTo("aaaabbbbbcccccc");
    }
  }
}
