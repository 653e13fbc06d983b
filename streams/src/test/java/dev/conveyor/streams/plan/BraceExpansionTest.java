package dev.conveyor.streams.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class BraceExpansionTest {

  @Test
  void aZeroPaddedRangeKeepsItsWidth() {
    assertThat(BraceExpansion.expand("s3://b/part-{000008..000011}.tar"))
        .containsExactly("s3://b/part-000008.tar", "s3://b/part-000009.tar", "s3://b/part-000010.tar", "s3://b/part-000011.tar");
  }

  @Test
  void listsAndRangesMultiplyLeftToRight() {
    assertThat(BraceExpansion.expand("{img,vid}-{1..2}.tar")).containsExactly("img-1.tar", "img-2.tar", "vid-1.tar", "vid-2.tar");
  }

  @Test
  void aPatternWithoutBracesIsItself() {
    assertThat(BraceExpansion.expand("file:///d/x.tar")).containsExactly("file:///d/x.tar");
  }

  @Test
  void malformedPatternsAreRefusedWithTheReason() {
    assertThatThrownBy(() -> BraceExpansion.expand("a{1..3")).hasMessageContaining("unclosed '{'");
    assertThatThrownBy(() -> BraceExpansion.expand("a}1")).hasMessageContaining("unbalanced '}'");
    assertThatThrownBy(() -> BraceExpansion.expand("a{5..1}")).hasMessageContaining("runs backwards");
    assertThatThrownBy(() -> BraceExpansion.expand("a{x..y}")).hasMessageContaining("whole numbers");
    assertThatThrownBy(() -> BraceExpansion.expand("a{0..99999999999}")).hasMessageContaining("more than");
  }

  @Property(tries = 50)
  void aRangeExpandsToEveryNumberOnceInOrder(@ForAll @IntRange(min = 0, max = 5000) int from, @ForAll @IntRange(min = 0, max = 300) int count) {
    var names = BraceExpansion.expand("p{" + from + ".." + (from + count) + "}");
    assertThat(names).hasSize(count + 1);
    for (int i = 0; i <= count; i++) {
      assertThat(names.get(i)).isEqualTo("p" + (from + i));
    }
  }
}
