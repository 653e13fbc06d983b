package dev.conveyor.streams.decode;

import java.util.Optional;

/**
 * Image dimensions read from the file header, before any decoding, so that an image that
 * declares 30000 x 30000 pixels is refused without allocating a byte for it. JPEG (SOF
 * markers), PNG (IHDR) and WebP (VP8, VP8L, VP8X).
 */
final class MediaHeaders {
  private MediaHeaders() {}

  /** Width and height, or empty when the header is not one of the known formats or is cut short. */
  static Optional<int[]> dimensions(byte[] b) {
    if (b.length >= 24 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
      return Optional.of(new int[] {be32(b, 16), be32(b, 20)});
    }
    if (b.length >= 4 && (b[0] & 0xff) == 0xFF && (b[1] & 0xff) == 0xD8) {
      return jpeg(b);
    }
    if (b.length >= 30 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F' && b[8] == 'W' && b[9] == 'E' && b[10] == 'B' && b[11] == 'P') {
      return webp(b);
    }
    return Optional.empty();
  }

  private static Optional<int[]> jpeg(byte[] b) {
    int i = 2;
    while (i + 9 < b.length) {
      if ((b[i] & 0xff) != 0xFF) {
        return Optional.empty();
      }
      int marker = b[i + 1] & 0xff;
      if (marker == 0xFF) {
        i++;
        continue;
      }
      int len = ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
      boolean sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (sof) {
        int h = ((b[i + 5] & 0xff) << 8) | (b[i + 6] & 0xff);
        int w = ((b[i + 7] & 0xff) << 8) | (b[i + 8] & 0xff);
        return Optional.of(new int[] {w, h});
      }
      if (len < 2) {
        return Optional.empty();
      }
      i += 2 + len;
    }
    return Optional.empty();
  }

  private static Optional<int[]> webp(byte[] b) {
    String chunk = new String(b, 12, 4, java.nio.charset.StandardCharsets.US_ASCII);
    switch (chunk) {
      case "VP8 " -> {
        return Optional.of(new int[] {le16(b, 26) & 0x3fff, le16(b, 28) & 0x3fff});
      }
      case "VP8L" -> {
        int v = (b[21] & 0xff) | ((b[22] & 0xff) << 8) | ((b[23] & 0xff) << 16) | ((b[24] & 0xff) << 24);
        return Optional.of(new int[] {(v & 0x3fff) + 1, ((v >> 14) & 0x3fff) + 1});
      }
      case "VP8X" -> {
        int w = 1 + ((b[24] & 0xff) | ((b[25] & 0xff) << 8) | ((b[26] & 0xff) << 16));
        int h = 1 + ((b[27] & 0xff) | ((b[28] & 0xff) << 8) | ((b[29] & 0xff) << 16));
        return Optional.of(new int[] {w, h});
      }
      default -> {
        return Optional.empty();
      }
    }
  }

  private static int be32(byte[] b, int i) {
    return ((b[i] & 0xff) << 24) | ((b[i + 1] & 0xff) << 16) | ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
  }

  private static int le16(byte[] b, int i) {
    return (b[i] & 0xff) | ((b[i + 1] & 0xff) << 8);
  }
}
