package dev.conveyor.cli.pipeline;

import dev.conveyor.streams.dsl.Batch;
import dev.conveyor.streams.dsl.Decode;
import dev.conveyor.streams.dsl.Pipeline;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.dsl.Shards;
import dev.conveyor.streams.dsl.Stage;
import dev.conveyor.streams.sample.Decoded;

/**
 * A pipeline a test writes: pictures inverted (255 - v) by a batch-level stage over the batch's
 * pictures as one array, each sample given a token array {@code brightness} (its pixel sum mod
 * 997) in the same stage; {@link PerSample} does the same one sample at a time in a fused map, so
 * the two deliver the same bytes; {@link Throws} fails on the third batch it is given.
 */
public final class Inverted implements PipelineDefinition {
  static Pipeline base() {
    return Pipeline.from(Shards.of("file:///nowhere/part-0.tar"))
        .filter(s -> s.member("jpg").isPresent())
        .decode(Decode.images(32, 32))
        .batch(4);
  }

  static Batch invert(Batch b) {
    Batch.Pictures p = b.pictures().orElseThrow();
    byte[] rgb = p.rgb();
    int[][] brightness = new int[b.size()][];
    int one = rgb.length / b.size();
    for (int i = 0; i < b.size(); i++) {
      long sum = 0;
      for (int k = i * one; k < (i + 1) * one; k++) {
        rgb[k] = (byte) (255 - (rgb[k] & 0xff));
        sum += rgb[k] & 0xff;
      }
      brightness[i] = new int[] {(int) (sum % 997)};
    }
    return b.withPictures(p).withTokens("brightness", brightness);
  }

  @Override
  public Pipeline define() {
    return base().mapBatches("invert", (b, r) -> invert(b));
  }

  /** The same, one sample at a time, fused in the decoders. */
  public static final class PerSample implements PipelineDefinition {
    @Override
    public Pipeline define() {
      return base().map(Stage.of((s, r) -> {
        Decoded d = s.decoded().orElseThrow();
        byte[] rgb = d.image().orElseThrow().rgb();
        long sum = 0;
        for (int k = 0; k < rgb.length; k++) {
          rgb[k] = (byte) (255 - (rgb[k] & 0xff));
          sum += rgb[k] & 0xff;
        }
        return s.withDecoded(d.withTokens("brightness", new int[] {(int) (sum % 997)}));
      }).named("invert"));
    }
  }

  /** The batch stage failing on the third batch it is given. */
  public static final class Throws implements PipelineDefinition {
    @Override
    public Pipeline define() {
      return base().mapBatches("invert", (b, r) -> {
        if (b.keys().size() > 0 && Throws.third.incrementAndGet() == 3) {
          throw new IllegalStateException("out of memory on the device");
        }
        return invert(b);
      });
    }

    static final java.util.concurrent.atomic.AtomicInteger third = new java.util.concurrent.atomic.AtomicInteger();
  }
}
