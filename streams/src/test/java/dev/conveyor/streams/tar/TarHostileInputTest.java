package dev.conveyor.streams.tar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.streams.testing.StreamTestKit;
import dev.conveyor.streams.testing.Tars;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Tar input made to hurt: absurd or negative sizes and bad checksums fail the shard with a
 * {@link TarFormatException}; names that hold a NUL or a control character are refused member by
 * member (a Skipped record, its name printable; names that climb out with .. or are absolute pass
 * the parser and are refused where members become samples: SampleGroupingTest). Random input:
 * {@link TarFuzzProperties}.
 */
class TarHostileInputTest {
  static final StreamTestKit kit = new StreamTestKit();
  static final int MAX_MEMBER = 1 << 20;

  @AfterAll
  static void stop() {
    kit.close();
  }

  static List<TarRecord> parse(byte[] tar) {
    return kit.collect(Tars.chunked(tar, 700).via(TarParser.flow(MAX_MEMBER)));
  }

  /** A ustar header for {@code name} with the 12-byte size field {@code size} as given, its checksum right. */
  static byte[] header(String name, byte[] size, char type) {
    byte[] h = new byte[512];
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(n, 0, h, 0, Math.min(100, n.length));
    System.arraycopy("0000644\0".getBytes(StandardCharsets.US_ASCII), 0, h, 100, 8);
    System.arraycopy(size, 0, h, 124, 12);
    h[156] = (byte) type;
    System.arraycopy("ustar\00000".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 8);
    checksum(h, 0);
    return h;
  }

  /** Writes the header checksum of the block at {@code at} of {@code b}. */
  static void checksum(byte[] b, int at) {
    Arrays.fill(b, at + 148, at + 156, (byte) ' ');
    long sum = 0;
    for (int i = 0; i < 512; i++) {
      sum += b[at + i] & 0xff;
    }
    byte[] s = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(s, 0, b, at + 148, 8);
  }

  static byte[] octal(long v) {
    return String.format("%011o\0", v).getBytes(StandardCharsets.US_ASCII);
  }

  static byte[] archive(byte[]... blocks) {
    int n = 0;
    for (byte[] b : blocks) {
      n += b.length;
    }
    byte[] all = new byte[n + 1024];
    int at = 0;
    for (byte[] b : blocks) {
      System.arraycopy(b, 0, all, at, b.length);
      at += b.length;
    }
    return all;
  }

  @Test
  void aMemberClaimingAbsurdlyManyBytesIsSkippedAndTheArchiveThatCannotHoldThemFails() {
    byte[] tar = archive(header("big.jpg", octal(077777777777L), '0'), new byte[512]);
    assertThatThrownBy(() -> parse(tar)).isInstanceOf(TarFormatException.class).hasMessageContaining("truncated");
  }

  @Test
  void aNegativeSizeIsRefused() {
    byte[] negative = new byte[12];
    Arrays.fill(negative, (byte) 0xff); // base-256, two's complement: -1
    assertThatThrownBy(() -> parse(archive(header("x.jpg", negative, '0'))))
        .isInstanceOf(TarFormatException.class).hasMessageContaining("size");
  }

  @Test
  void aHeaderWithABadChecksumIsRefused() {
    byte[] h = header("x.jpg", octal(0), '0');
    h[0] ^= 1;
    assertThatThrownBy(() -> parse(archive(h))).isInstanceOf(TarFormatException.class).hasMessageContaining("checksum");
  }

  @Test
  void namesHoldingANulOrAControlCharacterAreRefusedMemberByMember() {
    String deep = "d".repeat(120) + "/";
    byte[] tar = Tars.builder()
        .file("ok/0001.jpg", "fine")
        .file(deep + "00\u00005.jpg", "a NUL in a PAX path")
        .file("00\n06.jpg", "a newline")
        .file("00\u001b[2J07.jpg", "an escape sequence")
        .file("ok/0008.jpg", "fine")
        .bytes();
    List<TarRecord> records = parse(tar);
    assertThat(records).hasSize(5);
    assertThat(records.get(0)).isInstanceOf(TarRecord.File.class);
    assertThat(records.get(4)).isInstanceOf(TarRecord.File.class);
    for (TarRecord r : records.subList(1, 4)) {
      assertThat(r).as(r.path()).isInstanceOf(TarRecord.Skipped.class);
      assertThat(((TarRecord.Skipped) r).reason()).as(r.path()).startsWith("unsafe member name");
      assertThat(r.path()).as("printable").doesNotContainPattern("\\p{Cntrl}");
    }
    assertThat(((TarRecord.Skipped) records.get(1)).reason()).contains("NUL");
    assertThat(records.get(2).path()).isEqualTo("00\\u000a06.jpg");
  }

  @Test
  void aNegativePaxSizeIsRefused() {
    String record = "14 size=-4096\n";
    byte[] pax = new byte[512];
    System.arraycopy(record.getBytes(StandardCharsets.US_ASCII), 0, pax, 0, record.length());
    byte[] tar = archive(header("pax", octal(record.length()), 'x'), pax, header("x.jpg", octal(0), '0'));
    assertThatThrownBy(() -> parse(tar)).isInstanceOf(TarFormatException.class).hasMessageContaining("PAX size");
  }
}
