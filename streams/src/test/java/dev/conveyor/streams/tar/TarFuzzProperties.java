package dev.conveyor.streams.tar;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.testing.StreamTestKit;
import dev.conveyor.streams.testing.Tars;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * Random or randomly altered archives (each altered header's checksum made right again, so the
 * parser reads past it) end in records or a {@link TarFormatException} — nothing else — with
 * memory bounded by the input, not by what its headers claim.
 */
class TarFuzzProperties {
  static final StreamTestKit kit = new StreamTestKit();

  @AfterContainer
  static void stop() {
    kit.close();
  }

  static List<TarRecord> parse(byte[] tar) {
    return kit.collect(Tars.chunked(tar, 700).via(TarParser.flow(TarHostileInputTest.MAX_MEMBER)));
  }

  static long allocatedBy(Runnable r) {
    com.sun.management.ThreadMXBean t = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = sum(t);
    r.run();
    return sum(t) - before;
  }

  private static long sum(com.sun.management.ThreadMXBean t) {
    long total = 0;
    for (long a : t.getThreadAllocatedBytes(t.getAllThreadIds())) {
      total += Math.max(0, a);
    }
    return total;
  }

  /** Parses {@code tar}: records, or the parser's own exception; and with memory bounded by the input. */
  static void onlyRecordsOrTarFormatException(byte[] tar) {
    long allocated = allocatedBy(() -> {
      try {
        parse(tar);
      } catch (TarFormatException expected) {
        // refused, with the parser's own error
      }
    });
    assertThat(allocated).as("bytes allocated parsing " + tar.length + " bytes").isLessThan(32L * tar.length + (32 << 20));
  }

  @Property(tries = 300)
  void randomBytesGiveRecordsOrATarFormatException(@ForAll @Size(max = 6000) byte[] bytes) {
    onlyRecordsOrTarFormatException(bytes);
  }

  static final byte[] VALID = Tars.builder().file("a/0001.jpg", "x".repeat(700)).file("d".repeat(130) + "/0001.cls", "7")
      .file("a/0002.jpg", "y".repeat(40)).bytes();

  /** A valid archive with bytes overwritten, each header's checksum made right again: the parser sees past it. */
  @Property(tries = 500)
  void alteredArchivesWithRightChecksumsGiveRecordsOrATarFormatException(
      @ForAll @Size(min = 1, max = 8) List<@IntRange(min = 0, max = 4095) Integer> positions,
      @ForAll @Size(min = 8, max = 8) byte[] values) {
    byte[] tar = Arrays.copyOf(VALID, VALID.length);
    for (int i = 0; i < positions.size(); i++) {
      tar[positions.get(i) % tar.length] = values[i];
    }
    for (int at = 0; at + 512 <= tar.length; at += 512) {
      if (tar[at + 257] == 'u') { // a header block (ustar magic): its checksum right again
        TarHostileInputTest.checksum(tar, at);
      }
    }
    onlyRecordsOrTarFormatException(tar);
  }
}
