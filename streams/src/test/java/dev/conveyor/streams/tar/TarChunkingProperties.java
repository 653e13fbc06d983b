package dev.conveyor.streams.tar;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.testing.StreamTestKit;
import dev.conveyor.streams.testing.Tars;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import net.jqwik.api.lifecycle.AfterContainer;

/** How the bytes arrive never changes what is parsed: any chunking gives the same records. */
class TarChunkingProperties {
  static final StreamTestKit kit = new StreamTestKit();

  @AfterContainer
  static void stop() {
    kit.close();
  }

  @Property(tries = 60)
  void recordsDoNotDependOnChunkBoundaries(
      @ForAll @Size(min = 1, max = 6) List<@StringLength(max = 1500) String> contents,
      @ForAll @IntRange(min = 1, max = 3000) int chunk) {
    Tars tars = Tars.builder();
    for (int i = 0; i < contents.size(); i++) {
      // long names exercise PAX headers, short ones plain headers
      String dir = i % 2 == 0 ? "" : "d".repeat(120) + "/";
      tars.file(dir + String.format("%06d.txt", i), contents.get(i));
    }
    byte[] tar = tars.bytes();
    List<TarRecord> whole = kit.collect(Tars.chunked(tar, tar.length).via(TarParser.flow(1 << 20)));
    List<TarRecord> pieces = kit.collect(Tars.chunked(tar, chunk).via(TarParser.flow(1 << 20)));
    assertThat(pieces).isEqualTo(whole).hasSize(contents.size());
  }
}
