package dev.conveyor.tools.datagen;

/**
 * What {@code conveyor datagen} makes: {@code images} JPEG samples and {@code videos} MP4
 * samples, spread evenly through the key order, in shards of about {@code shardBytes}.
 */
public record DatasetSpec(int images, int videos, long shardBytes, long seed) {
  public DatasetSpec {
    if (images < 0 || videos < 0 || images + videos == 0) {
      throw new IllegalArgumentException("need at least one image or video, got images=" + images + " videos=" + videos);
    }
    if (shardBytes < 1024) {
      throw new IllegalArgumentException("shard size must be at least 1 KiB, got " + shardBytes);
    }
  }

  public int samples() {
    return images + videos;
  }

  /** Whether sample {@code i} is a video: videos fall at evenly spaced positions. */
  boolean isVideo(int i) {
    long n = samples();
    return (long) (i + 1) * videos / n > (long) i * videos / n;
  }
}
