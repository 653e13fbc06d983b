package dev.conveyor.streams.plan;

import java.util.List;
import java.util.Optional;

/**
 * What one rank delivers in one epoch at one world size: the window slices it reads, in order
 * ({@code size} positions in all), cut into {@code steps} batches — batch {@code k} is positions
 * {@code [k*batch, min((k+1)*batch, size))}, so every rank of the world steps the same number
 * of times. Delivery starts at batch {@code firstBatch} (later than 0 after a resume).
 * Digest and key files number a batch {@code stepBase + k}.
 *
 * <p>In a mix, the positions are the batches' ({@code size = steps * batch}), each batch filled
 * source by source from {@code mixed}'s sequences, and {@code windows} is empty.
 *
 * <p>With full batches ({@code full}) a batch is the next {@code batch} kept samples, however
 * many positions that takes: {@code steps} is then only the most the part could give (nothing
 * filtered), delivery starts at position {@code firstPosition}, and how many batches the epoch
 * has is decided as the ranks read ({@code BatchGate}). {@code skips} names the samples a
 * flatMap made into several of which some outputs were delivered already (position in the part →
 * outputs delivered; with token packing, tokens used; with length buckets, the {@link Bucketing#mark}
 * of the pool starting there): a resume goes on at the next.
 *
 * @param dropped samples of this split that no rank delivers (drop-last remainder; in a mix,
 *                what its sources that do not repeat hold beyond the epoch's last whole batch)
 */
public record RankSegment(
    int epoch, int rank, int world, List<WindowSlice> windows, long size, long steps, long firstBatch,
    long stepBase, int batch, long dropped, Optional<MixedReads> mixed, long firstPosition, boolean full,
    java.util.Map<Long, Long> skips, Optional<BatchShape> shape) {

  public RankSegment {
    windows = List.copyOf(windows);
    skips = java.util.Map.copyOf(skips);
    if (firstPosition < 0 || firstPosition > size) {
      throw new IllegalArgumentException("first position " + firstPosition + " outside a part of " + size);
    }
  }

  /** A segment whose batches cover fixed ranges of positions, starting at batch {@code firstBatch}. */
  public RankSegment(int epoch, int rank, int world, List<WindowSlice> windows, long size, long steps, long firstBatch,
                     long stepBase, int batch, long dropped, Optional<MixedReads> mixed) {
    this(epoch, rank, world, windows, size, steps, firstBatch, stepBase, batch, dropped, mixed,
        Math.min(firstBatch * batch, size), false, java.util.Map.of(), Optional.empty());
  }

  /** Its token packing, if it packs. */
  public Optional<Packing> packing() {
    return shape.filter(Packing.class::isInstance).map(Packing.class::cast);
  }

  /** Its length buckets, if it has them. */
  public Optional<Bucketing> bucketing() {
    return shape.filter(Bucketing.class::isInstance).map(Bucketing.class::cast);
  }

  /** The outputs of the sample at part position {@code position} delivered before this segment (0: none). */
  public long skip(long position) {
    return skips.getOrDefault(position, 0L);
  }

  /** A segment of a recipe that mixes nothing. */
  public RankSegment(int epoch, int rank, int world, List<WindowSlice> windows, long size, long steps, long firstBatch,
                     long stepBase, int batch, long dropped) {
    this(epoch, rank, world, windows, size, steps, firstBatch, stepBase, batch, dropped, Optional.empty());
  }

  /** Positions of batch {@code k}: {@code [from, to)}. */
  public long batchStart(long k) {
    return Math.min(k * batch, size);
  }

  public long batchEnd(long k) {
    return Math.min((k + 1) * batch, size);
  }

  /** The window slices still to read, starting at batch {@link #firstBatch} (in a mix, source after source). */
  public List<WindowSlice> toRead() {
    if (mixed.isPresent()) {
      List<WindowSlice> all = new java.util.ArrayList<>();
      for (int s = 0; s < mixed.get().sequences().size(); s++) {
        all.addAll(mixed.get().toRead(s));
      }
      return all;
    }
    return Sequences.drop(windows, firstPosition);
  }
}
