package dev.conveyor.examples;

import static dev.conveyor.config.Resources.cpus;
import static dev.conveyor.config.Resources.memory;

import dev.conveyor.streams.dsl.Decode;
import dev.conveyor.streams.dsl.Pipeline;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.dsl.Shards;
import dev.conveyor.streams.dsl.Stage;

/**
 * A recaptioning job — the batch job this project started from: read a video corpus, sample a
 * few frames of each clip, caption them with a model held by an actor pool, and write the
 * captions back as a new dataset that a training job then mixes in. Here the "model" is
 * {@link Captioner} (a ~100 ms load per actor, captions from the frames' content, the same on
 * every run and node); the pool starts with one actor and grows to four while clips wait for it.
 * Each written sample keeps the members the decoders left (a clip's text, its json) and gains
 * {@code caption.txt}; the decoded frames are not written.
 * <pre>
 * bin/conveyor run --pipeline dev.conveyor.examples.Recaption \
 *     --classpath examples/target/conveyor-examples.jar --shards 'file:///data/videos/shards.json' \
 *     --set conveyor.job.sink.to='"file:///data/captions/"'
 * bin/conveyor run --shards file:///data/captions/shards.json --keys-out keys.txt   # the new dataset
 * </pre>
 */
public final class Recaption implements PipelineDefinition {
  @Override
  public Pipeline define() {
    return Pipeline.from(Shards.of("s3://demo/videos/shards.json"))
        .filter(Stage.filter(VideoClipSampler::isClip).named("clips-only"))
        .decode(Decode.clips(4, 112, 112).stride(8))
        .map(Stage.actor(Captioner::new).named("caption").resources(cpus(1), memory("512MiB")).concurrency(1, 4))
        .write(Shards.to("s3://demo/captions/").shardSize("64MB"))
        .batch(16);
  }
}
