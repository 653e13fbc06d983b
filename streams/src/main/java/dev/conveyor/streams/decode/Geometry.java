package dev.conveyor.streams.decode;

import java.util.SplittableRandom;

/**
 * Where a decoded picture is resized to and cut: the shorter side scaled to {@code shortSide}
 * (aspect kept), then a {@code cropHeight x cropWidth} window, centred or at a seeded random
 * offset. A crop larger than the resized picture on one side is padded with black there.
 */
record Geometry(int scaledWidth, int scaledHeight, int cropX, int cropY, int cropWidth, int cropHeight, boolean flip) {

  /** Refuses a picture of more than {@code limits.max-pixels}; {@code what} starts the reason. */
  static void checkPixels(String what, long width, long height, dev.conveyor.config.DecodeSettings settings) throws DecodeException {
    long max = settings.limits().maxPixels();
    if (width * height > max) {
      throw new DecodeException(what + " " + width + "x" + height + " pixels, over limits.max-pixels " + max);
    }
  }

  static Geometry of(int width, int height, int shortSide, int cropHeight, int cropWidth, SplittableRandom rnd,
      boolean randomCrop, boolean flip) {
    int sw;
    int sh;
    if (width <= height) {
      sw = shortSide;
      sh = (int) Math.max(1, Math.round((double) height * shortSide / width));
    } else {
      sh = shortSide;
      sw = (int) Math.max(1, Math.round((double) width * shortSide / height));
    }
    int freeX = Math.max(0, sw - cropWidth);
    int freeY = Math.max(0, sh - cropHeight);
    int x = randomCrop ? rnd.nextInt(freeX + 1) : freeX / 2;
    int y = randomCrop ? rnd.nextInt(freeY + 1) : freeY / 2;
    boolean f = flip && rnd.nextBoolean();
    return new Geometry(sw, sh, x, y, cropWidth, cropHeight, f);
  }

  /** Copies the crop of one RGB24 picture (rows {@code stride} bytes apart) into {@code out} at {@code offset}. */
  void copy(java.nio.ByteBuffer src, int stride, byte[] out, int offset) {
    int rowBytes = cropWidth * 3;
    int inside = Math.max(0, Math.min(cropWidth, scaledWidth - cropX)); // crop columns the picture covers
    byte[] row = flip ? new byte[scaledWidth * 3] : null;
    for (int y = 0; y < cropHeight; y++) {
      int dst = offset + y * rowBytes;
      int sy = y + cropY;
      if (sy >= scaledHeight) {
        java.util.Arrays.fill(out, dst, dst + rowBytes, (byte) 0);
        continue;
      }
      if (!flip) {
        src.get(sy * stride + cropX * 3, out, dst, inside * 3); // one bulk copy per row
      } else {
        src.get(sy * stride, row, 0, scaledWidth * 3);
        for (int x = 0; x < inside; x++) {
          int sx = cropX + inside - 1 - x;
          System.arraycopy(row, sx * 3, out, dst + x * 3, 3);
        }
      }
      java.util.Arrays.fill(out, dst + inside * 3, dst + rowBytes, (byte) 0);
    }
  }
}
