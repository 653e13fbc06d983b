package dev.conveyor.examples;

import static dev.conveyor.config.Resources.cpus;
import static dev.conveyor.config.Resources.memory;

import dev.conveyor.streams.dsl.Decode;
import dev.conveyor.streams.dsl.Pipeline;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.dsl.Shards;
import dev.conveyor.streams.dsl.Stage;

/**
 * Captions for images, by a stateful stage in an actor pool (Ray Data's
 * {@code map_batches(Captioner, concurrency=(1, 2))}): images only, 224 x 224, each actor
 * holding one {@link Captioner} (its ~100 ms "model load" paid once per actor), growing from one
 * actor to two while pictures wait for it. {@link Fused} is the same stage fused into the
 * decoders (one instance per decoder): the two deliver the same bytes, and
 * {@code bench/pool-vs-fused.sh} measures what the pool costs.
 * <pre>
 * bin/conveyor run --pipeline dev.conveyor.examples.ImageCaptions \
 *     --classpath examples/target/conveyor-examples.jar --shards 'file:///data/train/shards.json'
 * </pre>
 */
public final class ImageCaptions implements PipelineDefinition {
  @Override
  public Pipeline define() {
    return images().map(Stage.actor(Captioner::new).named("caption").resources(cpus(1), memory("256MiB"))
        .concurrency(1, 2)).batch(64);
  }

  static Pipeline images() {
    return Pipeline.from(Shards.of("s3://demo/train/shards.json"))
        .filter(Stage.filter(ImageClassifier::isImage).named("images-only"))
        .decode(Decode.images(224, 224).shortSide(256));
  }

  /** The same captions, the stage fused into the decoders. */
  public static final class Fused implements PipelineDefinition {
    @Override
    public Pipeline define() {
      return images().map(Stage.of(new Captioner()).named("caption")).batch(64);
    }
  }
}
