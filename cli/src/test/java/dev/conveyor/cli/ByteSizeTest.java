package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ByteSizeTest {
  @Test
  void sizesReadAsHoconReadsThemWithKbForKb() {
    ByteSize size = new ByteSize();
    assertThat(size.convert("64MB")).isEqualTo(64_000_000L);
    assertThat(size.convert("1GiB")).isEqualTo(1L << 30);
    assertThat(size.convert(" 512KB ")).isEqualTo(512_000L);
    assertThat(size.convert("4096")).isEqualTo(4096L);
    for (String bad : new String[] {"12XB", "", "1\"GB", "lots"}) {
      assertThatThrownBy(() -> size.convert(bad)).as(bad).isInstanceOf(CommandLine.TypeConversionException.class)
          .hasMessage("a size like 64MB or 1GiB, got \"" + bad + "\"");
    }
  }

  @Test
  void aSizeThatIsNoneIsAUsageErrorNamingItsOwnOption() {
    String[][] cases = {
        {"--max-member-size", "index", "--in", "file:///nowhere", "--max-member-size", "12XB"},
        {"--shard-size", "datagen", "--out", "file:///tmp/never-written", "--shard-size", "12XB"},
        {"--shard-size", "pack", "--in", "/nowhere", "--out", "file:///tmp/never-written", "--shard-size", "12XB"},
        {"--transfer", "bench", "cache", "--transfer", "12XB"},
    };
    for (String[] c : cases) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      String[] args = java.util.Arrays.copyOfRange(c, 1, c.length);
      int code = ConveyorCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
      assertThat(code).as(String.join(" ", args)).isEqualTo(ConveyorCli.EXIT_USAGE);
      assertThat(err.toString()).as(String.join(" ", args))
          .contains("'" + c[0] + "'").contains("a size like 64MB or 1GiB, got \"12XB\"");
    }
  }
}
