package dev.conveyor.cli.pipeline;

import dev.conveyor.streams.dsl.Decode;
import dev.conveyor.streams.dsl.Pipeline;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.dsl.Shards;

/**
 * A pipeline a test writes (on the test class path) whose stage gives each decoded sample a
 * "text" token array — {@link #length} tokens {@code 1000·key + j}, so every token says where it
 * came from — packed into rows of {@link #ROW} tokens, 4 rows a batch.
 */
public final class TokenRows implements PipelineDefinition {
  static final int ROW = 32;

  static int length(String key) {
    return 1 + Integer.parseInt(key) * 7 % 45;
  }

  @Override
  public Pipeline define() {
    return Pipeline.from(Shards.of("file:///nowhere/part-0.tar")).decode(Decode.images(16, 16))
        .map((s, r) -> {
          int k = Integer.parseInt(s.key());
          int[] t = new int[length(s.key())];
          for (int j = 0; j < t.length; j++) {
            t[j] = 1000 * k + j;
          }
          return s.withDecoded(s.decoded().orElseThrow().withTokens("text", t));
        })
        .batch(4).packTokens("text", ROW);
  }
}
