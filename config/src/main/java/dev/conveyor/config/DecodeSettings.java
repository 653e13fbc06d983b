package dev.conveyor.config;

import com.typesafe.config.Config;
import java.util.List;

/** How {@code decode = auto} turns members into tensors: the {@code conveyor.decode} section. */
public record DecodeSettings(Image image, Video video, List<String> textFields, Augment augment, Limits limits, HwAccel hwaccel) {
  public static final String PATH = "conveyor.decode";

  /**
   * Images: shorter side resized to {@code shortSide}, then cropped to {@code cropHeight x
   * cropWidth}; JPEGs decoded by {@code jpeg}.
   */
  public record Image(int shortSide, int cropHeight, int cropWidth, JpegDecoder jpeg) {}

  /**
   * What decodes JPEGs: libjpeg-turbo (the system's, SIMD; DCT-domain scaling, resize and crop
   * in one pass), or FFmpeg's mjpeg decoder (the rest of the images always go through FFmpeg).
   */
  public enum JpegDecoder { LIBJPEG_TURBO, FFMPEG }

  /** Video: {@code frames} frames per sample, resized and cropped like images. */
  public record Video(int frames, Sampling sampling, int stride, int shortSide, int cropHeight, int cropWidth, ShortClips shortClips) {}

  public record Augment(boolean randomCrop, boolean horizontalFlip) {}

  public record Limits(long maxPixels, int maxFrames, long timeoutMillis) {}

  public enum Sampling { UNIFORM, STRIDE }

  public enum ShortClips { PAD, SKIP }

  public enum HwAccel { NONE, CUDA }

  public DecodeSettings {
    textFields = List.copyOf(textFields);
  }

  public static DecodeSettings fromConfig(Config config) {
    ConfigReader r = new ConfigReader(config, PATH);
    Image image = new Image(r.intAtLeast("image.short-side", 1), r.intAtLeast("image.crop-height", 1),
        r.intAtLeast("image.crop-width", 1), r.enumValue("image.jpeg", JpegDecoder.class));
    if (image.cropHeight() > image.shortSide() && image.cropWidth() > image.shortSide()) {
      throw new SettingsException(r.key("image.crop-height"), "a crop larger than short-side on both sides cannot be cut");
    }
    Video video = new Video(r.intAtLeast("video.frames", 1), r.enumValue("video.sampling", Sampling.class),
        r.intAtLeast("video.stride", 1), r.intAtLeast("video.short-side", 1), r.intAtLeast("video.crop-height", 1),
        r.intAtLeast("video.crop-width", 1), r.enumValue("video.short-clips", ShortClips.class));
    List<String> fields;
    try {
      fields = config.getStringList(PATH + ".text.fields");
    } catch (com.typesafe.config.ConfigException e) {
      throw new SettingsException(r.key("text.fields"), "must be a list of field names, e.g. [caption, label]");
    }
    return new DecodeSettings(image, video, fields,
        new Augment(r.bool("augment.random-crop"), r.bool("augment.horizontal-flip")),
        new Limits(r.longAtLeast("limits.max-pixels", 1), r.intAtLeast("limits.max-frames", 1),
            r.durationMillisAtLeast("limits.timeout", 1)),
        r.enumValue("hwaccel", HwAccel.class));
  }

  /** A canonical text of every setting, for the recipe fingerprint. */
  public String canonical() {
    return toString();
  }
}
