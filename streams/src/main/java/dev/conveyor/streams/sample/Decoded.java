package dev.conveyor.streams.sample;

import java.util.Map;
import java.util.Optional;

/**
 * What {@code decode = auto} made of a sample's members: its picture (the first image member),
 * its clip (the first video member) and its text members (by extension). Members of other
 * types stay raw bytes in the sample. {@code tokens} holds int arrays by name — what an
 * author's tokenizing stage made of the text ({@link #withTokens}), and the rows token packing
 * makes of them.
 */
public record Decoded(Optional<Picture> image, Optional<Clip> video, Map<String, String> text,
                      Map<String, int[]> tokens) {
  public Decoded {
    text = Map.copyOf(text);
    tokens = Map.copyOf(tokens);
  }

  /** Pictures, clips and text, no tokens. */
  public Decoded(Optional<Picture> image, Optional<Clip> video, Map<String, String> text) {
    this(image, video, text, Map.of());
  }

  /** The same with {@code tokens} as its field {@code name} (the array is the sample's own from now on). */
  public Decoded withTokens(String name, int[] tokens) {
    java.util.Map<String, int[]> t = new java.util.LinkedHashMap<>(this.tokens);
    t.put(name, tokens);
    return new Decoded(image, video, text, t);
  }

  /** Bytes of the picture, clip and token tensors. */
  public long tensorBytes() {
    long t = 0;
    for (int[] a : tokens.values()) {
      t += 4L * a.length;
    }
    return t + image.map(p -> (long) p.rgb().length).orElse(0L) + video.map(c -> (long) c.rgb().length).orElse(0L);
  }

  /** RGB uint8, {@code height x width x 3}, and the picture's size before resizing. */
  public record Picture(byte[] rgb, int height, int width, int originalWidth, int originalHeight) {}

  /** RGB uint8, {@code frames x height x width x 3}, which frames of the clip, and its original size. */
  public record Clip(byte[] rgb, int frames, int height, int width, int originalWidth, int originalHeight, int[] frameIndices) {}
}
