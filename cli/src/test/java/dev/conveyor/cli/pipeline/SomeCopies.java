package dev.conveyor.cli.pipeline;

import dev.conveyor.streams.dsl.Decode;
import dev.conveyor.streams.dsl.Pipeline;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.dsl.Shards;
import dev.conveyor.streams.sample.RawSample;
import java.util.ArrayList;
import java.util.List;

/**
 * A pipeline a test writes (on the test class path) whose flatMap makes each decoded picture into
 * {@link #copies} of itself (0 to 3, by its key; keys {@code KEY/j}), in full batches of 4 — so
 * batches end between two outputs of one sample.
 */
public final class SomeCopies implements PipelineDefinition {
  static int copies(String key) {
    return Integer.parseInt(key) % 4;
  }

  @Override
  public Pipeline define() {
    return Pipeline.from(Shards.of("file:///nowhere/part-0.tar")).decode(Decode.images(16, 16))
        .flatMap((s, r) -> {
          List<RawSample> out = new ArrayList<>();
          for (int j = 0; j < copies(s.key()); j++) {
            out.add(new RawSample(s.shard(), s.key() + "/" + j, s.members(), s.decoded()));
          }
          return out;
        })
        .batch(4).fullBatches();
  }
}
