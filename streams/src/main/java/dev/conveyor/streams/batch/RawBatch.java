package dev.conveyor.streams.batch;

import dev.conveyor.streams.sample.RawSample;
import java.util.List;

/**
 * One batch of one rank: samples with undecoded bytes, in plan order. {@code step} numbers it
 * within the epoch for record files; {@code index} is its place in the rank's current plan
 * segment, which is what a cursor counts ({@code index + 1} batches delivered). A batch covers
 * a fixed range of plan positions: samples skipped as bad, and the {@code filtered} samples a
 * pipeline's filter left out, leave it shorter, never shifted. In a mix, {@code sources} says
 * what each source gave it. Immutable; the member bytes are shared, never copied.
 *
 * <p>In a recipe of full batches a batch holds {@code batch-size} kept samples, and the
 * filtered and bad ones met on the way: {@code end} is the rank's plan position after it — with
 * {@code endOffset} outputs of the sample there delivered too, when a flatMap made it into
 * several — and {@code ends} and {@code endOffsets} every rank's, once the ranks agreed to
 * deliver it ({@code BatchGate}): what the cursor after it records. They are absent otherwise
 * ({@code -1}, empty).
 */
public record RawBatch(int epoch, int rank, long step, long index, List<RawSample> samples, int filtered,
                       SourceCounts sources, long end, long endOffset, long[] ends, long[] endOffsets)
    implements RankEvent {
  public RawBatch {
    samples = List.copyOf(samples);
    ends = ends.clone();
    endOffsets = endOffsets.clone();
  }

  /** A batch covering a fixed range of plan positions. */
  public RawBatch(int epoch, int rank, long step, long index, List<RawSample> samples, int filtered,
                  SourceCounts sources) {
    this(epoch, rank, step, index, samples, filtered, sources, -1, 0, new long[0], new long[0]);
  }

  /** The same batch with every rank's end position (and offset) after it. */
  public RawBatch withEnds(long[] all, long[] offsets) {
    return new RawBatch(epoch, rank, step, index, samples, filtered, sources, end, endOffset, all, offsets);
  }

  @Override
  public long[] ends() {
    return ends.clone();
  }

  @Override
  public long[] endOffsets() {
    return endOffsets.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RawBatch b && b.epoch == epoch && b.rank == rank && b.step == step && b.index == index
        && b.filtered == filtered && b.end == end && b.endOffset == endOffset && b.samples.equals(samples)
        && b.sources.equals(sources) && java.util.Arrays.equals(b.ends, ends)
        && java.util.Arrays.equals(b.endOffsets, endOffsets);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(epoch, rank, step, index, samples, filtered, sources, end, endOffset)
        + 31 * java.util.Arrays.hashCode(ends) + 961 * java.util.Arrays.hashCode(endOffsets);
  }

  @Override
  public String toString() {
    return "RawBatch[epoch=" + epoch + ", rank=" + rank + ", step=" + step + ", index=" + index + ", samples=" + samples
        + ", filtered=" + filtered + ", sources=" + sources + (end < 0 ? "" : ", end=" + end + "+" + endOffset
        + ", ends=" + java.util.Arrays.toString(ends) + "+" + java.util.Arrays.toString(endOffsets)) + "]";
  }

  /** A batch of a job that mixes nothing. */
  public RawBatch(int epoch, int rank, long step, long index, List<RawSample> samples, int filtered) {
    this(epoch, rank, step, index, samples, filtered, SourceCounts.NONE);
  }

  /** A batch nothing was filtered from. */
  public RawBatch(int epoch, int rank, long step, long index, List<RawSample> samples) {
    this(epoch, rank, step, index, samples, 0);
  }

  public long bytes() {
    long n = 0;
    for (RawSample s : samples) {
      n += s.bytes();
    }
    return n;
  }
}
