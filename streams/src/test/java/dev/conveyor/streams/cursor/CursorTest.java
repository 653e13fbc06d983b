package dev.conveyor.streams.cursor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class CursorTest {

  @Property(tries = 100)
  void encodeThenDecodeGivesTheSameCursor(@ForAll @IntRange(min = 0, max = 1000) int epoch,
      @ForAll @IntRange(min = 1, max = 64) int world, @ForAll @LongRange(min = 0, max = Long.MAX_VALUE / 2) long base) {
    long[] batches = new long[world];
    for (int r = 0; r < world; r++) {
      batches[r] = base + r;
    }
    Cursor c = new Cursor("0123456789abcdef", epoch, world, batches);
    assertThat(Cursor.decode(c.encode())).isEqualTo(c);
  }

  @Test
  void aTokenAlteredInAnyPlaceIsRefused() {
    String token = new Cursor("fp", 1, 2, new long[] {5, 5}).encode();
    char[] chars = token.toCharArray();
    int i = token.indexOf('.') + 3;
    chars[i] = chars[i] == 'A' ? 'B' : 'A';
    assertThatThrownBy(() -> Cursor.decode(new String(chars))).hasMessageContaining("checksum mismatch");
    assertThatThrownBy(() -> Cursor.decode("cv9.abc.def")).hasMessageContaining("version cv9");
    assertThatThrownBy(() -> Cursor.decode("garbage")).hasMessageContaining("not a cursor token");
  }
}
