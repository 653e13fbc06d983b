package dev.conveyor.examples;

import dev.conveyor.streams.dsl.Decode;
import dev.conveyor.streams.dsl.Pipeline;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.dsl.Shards;
import dev.conveyor.streams.dsl.Stage;
import dev.conveyor.streams.sample.Decoded;
import dev.conveyor.streams.sample.RawSample;
import java.util.SplittableRandom;

/**
 * A video model's clip sampler: clips only, a seeded three quarters of them (a subsampled
 * epoch, the same on every run), 8 frames of 112 x 112 every 2nd frame from a seeded start, then
 * half of the clips played backwards (a time-reversal augmentation), in batches of 8.
 * <pre>
 * bin/conveyor run --pipeline dev.conveyor.examples.VideoClipSampler \
 *     --classpath examples/target/conveyor-examples.jar --shards 'file:///data/train/shards.json'
 * </pre>
 */
public final class VideoClipSampler implements PipelineDefinition {
  /** The share of clips an epoch keeps. */
  static final double KEEP = 0.75;

  @Override
  public Pipeline define() {
    return Pipeline.from(Shards.of("s3://demo/train/shards.json"))
        .filter(Stage.filter(VideoClipSampler::isClip).named("clips-only"))
        .filter(Stage.filter((s, random) -> random.nextDouble() < KEEP).named("subsample"))
        .decode(Decode.clips(8, 112, 112).stride(2))
        .map(Stage.of(VideoClipSampler::reverseSometimes).named("time-reversal"))
        .batch(8);
  }

  static boolean isClip(RawSample s) {
    return s.member("mp4").isPresent() || s.member("webm").isPresent() || s.member("mkv").isPresent()
        || s.member("mov").isPresent();
  }

  /** Half of the clips (drawn from the sample's own stream) with their frames in reverse order. */
  static RawSample reverseSometimes(RawSample s, SplittableRandom random) {
    Decoded d = s.decoded().orElseThrow();
    if (d.video().isEmpty() || random.nextBoolean()) {
      return s;
    }
    Decoded.Clip c = d.video().get();
    // the clip's arrays are the sample's own, made for it by its decoder: reversed in place
    int frame = c.height() * c.width() * 3;
    byte[] rgb = c.rgb();
    byte[] spare = new byte[frame];
    int[] indices = c.frameIndices();
    for (int f = 0, g = c.frames() - 1; f < g; f++, g--) {
      System.arraycopy(rgb, f * frame, spare, 0, frame);
      System.arraycopy(rgb, g * frame, rgb, f * frame, frame);
      System.arraycopy(spare, 0, rgb, g * frame, frame);
      int i = indices[f];
      indices[f] = indices[g];
      indices[g] = i;
    }
    return s;
  }
}
