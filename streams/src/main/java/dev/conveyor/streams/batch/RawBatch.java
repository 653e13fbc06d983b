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
 */
public record RawBatch(int epoch, int rank, long step, long index, List<RawSample> samples, int filtered,
                       SourceCounts sources)
    implements RankEvent {
  public RawBatch {
    samples = List.copyOf(samples);
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
