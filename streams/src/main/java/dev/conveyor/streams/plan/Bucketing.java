package dev.conveyor.streams.plan;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;

/**
 * Length buckets: a sample whose token array {@code field} holds {@code n} tokens goes to bucket
 * {@code i}, the number of {@code boundaries} at or below {@code n} (bucket 0 below the first
 * boundary, the last at or above the last), and a batch is {@code batchSizes[i]} samples of one
 * bucket — a token budget per bucket, fewer long samples than short ones.
 *
 * <p>A rank fills its buckets one pool at a time: its next {@code pool} kept samples (a
 * flatMap's outputs each count, a slot's outputs never split between pools), placed in plan
 * order, each batch made as its bucket fills; what the buckets hold when the pool closes is left
 * out (counted as filtered). So where a batch ends is a pool: the cursor records the pool's first
 * position and, until its last batch is delivered, a {@link #mark} of the batches of it delivered
 * and its length in positions. A resume reads that pool again and skips the batches delivered:
 * at most one pool is read twice.
 */
public record Bucketing(String field, int[] boundaries, int[] batchSizes, int pool) implements BatchShape {
  public Bucketing {
    requireNonNull(field, "field is null");
    boundaries = boundaries.clone();
    batchSizes = batchSizes.clone();
    if (field.isBlank()) {
      throw new IllegalArgumentException("bucketing needs a token field");
    }
    for (int i = 0; i < boundaries.length; i++) {
      if (boundaries[i] < 1 || (i > 0 && boundaries[i] <= boundaries[i - 1])) {
        throw new IllegalArgumentException("bucket boundaries are token counts above 0, each above the one before, got "
            + Arrays.toString(boundaries));
      }
    }
    if (batchSizes.length != boundaries.length + 1) {
      throw new IllegalArgumentException(boundaries.length + " boundaries make " + (boundaries.length + 1)
          + " buckets, which need as many batch sizes, got " + batchSizes.length);
    }
    for (int b : batchSizes) {
      if (b < 1) {
        throw new IllegalArgumentException("a bucket's batch size is at least 1, got " + Arrays.toString(batchSizes));
      }
    }
    if (pool < Arrays.stream(batchSizes).max().orElse(1)) {
      throw new IllegalArgumentException("a pool of " + pool + " samples cannot fill a batch of "
          + Arrays.stream(batchSizes).max().orElse(1) + ": make it at least the largest batch size");
    }
  }

  /** The bucket of a sample of {@code length} tokens. */
  public int bucketOf(int length) {
    int i = 0;
    while (i < boundaries.length && length >= boundaries[i]) {
      i++;
    }
    return i;
  }

  @Override
  public int[] boundaries() {
    return boundaries.clone();
  }

  @Override
  public int[] batchSizes() {
    return batchSizes.clone();
  }

  /** The smallest batch: a part of {@code n} positions gives at most {@code n / smallest()} batches. */
  public int smallest() {
    return Arrays.stream(batchSizes).min().orElse(1);
  }

  /**
   * The cursor's offset at a pool's first position once {@code batches} of its batches are
   * delivered (not all): those batches, and the pool's {@code length} in positions.
   */
  public static long mark(long batches, long length) {
    if (batches < 1 || batches > Integer.MAX_VALUE || length < 1 || length > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException("a pool mark of " + batches + " batches over " + length + " positions");
    }
    return batches << 32 | length;
  }

  /** The batches delivered that {@code mark} records. */
  public static long batchesOf(long mark) {
    return mark >>> 32;
  }

  /** The pool's length in positions that {@code mark} records. */
  public static long lengthOf(long mark) {
    return mark & 0xFFFF_FFFFL;
  }

  @Override
  public String describe() {
    return field + "," + Arrays.toString(boundaries) + "," + Arrays.toString(batchSizes) + "," + pool;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Bucketing b && field.equals(b.field) && Arrays.equals(boundaries, b.boundaries)
        && Arrays.equals(batchSizes, b.batchSizes) && pool == b.pool;
  }

  @Override
  public int hashCode() {
    return field.hashCode() * 31 + Arrays.hashCode(boundaries) * 17 + Arrays.hashCode(batchSizes) + pool;
  }

  @Override
  public String toString() {
    return "Bucketing[" + describe() + "]";
  }
}
