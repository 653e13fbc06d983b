package dev.conveyor.streams.batch;

import java.util.Arrays;

/**
 * What each source of a mix gave a batch (or a run): samples delivered, samples a filter left
 * out, samples skipped as bad — indexed by the source's place in the mix. Empty for a job that
 * mixes nothing.
 */
public record SourceCounts(long[] samples, long[] filtered, long[] bad) {
  /** No sources: a job that mixes nothing. */
  public static final SourceCounts NONE = new SourceCounts(new long[0], new long[0], new long[0]);

  public SourceCounts {
    if (samples.length != filtered.length || samples.length != bad.length) {
      throw new IllegalArgumentException("counts for " + samples.length + ", " + filtered.length + " and " + bad.length
          + " sources");
    }
    samples = samples.clone();
    filtered = filtered.clone();
    bad = bad.clone();
  }

  /** Nothing yet, for {@code sources} sources. */
  public static SourceCounts zero(int sources) {
    return new SourceCounts(new long[sources], new long[sources], new long[sources]);
  }

  public int sources() {
    return samples.length;
  }

  /** These counts and {@code other}'s, source by source. */
  public SourceCounts plus(SourceCounts other) {
    if (other.sources() == 0) {
      return this;
    }
    if (sources() == 0) {
      return other;
    }
    long[] s = samples.clone();
    long[] f = filtered.clone();
    long[] b = bad.clone();
    for (int i = 0; i < s.length; i++) {
      s[i] += other.samples[i];
      f[i] += other.filtered[i];
      b[i] += other.bad[i];
    }
    return new SourceCounts(s, f, b);
  }

  @Override
  public long[] samples() {
    return samples.clone();
  }

  @Override
  public long[] filtered() {
    return filtered.clone();
  }

  @Override
  public long[] bad() {
    return bad.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SourceCounts c && Arrays.equals(samples, c.samples) && Arrays.equals(filtered, c.filtered)
        && Arrays.equals(bad, c.bad);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(samples) * 31 + Arrays.hashCode(filtered) * 17 + Arrays.hashCode(bad);
  }

  @Override
  public String toString() {
    return "SourceCounts[samples=" + Arrays.toString(samples) + ", filtered=" + Arrays.toString(filtered) + ", bad="
        + Arrays.toString(bad) + "]";
  }
}
