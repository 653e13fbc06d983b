package dev.conveyor.cli.pipeline;

import dev.conveyor.streams.dsl.Decode;
import dev.conveyor.streams.dsl.Pipeline;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.dsl.Shards;

/**
 * A pipeline a test writes (on the test class path) whose stage gives each decoded sample a
 * "text" token array of {@link TokenRows#length} tokens, batched by length: under 8 tokens 6 a
 * batch, under 24 3 a batch, the rest 2 a batch, buckets filled 20 kept samples at a time.
 */
public final class Bucketed implements PipelineDefinition {
  static final int[] BOUNDARIES = {8, 24};
  static final int[] SIZES = {6, 3, 2};

  static int bucket(String key) {
    int n = TokenRows.length(key);
    return n < BOUNDARIES[0] ? 0 : n < BOUNDARIES[1] ? 1 : 2;
  }

  @Override
  public Pipeline define() {
    return Pipeline.from(Shards.of("file:///nowhere/part-0.tar")).decode(Decode.images(16, 16))
        .map((s, r) -> s.withDecoded(s.decoded().orElseThrow().withTokens("text", new int[TokenRows.length(s.key())])))
        .bucketBy("text", BOUNDARIES, SIZES, 20);
  }
}
