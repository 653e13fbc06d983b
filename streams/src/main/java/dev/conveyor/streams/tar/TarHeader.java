package dev.conveyor.streams.tar;

import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;

/**
 * One 512-byte tar header block, decoded. Handles POSIX ustar (with its name prefix), GNU
 * (whose prefix area holds times, not a name) and the base-256 size encoding of large members.
 */
record TarHeader(String name, char type, long size) {
  static final int BLOCK = 512;

  static boolean isZeroBlock(ByteString block) {
    for (int i = 0; i < BLOCK; i++) {
      if (block.apply(i) != 0) {
        return false;
      }
    }
    return true;
  }

  /** Decodes {@code block} (exactly 512 bytes), checking its checksum; {@code offset} is for messages. */
  static TarHeader parse(ByteString block, long offset) {
    byte[] b = block.toArray();
    long stored = parseOctal(b, 148, 8, offset, "checksum");
    long unsigned = 0;
    long signed = 0;
    for (int i = 0; i < BLOCK; i++) {
      int v = (i >= 148 && i < 156) ? ' ' : b[i];
      unsigned += v & 0xff;
      signed += (byte) v;
    }
    if (stored != unsigned && stored != signed) {
      throw new TarFormatException("bad tar header checksum at byte " + offset
          + (offset == 0 ? " (not a tar archive?)" : " (corrupt archive)"));
    }
    char type = (char) (b[156] == 0 ? '0' : b[156]);
    String name = cString(b, 0, 100);
    boolean posixUstar = b[257] == 'u' && b[258] == 's' && b[259] == 't' && b[260] == 'a' && b[261] == 'r' && b[262] == 0;
    if (posixUstar) {
      String prefix = cString(b, 345, 155);
      if (!prefix.isEmpty()) {
        name = prefix + "/" + name;
      }
    }
    long size = parseSize(b, offset);
    return new TarHeader(name, type, size);
  }

  /**
   * Why a member's name is refused, or null: empty, or holding a NUL or another control
   * character (which would also break the one-line records and logs it is written to). Names that
   * are absolute or climb out ({@code ..}) are refused where members become samples
   * ({@code WebDatasetKeys}).
   */
  static String unsafeName(String name) {
    if (name.isEmpty()) {
      return "unsafe member name: empty";
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
        return "unsafe member name: holds " + (c == 0 ? "a NUL" : "the control character U+" + String.format("%04X", (int) c));
      }
    }
    return null;
  }

  /** {@code name} as it may be printed: control characters escaped, at most 256 characters. */
  static String printable(String name) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < name.length() && b.length() < 256; i++) {
      char c = name.charAt(i);
      b.append(c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ? String.format("\\u%04x", (int) c) : String.valueOf(c));
    }
    return b.length() >= 256 && name.length() > 256 ? b + "…" : b.toString();
  }

  static String cString(byte[] b, int from, int len) {
    int end = from;
    while (end < from + len && b[end] != 0) {
      end++;
    }
    return new String(b, from, end - from, StandardCharsets.UTF_8);
  }

  private static long parseSize(byte[] b, long offset) {
    if ((b[124] & 0x80) != 0) {
      // base-256: the rest of the 12 bytes are a big-endian two's-complement number
      long v = b[124] & 0x3f;
      for (int i = 125; i < 136; i++) {
        if ((v >>> 55) != 0) {
          throw new TarFormatException("tar member size overflows at byte " + offset);
        }
        v = (v << 8) | (b[i] & 0xff);
      }
      return v;
    }
    return parseOctal(b, 124, 12, offset, "size");
  }

  private static long parseOctal(byte[] b, int from, int len, long offset, String field) {
    long v = 0;
    int i = from;
    int end = from + len;
    while (i < end && (b[i] == ' ' || b[i] == 0)) {
      i++;
    }
    for (; i < end; i++) {
      byte c = b[i];
      if (c == 0 || c == ' ') {
        break;
      }
      if (c < '0' || c > '7') {
        throw new TarFormatException("bad tar header at byte " + offset + ": " + field
            + " field is not octal" + (offset == 0 ? " (not a tar archive?)" : ""));
      }
      v = (v << 3) | (c - '0');
    }
    return v;
  }
}
