package dev.conveyor.streams.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import org.junit.jupiter.api.Test;

class ShardListTest {

  @Test
  void expandsToUrisOfOneScheme() {
    ShardList l = ShardList.parse("s3://demo/train/part-{000000..000001}.tar");
    assertThat(l.scheme()).isEqualTo("s3");
    assertThat(l.shards()).containsExactly(URI.create("s3://demo/train/part-000000.tar"), URI.create("s3://demo/train/part-000001.tar"));
    assertThat(ShardList.name(l.shards().get(1))).isEqualTo("part-000001.tar");
  }

  @Test
  void refusesRelativeFileUrisMixedSchemesAndUnknownSchemes() {
    assertThatThrownBy(() -> ShardList.parse("file://data/x.tar")).hasMessageContaining("three slashes");
    assertThatThrownBy(() -> ShardList.parse("{s3://b/x.tar,file:///x.tar}")).hasMessageContaining("mix schemes");
    assertThatThrownBy(() -> ShardList.parse("http://h/x.tar")).hasMessageContaining("s3:// or file:///");
    assertThatThrownBy(() -> ShardList.parse("s3://bucket-only")).hasMessageContaining("s3://bucket/key");
  }

}
