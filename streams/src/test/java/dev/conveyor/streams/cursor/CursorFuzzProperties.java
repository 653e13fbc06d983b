package dev.conveyor.streams.cursor;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.zip.CRC32C;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.StringLength;

/**
 * Any string given as a cursor is read or refused with a {@link CursorException} — nothing else
 * escapes — using memory bounded by the string: random text, random text shaped like a token, and
 * random payloads under a right checksum (so that the payload's parser is reached), whose message
 * repeats no control character.
 */
class CursorFuzzProperties {
  static void readOrRefused(String token) {
    com.sun.management.ThreadMXBean t = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = t.getCurrentThreadAllocatedBytes();
    try {
      Cursor.decode(token);
    } catch (CursorException e) {
      assertThat(e.getMessage()).doesNotContainPattern("\\p{Cntrl}");
    }
    long allocated = t.getCurrentThreadAllocatedBytes() - before;
    assertThat(allocated).as("bytes allocated reading " + token.length() + " characters").isLessThan(64L * token.length() + (1 << 20));
  }

  @Property(tries = 1000)
  void randomText(@ForAll @StringLength(max = 300) String s) {
    readOrRefused(s);
  }

  @Property(tries = 1000)
  void randomTextShapedLikeAToken(@ForAll("shaped") String s) {
    readOrRefused(s);
  }

  @Property(tries = 2000)
  void randomPayloadsUnderARightChecksum(@ForAll("payloads") String payload) {
    String body = Base64.getUrlEncoder().withoutPadding().encodeToString(payload.getBytes(StandardCharsets.UTF_8));
    CRC32C c = new CRC32C();
    c.update(("cv1." + body).getBytes(StandardCharsets.US_ASCII));
    readOrRefused("cv1." + body + "." + HexFormat.of().toHexDigits((int) c.getValue()));
  }

  @Provide
  Arbitrary<String> shaped() {
    Arbitrary<String> part = Arbitraries.strings().withChars("cv0123456789.-_=AbZz\u0000\n").ofMaxLength(40);
    return Arbitraries.of("cv", "cv1.", "cv99999999999.", "cv1..", "").flatMap(p -> part.map(x -> p + x));
  }

  @Provide
  Arbitrary<String> payloads() {
    Arbitrary<String> field = Arbitraries.oneOf(
        Arbitraries.strings().withChars("fpepochseg=;|,0123456789-abcdef\u0001").ofMaxLength(30),
        Arbitraries.longs().map(n -> "epoch=" + n),
        Arbitraries.strings().numeric().ofMaxLength(25).map(n -> "seg=" + n + ",1|" + n),
        Arbitraries.just("fp="), Arbitraries.just("seg="), Arbitraries.just("seg=|"), Arbitraries.just("epoch=-1"));
    return field.list().ofMaxSize(5).map(l -> String.join(";", l));
  }
}
