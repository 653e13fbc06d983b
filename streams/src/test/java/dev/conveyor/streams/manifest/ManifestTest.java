package dev.conveyor.streams.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code shards.json} as datagen writes it and as a job reads it. */
class ManifestTest {
  static final Manifest TWO = new Manifest(List.of(
      new ShardInfo("part-000000.tar", 10_240, 3, "ab".repeat(32)),
      new ShardInfo("we\"ird name\n.tar", 20_480, 5, "cd".repeat(32))));

  @Test
  void whatIsWrittenReadsBackTheSameWithItsTotals() {
    String json = TWO.toJson();
    assertThat(Manifest.parse(json)).isEqualTo(TWO);
    assertThat(json).contains("\"samples\" : 8").contains("\"bytes\" : 30720").endsWith("}\n");
  }

  @Test
  void aBrokenFileSaysWhereAndAWrongFieldSaysWhich() {
    assertThatThrownBy(() -> Manifest.parse("{\"shards\": [\n{\"name\": }]}"))
        .hasMessageStartingWith("not a valid shards.json: not valid JSON (").hasMessageContaining("line 2, column");
    assertThatThrownBy(() -> Manifest.parse("{\"version\": 1}"))
        .hasMessage("not a valid shards.json: it has no \"shards\" list");
    assertThatThrownBy(() -> Manifest.parse("{\"shards\": [{\"name\": \"a.tar\", \"bytes\": 1, \"samples\": 1,"
        + " \"sha256\": \"00\"}, {\"name\": \"b.tar\", \"bytes\": \"12\", \"samples\": 1, \"sha256\": \"00\"}]}"))
        .hasMessage("not a valid shards.json: shards[1].bytes must be a whole number ≥ 0");
    assertThatThrownBy(() -> Manifest.parse("{\"shards\": [{\"bytes\": 1, \"samples\": 1, \"sha256\": \"00\"}]}"))
        .hasMessage("not a valid shards.json: shards[0].name must be a string");
    assertThatThrownBy(() -> Manifest.parse(""))
        .hasMessage("not a valid shards.json: not valid JSON (empty)");
  }
}
