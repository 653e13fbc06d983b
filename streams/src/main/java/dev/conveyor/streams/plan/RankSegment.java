package dev.conveyor.streams.plan;

import java.util.List;

/**
 * What one rank delivers in one epoch at one world size: the window slices it reads, in order
 * ({@code size} positions in all), cut into {@code steps} batches — batch {@code k} is positions
 * {@code [k*batch, min((k+1)*batch, size))}, so every rank of the world steps the same number
 * of times. Delivery starts at batch {@code firstBatch} (later than 0 after a resume).
 * Digest and key files number a batch {@code stepBase + k}.
 *
 * @param dropped samples of this split that no rank delivers (drop-last remainder)
 */
public record RankSegment(
    int epoch, int rank, int world, List<WindowSlice> windows, long size, long steps, long firstBatch,
    long stepBase, int batch, long dropped) {

  public RankSegment {
    windows = List.copyOf(windows);
  }

  /** Positions of batch {@code k}: {@code [from, to)}. */
  public long batchStart(long k) {
    return Math.min(k * batch, size);
  }

  public long batchEnd(long k) {
    return Math.min((k + 1) * batch, size);
  }

  /** The window slices still to read, starting at batch {@link #firstBatch}. */
  public List<WindowSlice> toRead() {
    return Sequences.drop(windows, batchStart(firstBatch));
  }
}
