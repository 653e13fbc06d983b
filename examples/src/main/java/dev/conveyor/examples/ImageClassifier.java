package dev.conveyor.examples;

import static dev.conveyor.streams.pipeline.Stages.Resources.cpus;

import dev.conveyor.streams.dsl.Decode;
import dev.conveyor.streams.dsl.Pipeline;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.dsl.Shards;
import dev.conveyor.streams.dsl.Stage;
import dev.conveyor.streams.sample.Decoded;
import dev.conveyor.streams.sample.RawSample;
import java.util.SplittableRandom;

/**
 * An image classifier's input pipeline: images only (clips are left out before anything is
 * decoded), 224 x 224 RGB with a seeded random crop and flip, then random erasing (Zhong et al.,
 * 2017) drawn from each sample's own random stream, in batches of 64.
 * <pre>
 * bin/conveyor run --pipeline dev.conveyor.examples.ImageClassifier \
 *     --classpath examples/target/conveyor-examples.jar --shards 'file:///data/train/shards.json'
 * </pre>
 */
public final class ImageClassifier implements PipelineDefinition {
  /** The share of pictures that get a rectangle erased. */
  static final double ERASE_PROBABILITY = 0.5;

  @Override
  public Pipeline define() {
    return Pipeline.from(Shards.of("s3://demo/train/shards.json"))
        .filter(Stage.filter(ImageClassifier::isImage).named("images-only"))
        .decode(Decode.images(224, 224).shortSide(256).randomCrop().flip())
        .map(Stage.of(ImageClassifier::randomErase).named("random-erase").resources(cpus(0.25)))
        .batch(64);
  }

  static boolean isImage(RawSample s) {
    return s.member("jpg").isPresent() || s.member("jpeg").isPresent() || s.member("png").isPresent()
        || s.member("webp").isPresent();
  }

  /** With {@link #ERASE_PROBABILITY}, a rectangle of 2–20 % of the picture's area filled with random bytes. */
  static RawSample randomErase(RawSample s, SplittableRandom random) {
    Decoded d = s.decoded().orElseThrow();
    if (d.image().isEmpty() || random.nextDouble() >= ERASE_PROBABILITY) {
      return s;
    }
    Decoded.Picture p = d.image().get();
    int area = (int) (p.height() * p.width() * (0.02 + 0.18 * random.nextDouble()));
    double aspect = Math.exp(Math.log(0.3) + (Math.log(3.3) - Math.log(0.3)) * random.nextDouble());
    int h = Math.min(p.height(), Math.max(1, (int) Math.round(Math.sqrt(area * aspect))));
    int w = Math.min(p.width(), Math.max(1, (int) Math.round(Math.sqrt(area / aspect))));
    int top = random.nextInt(p.height() - h + 1);
    int left = random.nextInt(p.width() - w + 1);
    byte[] rgb = p.rgb().clone();
    for (int y = top; y < top + h; y++) {
      for (int x = left * 3; x < (left + w) * 3; x++) {
        rgb[(y * p.width()) * 3 + x] = (byte) random.nextInt(256);
      }
    }
    Decoded.Picture erased = new Decoded.Picture(rgb, p.height(), p.width(), p.originalWidth(), p.originalHeight());
    return s.withDecoded(new Decoded(java.util.Optional.of(erased), d.video(), d.text()));
  }
}
