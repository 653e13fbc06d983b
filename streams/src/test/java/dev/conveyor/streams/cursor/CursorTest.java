package dev.conveyor.streams.cursor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class CursorTest {

  @Property(tries = 200)
  void encodeThenDecodeGivesTheSameCursor(@ForAll @IntRange(min = 0, max = 1000) int epoch,
      @ForAll @IntRange(min = 1, max = 64) int world, @ForAll @IntRange(min = 1, max = 3) int segments,
      @ForAll @LongRange(min = 0, max = Long.MAX_VALUE / 2) long base) {
    List<Cursor.Segment> segs = new ArrayList<>();
    for (int s = 0; s < segments; s++) {
      long[] batches = new long[world + s];
      for (int r = 0; r < batches.length; r++) {
        batches[r] = base + r + s;
      }
      segs.add(new Cursor.Segment(batches));
    }
    Cursor c = new Cursor("0123456789abcdef", epoch, segs);
    assertThat(Cursor.decode(c.encode())).isEqualTo(c);
  }

  @Test
  void aTokenWithAnyOneCharacterChangedIsRefused() {
    String token = Cursor.start("fp", 2).withDelivered(0, 5).withDelivered(1, 5).encode();
    for (int i = 0; i < token.length(); i++) {
      char[] chars = token.toCharArray();
      chars[i] = chars[i] == 'A' ? 'B' : 'A';
      String altered = new String(chars);
      assertThatThrownBy(() -> Cursor.decode(altered)).as("changed at " + i).isInstanceOf(CursorException.class);
    }
  }

  @Test
  void theReasonSaysWhatIsWrong() {
    String token = Cursor.start("fp", 2).encode();
    String body = token.substring(4);
    assertThatThrownBy(() -> Cursor.decode("cv1." + body.replace('A', 'B'))).hasMessageContaining("checksum mismatch");
    assertThatThrownBy(() -> Cursor.decode("cv3." + body)).hasMessageContaining("cursor version cv3 is newer than this build");
    assertThatThrownBy(() -> Cursor.decode("cv0.abc.def")).hasMessageContaining("cv0 (provisional, from an older build)");
    assertThatThrownBy(() -> Cursor.decode("garbage")).hasMessageContaining("not a cursor token");
  }

  @Test
  void positionsRoundTripInACv2TokenAndACv1TokenStaysAsItWas() {
    Cursor c = Cursor.start("fp", 2).withDelivered(0, 4, 131).withDelivered(1, 4, 97).resumedAt(3)
        .withDelivered(2, 1, 12);
    String token = c.encode();
    assertThat(token).startsWith("cv2.");
    assertThat(Cursor.decode(token)).isEqualTo(c);
    assertThat(Cursor.decode(token).segments().get(0).position(1)).isEqualTo(97);
    assertThat(Cursor.decode(token).current().position(2)).isEqualTo(12);
    // a cursor of fixed batches is the token it always was
    Cursor fixed = Cursor.start("fp", 2).withDelivered(0, 4).withDelivered(1, 3);
    assertThat(fixed.encode()).startsWith("cv1.");
    assertThat(Cursor.decode(fixed.encode())).isEqualTo(fixed);
    assertThat(Cursor.decode(fixed.encode()).current().hasPositions()).isFalse();
  }

  @Test
  void resumingAtAnotherWorldSizeOpensASegmentAndTheSameWorldDoesNot() {
    Cursor c = Cursor.start("fp", 4).withDelivered(2, 3);
    assertThat(c.resumedAt(4)).isSameAs(c);
    Cursor e = c.resumedAt(3);
    assertThat(e.segments()).hasSize(2);
    assertThat(e.world()).isEqualTo(3);
    assertThat(e.segments().get(0).batches(2)).isEqualTo(3);
  }
}
