package dev.conveyor.streams.dsl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.batch.SourceCounts;
import dev.conveyor.streams.sample.Decoded;
import dev.conveyor.streams.sample.RawSample;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A batch as columns: made from a batch's samples and set back into them, column by column. */
class BatchTest {
  static RawSample sample(String key, byte fill, String caption, int[] tokens) {
    byte[] rgb = new byte[2 * 2 * 3];
    java.util.Arrays.fill(rgb, fill);
    Decoded d = new Decoded(Optional.of(new Decoded.Picture(rgb, 2, 2, 2, 2)), Optional.empty(),
        Map.of("caption", caption)).withTokens("ids", tokens);
    return new RawSample("shard", key, List.of()).withDecoded(d);
  }

  static RawBatch batch() {
    return new RawBatch(0, 1, 3, 3, List.of(sample("a", (byte) 1, "one", new int[] {1}),
        sample("b", (byte) 2, "two", new int[] {2, 2})), 0, SourceCounts.NONE);
  }

  @Test
  void columnsComeFromTheSamplesAndGoBackIntoThemInOrder() {
    RawBatch b = batch();
    Batch columns = Batch.of(b);
    assertThat(columns.keys()).containsExactly("a", "b");
    assertThat(columns.pictures().orElseThrow().rgb()).hasSize(24).startsWith((byte) 1).endsWith((byte) 2);
    assertThat(columns.text("caption")).hasValue(List.of("one", "two"));
    assertThat(columns.tokens("ids").orElseThrow()[1]).containsExactly(2, 2);
    assertThat(columns.tokens("none")).isEmpty();

    Batch.Pictures p = columns.pictures().get();
    p.rgb()[0] = 9;
    p.rgb()[23] = 8;
    RawBatch out = columns.withPictures(p).withText("caption", List.of("uno", "dos"))
        .withTokens("len", new int[][] {{3}, {4}}).into(b);
    Decoded first = out.samples().get(0).decoded().orElseThrow();
    Decoded second = out.samples().get(1).decoded().orElseThrow();
    assertThat(first.image().orElseThrow().rgb()[0]).isEqualTo((byte) 9);
    assertThat(second.image().orElseThrow().rgb()[11]).isEqualTo((byte) 8);
    assertThat(first.text()).containsEntry("caption", "uno");
    assertThat(second.tokens().get("len")).containsExactly(4);
    assertThat(second.tokens().get("ids")).containsExactly(2, 2);
    assertThat(out.index()).isEqualTo(b.index());
  }

  @Test
  void aColumnOfTheWrongLengthIsRefused() {
    Batch columns = Batch.of(batch());
    assertThatThrownBy(() -> columns.withText("caption", List.of("x"))).hasMessageContaining("1 texts for a batch of 2");
    assertThatThrownBy(() -> columns.withPictures(new Batch.Pictures(new byte[12], 1, 2, 2)))
        .hasMessageContaining("for a batch of 2");
  }
}
