package dev.conveyor.streams.sample;

import java.util.Map;
import java.util.Optional;

/**
 * What {@code decode = auto} made of a sample's members: its picture (the first image member),
 * its clip (the first video member) and its text members (by extension). Members of other
 * types stay raw bytes in the sample.
 */
public record Decoded(Optional<Picture> image, Optional<Clip> video, Map<String, String> text) {
  public Decoded {
    text = Map.copyOf(text);
  }

  /** Bytes of the picture and clip tensors. */
  public long tensorBytes() {
    return image.map(p -> (long) p.rgb().length).orElse(0L) + video.map(c -> (long) c.rgb().length).orElse(0L);
  }

  /** RGB uint8, {@code height x width x 3}, and the picture's size before resizing. */
  public record Picture(byte[] rgb, int height, int width, int originalWidth, int originalHeight) {}

  /** RGB uint8, {@code frames x height x width x 3}, which frames of the clip, and its original size. */
  public record Clip(byte[] rgb, int frames, int height, int width, int originalWidth, int originalHeight, int[] frameIndices) {}
}
