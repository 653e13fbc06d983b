package dev.conveyor.cli.pipeline;

import dev.conveyor.streams.decode.SampleMap;
import dev.conveyor.streams.dsl.Decode;
import dev.conveyor.streams.dsl.Pipeline;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.dsl.Shards;
import dev.conveyor.streams.dsl.Stage;

/**
 * A pipeline a test writes (on the test class path): its map stage, "labeller", throws on the
 * samples whose key is {@link #AT} modulo {@link #EVERY} (under max-bad-fraction).
 */
public final class ThrowsOnSome implements PipelineDefinition {
  static final int EVERY = 20;
  static final int AT = 3;

  @Override
  public Pipeline define() {
    SampleMap labeller = (s, r) -> {
      if (Integer.parseInt(s.key()) % EVERY == AT) {
        throw new IllegalArgumentException("no label for " + s.key());
      }
      return s;
    };
    return Pipeline.from(Shards.of("file:///nowhere/part-0.tar")).decode(Decode.images(32, 32))
        .map(Stage.of(labeller).named("labeller")).batch(4);
  }
}
