package dev.conveyor.cli.pipeline;

import dev.conveyor.streams.dsl.Decode;
import dev.conveyor.streams.dsl.Pipeline;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.dsl.Shards;
import dev.conveyor.streams.sample.RawSample;

/**
 * A pipeline a test writes (on the test class path) whose filter keeps about one sample in ten —
 * more among the first {@link #DENSE} keys, so the ranks' parts keep different numbers — in full
 * batches of 4.
 */
public final class KeepsFew implements PipelineDefinition {
  static final int DENSE = 120;

  static boolean keeps(String key) {
    int k = Integer.parseInt(key);
    return k % 10 == 0 || (k < DENSE && k % 10 == 5);
  }

  @Override
  public Pipeline define() {
    return Pipeline.from(Shards.of("file:///nowhere/part-0.tar"))
        .filter((RawSample s) -> keeps(s.key())).decode(Decode.images(16, 16)).batch(4).fullBatches();
  }
}
