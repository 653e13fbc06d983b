package dev.conveyor.cli;

import dev.conveyor.streams.dsl.Decode;
import dev.conveyor.streams.dsl.Pipeline;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.dsl.Shards;
import dev.conveyor.streams.dsl.Source;
import dev.conveyor.streams.sample.RawSample;

/**
 * A pipeline a test writes (on the test class path): a mix whose sources a job file names, a
 * filter that leaves out every sample whose key is a multiple of 3, and a map that prefixes each
 * key with its source's folder ({@code a/000004}), so record files say where a sample came from.
 */
public final class MixedFilter implements PipelineDefinition {
  static boolean keeps(String key) {
    return Integer.parseInt(key) % 3 != 0;
  }

  @Override
  public Pipeline define() {
    return Pipeline.mix(Source.of(Shards.of("file:///nowhere/a.tar")), Source.of(Shards.of("file:///nowhere/b.tar")))
        .filter((RawSample s) -> keeps(s.key()))
        .decode(Decode.images(16, 16))
        .map((s, r) -> {
          String[] parts = s.shard().split("/");
          return new RawSample(s.shard(), parts[parts.length - 2] + "/" + s.key(), s.members(), s.decoded());
        });
  }
}
