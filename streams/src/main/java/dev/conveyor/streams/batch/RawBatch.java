package dev.conveyor.streams.batch;

import dev.conveyor.streams.sample.RawSample;
import java.util.List;

/**
 * Batch {@code step} (0-based within {@code epoch}) of one rank: samples with undecoded bytes,
 * in delivery order. Immutable; the member bytes are shared, never copied.
 */
public record RawBatch(int epoch, int rank, long step, List<RawSample> samples) implements RankEvent {
  public RawBatch {
    samples = List.copyOf(samples);
  }

  public long bytes() {
    long n = 0;
    for (RawSample s : samples) {
      n += s.bytes();
    }
    return n;
  }
}
