package dev.conveyor.examples;

import static dev.conveyor.config.Resources.cpus;

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
 * 2017) drawn from each sample's own random stream, in batches of 64. The decoders take one CPU
 * each (the default, said here to show where a stage's resources go).
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
        .decode(Decode.images(224, 224).shortSide(256).randomCrop().flip().resources(cpus(1)))
        .map(Stage.of(ImageClassifier::randomErase).named("random-erase"))
        .batch(64);
  }

  static boolean isImage(RawSample s) {
    return s.member("jpg").isPresent() || s.member("jpeg").isPresent() || s.member("png").isPresent()
        || s.member("webp").isPresent();
  }

  /**
   * With {@link #ERASE_PROBABILITY}, a rectangle of 2–20 % of the picture's area, of aspect ratio
   * 0.3–3.3, filled with one random colour (torchvision's RandomErasing with a random value per
   * rectangle rather than per pixel).
   */
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
    byte[] colour = {(byte) random.nextInt(256), (byte) random.nextInt(256), (byte) random.nextInt(256)};
    byte[] row = new byte[w * 3];
    for (int x = 0; x < w; x++) {
      System.arraycopy(colour, 0, row, x * 3, 3);
    }
    byte[] rgb = p.rgb(); // the sample's own array, made for it by its decoder: changed in place, not copied
    for (int y = top; y < top + h; y++) {
      System.arraycopy(row, 0, rgb, (y * p.width() + left) * 3, row.length);
    }
    return s;
  }
}
