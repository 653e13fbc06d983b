package dev.conveyor.streams.dsl;

import dev.conveyor.config.Resources;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a pipeline decodes: the {@code conveyor.decode} settings it sets, in code. Every member a
 * decoder knows is decoded (images and video to RGB, text to strings); {@link #images} and
 * {@link #clips} set the sizes, the rest stays as reference.conf (or the job file) says:
 * <pre>{@code
 * Decode.images(224, 224).randomCrop().flip()    // shorter side to 224, a seeded 224 x 224 crop
 * Decode.clips(8, 112, 112).stride(4)            // 8 frames, every 4th from a seeded start
 * }</pre>
 * Immutable.
 */
public final class Decode {
  private static final String D = "conveyor.decode.";
  private final Map<String, Object> settings;
  private final double cpus;
  private final int concurrency;

  private Decode(Map<String, Object> settings, double cpus, int concurrency) {
    this.settings = Map.copyOf(settings);
    this.cpus = cpus;
    this.concurrency = concurrency;
  }

  /** Every member a decoder knows decoded with the sizes of reference.conf (or the job file). */
  public static Decode auto() {
    return new Decode(Map.of(), 1, 0);
  }

  /** Images to {@code height x width} RGB: shorter side resized to the larger of the two, then a centred crop. */
  public static Decode images(int height, int width) {
    return new Decode(Map.of(), 1, 0).withImages(height, width);
  }

  /** Clips to {@code frames x height x width} RGB, frames spread evenly over each clip. */
  public static Decode clips(int frames, int height, int width) {
    return new Decode(Map.of(), 1, 0).withClips(frames, height, width);
  }

  /** Images as well, to {@code height x width}. */
  public Decode withImages(int height, int width) {
    positive("height", height);
    positive("width", width);
    return with(D + "image.crop-height", height).with(D + "image.crop-width", width)
        .with(D + "image.short-side", Math.max(height, width));
  }

  /** Clips as well, {@code frames x height x width}. */
  public Decode withClips(int frames, int height, int width) {
    positive("frames", frames);
    positive("height", height);
    positive("width", width);
    return with(D + "video.frames", frames).with(D + "video.crop-height", height).with(D + "video.crop-width", width)
        .with(D + "video.short-side", Math.max(height, width));
  }

  /** Images resized so that their shorter side is {@code n} before the crop (torchvision's Resize(n)). */
  public Decode shortSide(int n) {
    positive("short side", n);
    return with(D + "image.short-side", n);
  }

  /** Clips' frames taken every {@code n}th from a seeded start rather than spread evenly. */
  public Decode stride(int n) {
    positive("stride", n);
    return with(D + "video.sampling", "stride").with(D + "video.stride", n);
  }

  /** The crop at a seeded random place rather than centred. */
  public Decode randomCrop() {
    return with(D + "augment.random-crop", true);
  }

  /** A seeded horizontal flip of half the samples. */
  public Decode flip() {
    return with(D + "augment.horizontal-flip", true);
  }

  /** JSON members reduced to these top-level fields. */
  public Decode textFields(String... fields) {
    return with(D + "text.fields", List.of(fields));
  }

  /** What one decoder takes of a node (default one CPU). */
  public Decode resources(Resources r) {
    if (!(r.cpus() > 0)) {
      throw new IllegalArgumentException("a decoder's cpus are above 0, got " + r.cpus());
    }
    return new Decode(settings, r.cpus(), concurrency);
  }

  /** Exactly {@code n} decoders per worker (default: as many as its CPU slots allow). */
  public Decode concurrency(int n) {
    positive("concurrency", n);
    return new Decode(settings, cpus, n);
  }

  Map<String, Object> settings() {
    return settings;
  }

  double cpus() {
    return cpus;
  }

  int concurrency() {
    return concurrency;
  }

  private Decode with(String key, Object value) {
    Map<String, Object> s = new LinkedHashMap<>(settings);
    s.put(key, value);
    return new Decode(s, cpus, concurrency);
  }

  private static void positive(String what, int n) {
    if (n < 1) {
      throw new IllegalArgumentException("a decode " + what + " is at least 1, got " + n);
    }
  }
}
