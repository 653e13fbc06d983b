package dev.conveyor.streams.decode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JPEG to RGB with the system's libjpeg-turbo, through Conveyor's own JNI library
 * ({@code streams/src/main/c/conveyor_jpeg.c}, built with the module and carried in its jar):
 * the picture is decoded at the smallest DCT scale (N/8) that still covers the size wanted,
 * then resized (bilinear) and cropped in one pass into the caller's array; at the exact size,
 * only the rows the crop needs are decoded, straight into it. Thread-safe: no state is shared.
 */
final class TurboJpeg {
  private static final Logger LOG = LoggerFactory.getLogger(TurboJpeg.class);

  /** Where the library is in the jar. */
  static final String RESOURCE = "/dev/conveyor/streams/decode/native/linux-x86_64/libconveyor-jpeg.so";

  /** What the library answers for a CMYK or YCCK JPEG, which libjpeg does not turn into RGB. */
  static final String UNSUPPORTED_COLOURS = "CMYK or YCCK colours";

  /** Why the library could not be loaded, or empty when it was. */
  private static final Optional<String> UNAVAILABLE = load();

  private TurboJpeg() {}

  /** Whether JPEGs can be decoded here; else {@link #unavailable()} says why. */
  static boolean available() {
    return UNAVAILABLE.isEmpty();
  }

  static Optional<String> unavailable() {
    return UNAVAILABLE;
  }

  private static Optional<String> load() {
    String platform = System.getProperty("os.name") + "/" + System.getProperty("os.arch");
    if (!platform.equals("Linux/amd64")) {
      return Optional.of("the JNI library is built for Linux x86-64, this is " + platform);
    }
    try (InputStream in = TurboJpeg.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        return Optional.of(RESOURCE + " is not on the class path (built without gcc or libjpeg62-turbo-dev?)");
      }
      Path file = Files.createTempFile("conveyor-jpeg", ".so");
      try {
        Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        System.load(file.toString());
      } finally {
        // loaded, it stays mapped: the file goes at once, not at exit (a killed process never exits)
        Files.deleteIfExists(file);
      }
      return Optional.empty();
    } catch (IOException | UnsatisfiedLinkError | SecurityException e) {
      return Optional.of("the JNI library did not load: " + e.getMessage()
          + " (it needs the system's libjpeg.so.62: apt-get install libjpeg62-turbo)");
    }
  }

  /** Says once, per process, that JPEGs go to FFmpeg instead and why. */
  static void warnUnavailableOnce() {
    if (WARNED.compareAndSet(false, true)) {
      LOG.warn("JPEGs are decoded by FFmpeg, not libjpeg-turbo: {}", UNAVAILABLE.orElse("?"));
    }
  }

  private static final java.util.concurrent.atomic.AtomicBoolean WARNED = new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Decodes {@code src} (a {@code width x height} JPEG) into {@code out}: the picture resized
   * to {@code geo}'s scaled size and cropped, RGB, rows of {@code geo.cropWidth()} pixels.
   * Returns the DCT scale used (N of N/8), or 0 when the JPEG's colours are CMYK or YCCK,
   * which libjpeg does not turn into RGB ({@code out} untouched: decode it otherwise).
   */
  static int decode(byte[] src, int width, int height, Geometry geo, byte[] out) throws DecodeException {
    int[] scale = new int[1];
    String why = decode(src, 0, src.length, width, height, geo.scaledWidth(), geo.scaledHeight(), geo.cropX(),
        geo.cropY(), geo.cropWidth(), geo.cropHeight(), geo.flip(), out, scale);
    if (UNSUPPORTED_COLOURS.equals(why)) {
      return 0;
    }
    if (why != null) {
      throw new DecodeException("not a decodable image: " + why);
    }
    return scale[0];
  }

  private static native String decode(byte[] src, int offset, int length, int width, int height, int scaledWidth,
                                      int scaledHeight, int cropX, int cropY, int cropWidth, int cropHeight,
                                      boolean flip, byte[] out, int[] scale);
}
