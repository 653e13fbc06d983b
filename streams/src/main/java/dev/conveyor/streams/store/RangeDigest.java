package dev.conveyor.streams.store;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;
import org.apache.pekko.util.ByteString;

/**
 * The CRC32C of each sample of a byte range as its bytes stream by ({@link ShardIndex}'s
 * checksums): given the samples' boundaries, and optionally the checksums they must have.
 * Made by the indexer to compute them and by readers to check them.
 */
public final class RangeDigest {
  private final long[] bounds;
  private final int[] expected; // null: computing, nothing to compare with
  private final int[] got;
  private final CRC32C crc = new CRC32C();
  private long position;
  private int sample;
  private int firstBad = -1;

  /** Samples {@code i} of the range are {@code [bounds[i], bounds[i + 1])}; {@code expected} may be null. */
  public RangeDigest(long[] bounds, int[] expected) {
    this.bounds = bounds.clone();
    this.expected = expected;
    this.got = new int[bounds.length - 1];
    this.position = bounds[0];
    closeEmpty();
  }

  /** Checks {@code range}'s samples against their index checksums. */
  public static RangeDigest of(ShardIndex.Range range) {
    return new RangeDigest(range.bounds(), range.crc32c());
  }

  /** Feeds the next bytes; returns the position (in {@code bounds}) of the first sample so far that did not match, or -1. */
  public int update(ByteString bytes) {
    for (ByteBuffer bb : bytes.getByteBuffers()) {
      while (bb.hasRemaining()) {
        if (sample >= got.length) {
          position += bb.remaining(); // past the range: counted, so that the length check fails
          bb.position(bb.limit());
          break;
        }
        int n = (int) Math.min(bb.remaining(), bounds[sample + 1] - position);
        ByteBuffer part = bb.slice();
        part.limit(n);
        crc.update(part);
        bb.position(bb.position() + n);
        position += n;
        closeEmpty();
      }
    }
    return firstBad;
  }

  /** Finishes the samples that end where the bytes so far end. */
  private void closeEmpty() {
    while (sample < got.length && position == bounds[sample + 1]) {
      got[sample] = (int) crc.getValue();
      crc.reset();
      if (expected != null && firstBad < 0 && got[sample] != expected[sample]) {
        firstBad = sample;
      }
      sample++;
    }
  }

  /** Samples of the range whose bytes have all arrived (checked or not). */
  public int completed() {
    return sample;
  }

  /** The checksum sample {@code i} of the range arrived with (it must have {@linkplain #completed() completed}). */
  public int checksum(int i) {
    if (i >= sample) {
      throw new IllegalArgumentException("sample " + i + " of the range has not arrived whole");
    }
    return got[i];
  }

  /** Whether more bytes arrived than the range holds. */
  public boolean ranLong() {
    return position > bounds[bounds.length - 1];
  }

  /** Where sample {@code i} of the range begins ({@code i} = the sample count: where the range ends). */
  public long start(int i) {
    return bounds[i];
  }

  /** The checksums of the samples whose bytes have all arrived. */
  public int[] checksums() {
    return java.util.Arrays.copyOf(got, sample);
  }

  /** Why the bytes seen do not match, or null when every sample arrived and matched. */
  public String mismatch() {
    if (firstBad >= 0) {
      return "sample at byte " + bounds[firstBad] + " has crc32c " + Integer.toUnsignedString(got[firstBad])
          + ", but the index says " + Integer.toUnsignedString(expected[firstBad]);
    }
    long want = bounds[bounds.length - 1];
    if (position != want) {
      return "the range [" + bounds[0] + ", " + want + ") ended at byte " + position;
    }
    return null;
  }
}
