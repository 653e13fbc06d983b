package dev.conveyor.streams.tar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.streams.testing.StreamTestKit;
import dev.conveyor.streams.testing.Tars;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class TarParserTest {
  static final StreamTestKit kit = new StreamTestKit();

  @AfterAll
  static void stop() {
    kit.close();
  }

  static List<TarRecord> parse(byte[] tar, int chunk) {
    return kit.collect(Tars.chunked(tar, chunk).via(TarParser.flow(1 << 20)));
  }

  @Test
  void regularFilesComeOutWithTheirBytesInArchiveOrder() {
    byte[] tar = Tars.builder().file("000001.jpg", "abc").file("000001.json", "{}").file("000002.jpg", "").bytes();
    assertThat(parse(tar, 512)).containsExactly(
        new TarRecord.File("000001.jpg", ByteString.fromString("abc"), 0, 1024),
        new TarRecord.File("000001.json", ByteString.fromString("{}"), 1024, 2048),
        new TarRecord.File("000002.jpg", ByteString.emptyByteString(), 2048, 2560));
  }

  @Test
  void aMembersStartIsItsFirstHeaderEvenWhenALongNameHeaderComesFirst() {
    String longName = "d/".repeat(60) + "000001.jpg"; // over 100 bytes: a PAX or GNU long-name header precedes it
    byte[] tar = Tars.builder().file("000000.jpg", "a").file(longName, "bc").file("000002.jpg", "d").bytes();
    List<TarRecord> records = parse(tar, 300);
    TarRecord.File second = (TarRecord.File) records.get(1);
    assertThat(second.path()).isEqualTo(longName);
    assertThat(second.start()).isEqualTo(1024); // where the first member's last block ended
    assertThat(((TarRecord.File) records.get(2)).start()).isEqualTo(second.end());
    assertThat(second.end() - second.start()).isGreaterThan(1024); // the extra header and its data, then the member's
  }

  @Test
  void aRangeFromAMembersStartToAMembersEndParsesWithoutTheEndOfArchiveBlock() {
    byte[] tar = Tars.builder().file("000001.jpg", "abc").file("000002.jpg", "defg").file("000003.jpg", "h").bytes();
    byte[] range = Arrays.copyOfRange(tar, 1024, 2048); // the second member only
    List<TarRecord> records = kit.collect(Tars.chunked(range, 100).via(TarParser.rangeFlow(1 << 20)));
    assertThat(records).containsExactly(new TarRecord.File("000002.jpg", ByteString.fromString("defg"), 0, 1024));
    byte[] cut = Arrays.copyOfRange(tar, 1024, 1024 + 700); // a range that stops inside a member is still an error
    assertThatThrownBy(() -> kit.collect(Tars.chunked(cut, 100).via(TarParser.rangeFlow(1 << 20))))
        .isInstanceOf(TarFormatException.class).hasMessageContaining("truncated mid-member '000002.jpg'");
  }

  @Test
  void directoriesAreSilentAndLinksAreReportedAsSkipped() {
    byte[] tar = Tars.builder().dir("a").file("a/1.txt", "x").symlink("a/2.txt", "1.txt").bytes();
    List<TarRecord> records = parse(tar, 100);
    assertThat(records).hasSize(2);
    assertThat(records.get(0)).isEqualTo(new TarRecord.File("a/1.txt", ByteString.fromString("x"), 512, 1536));
    assertThat(records.get(1)).isInstanceOf(TarRecord.Skipped.class);
    assertThat(((TarRecord.Skipped) records.get(1)).reason()).contains("symbolic link");
  }

  @Test
  void aMemberOverTheSizeLimitIsSkippedWithoutBeingHeld() {
    byte[] big = new byte[5000];
    byte[] tar = Tars.builder().file("1.bin", big).file("2.txt", "ok").bytes();
    List<TarRecord> records = kit.collect(Tars.chunked(tar, 333).via(TarParser.flow(4096)));
    assertThat(records.get(0)).isInstanceOf(TarRecord.Skipped.class);
    assertThat(((TarRecord.Skipped) records.get(0)).reason()).contains("over max-member-size");
    assertThat(records.get(1)).isEqualTo(new TarRecord.File("2.txt", ByteString.fromString("ok"), 512 + 5120, 512 + 5120 + 1024));
  }

  @Test
  void bytesThatAreNotATarFailWithAClearReason() {
    byte[] junk = "this is not a tar archive at all, just some text".repeat(40).getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> parse(junk, 4096))
        .isInstanceOf(TarFormatException.class).hasMessageContaining("not a tar archive");
  }

  @Test
  void anEmptyObjectIsReportedAsEmpty() {
    assertThatThrownBy(() -> parse(new byte[0], 10))
        .isInstanceOf(TarFormatException.class).hasMessageContaining("empty object");
  }

  @Test
  void truncationMidMemberFailsNamingTheMember() {
    byte[] tar = Tars.builder().file("000001.jpg", new byte[2000]).file("000002.jpg", new byte[2000]).bytes();
    byte[] cut = Arrays.copyOf(tar, 512 + 2048 + 512 + 1000); // inside 000002.jpg's data
    assertThatThrownBy(() -> parse(cut, 700))
        .isInstanceOf(TarFormatException.class).hasMessageContaining("truncated mid-member '000002.jpg'");
  }

  @Test
  void truncationAtAHeaderBoundaryIsDetectedUnlikeCommonsCompress() {
    byte[] tar = Tars.builder().file("000001.jpg", new byte[1024]).file("000002.jpg", new byte[1024]).bytes();
    byte[] cut = Arrays.copyOf(tar, 512 + 1024); // exactly after the first member: no end marker
    assertThatThrownBy(() -> parse(cut, 512))
        .isInstanceOf(TarFormatException.class).hasMessageContaining("truncated at a header boundary");
  }

  @Test
  void aCorruptHeaderAfterTheFirstFailsAsCorrupt() {
    byte[] tar = Tars.builder().file("000001.jpg", new byte[10]).file("000002.jpg", new byte[10]).bytes();
    tar[1024 + 5] ^= 0x5a; // a byte of the second header's name
    assertThatThrownBy(() -> parse(tar, 512))
        .isInstanceOf(TarFormatException.class).hasMessageContaining("checksum at byte 1024 (corrupt archive)");
  }

  @Test
  void theParserFollowsDownstreamDemandAndHoldsOnlyWhatItWasAskedFor() {
    byte[] tar = Tars.builder().file("1.txt", "a").file("2.txt", "b").file("3.txt", "c").bytes();
    var probe = Tars.chunked(tar, 10_000).via(TarParser.flow(1 << 20))
        .runWith(org.apache.pekko.stream.testkit.javadsl.TestSink.probe(kit.system), kit.mat);
    probe.request(1);
    assertThat(probe.expectNext()).isEqualTo(new TarRecord.File("1.txt", ByteString.fromString("a"), 0, 1024));
    probe.expectNoMessage(java.time.Duration.ofMillis(100));
    probe.request(2);
    probe.expectNextN(2);
    probe.expectComplete();
  }
}
