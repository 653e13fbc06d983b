package dev.conveyor.streams.decode;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Arrays for decoded pictures, reused: a decoder does not allocate (and zero) a fresh 192 KiB
 * array per 256 x 256 picture, and the collector does not copy it while its batch waits. Into a
 * Python trainer at 2 cores, 16,000 pictures took 146 new arrays; the throughput was the same as
 * with a fresh array each (3,750 images/s, node CPU 6.7 s either way, three runs each): what a
 * picture costs past its decoding is its copy into the ring's slot and the memory traffic of
 * arrays that are never in the cache when they are written (one array reused for every picture,
 * a measurement only, made 4,200), not the allocation.
 *
 * <p>Ownership: the decoder takes an array here and the sample owns it; whoever is the last to
 * read the sample's picture may give the array back — the ring writer, once it has copied the
 * batch into its slot (nothing else holds a batch after that: its report keeps figures, not
 * bytes). An array never given back is collected as any other; one given back while something
 * still reads it would hand that reader another picture's pixels, so nothing else gives arrays
 * back. The decoders write every byte of the picture (black padding included), so a reused
 * array holds nothing of its last picture. At most {@link #MAX_HELD} bytes wait here; the rest
 * go to the collector.
 */
public final class PixelBuffers {
  /** Bytes of idle arrays kept at most: some hundreds of pictures in flight between decoders and rings. */
  static final long MAX_HELD = 96L << 20;

  /** Larger arrays (long clips) are not kept: few, and each would take much of the room. */
  static final int MAX_ARRAY = 8 << 20;

  private static final Map<Integer, ConcurrentLinkedDeque<byte[]>> FREE = new ConcurrentHashMap<>();
  private static final AtomicLong HELD = new AtomicLong();

  private PixelBuffers() {}

  /** An array of {@code length} bytes whose content is undefined: the caller writes every byte. */
  static byte[] take(int length) {
    ConcurrentLinkedDeque<byte[]> q = FREE.get(length);
    byte[] a = q == null ? null : q.pollFirst(); // the most recently given: still in the cache
    if (a == null) {
      return new byte[length];
    }
    HELD.addAndGet(-length);
    return a;
  }

  /** Gives {@code a} back for another picture; the caller and everyone else must not read or write it after this. */
  public static void give(byte[] a) {
    if (a.length == 0 || a.length > MAX_ARRAY) {
      return;
    }
    if (HELD.addAndGet(a.length) > MAX_HELD) {
      HELD.addAndGet(-a.length); // no room: the collector takes it
      return;
    }
    FREE.computeIfAbsent(a.length, n -> new ConcurrentLinkedDeque<>()).offerFirst(a);
  }

  /** Drops every idle array (the next pictures get new ones). */
  static void clear() {
    FREE.values().forEach(q -> {
      for (byte[] a = q.pollFirst(); a != null; a = q.pollFirst()) {
        HELD.addAndGet(-a.length);
      }
    });
  }

  /** Bytes of idle arrays kept now. */
  static long held() {
    return HELD.get();
  }
}
