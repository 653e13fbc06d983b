package dev.conveyor.streams.plan;

/**
 * Where the samples of a mixed rank's stream come from. A rank's stream is its batches' shares
 * one after another — the {@link Mix.Schedule}'s group {@code g} is positions
 * {@code [g*B, (g+1)*B)}, source by source — so a position names a source and the index of a
 * sample in that source's sequence, and back. Both are pure functions of the mix and the batch
 * size, counted from the segment's batch 0 (O(groups) each).
 */
public final class MixPositions {
  private MixPositions() {}

  /** The sample of source {@code source} at index {@code index} of its sequence. */
  public record Place(int source, long index) {}

  /** Samples of each source at positions before {@code position}. */
  public static long[] before(Mix mix, int batch, long position) {
    Mix.Schedule s = mix.schedule(batch);
    s.advanceTo(position / batch);
    long[] out = s.taken();
    int[] counts = s.next();
    long rest = position % batch;
    for (int t = 0; t < counts.length && rest > 0; t++) {
      long n = Math.min(rest, counts[t]);
      out[t] += n;
      rest -= n;
    }
    return out;
  }

  /** The source and index of the sample at {@code position}. */
  public static Place at(Mix mix, int batch, long position) {
    Mix.Schedule s = mix.schedule(batch);
    s.advanceTo(position / batch);
    long[] taken = s.taken();
    int[] counts = s.next();
    long rest = position % batch;
    for (int t = 0; ; t++) {
      if (rest < counts[t]) {
        return new Place(t, taken[t] + rest);
      }
      rest -= counts[t];
    }
  }

  /** The position of {@code place}, which the first {@code groups} groups hold. */
  public static long position(Mix mix, int batch, Place place, long groups) {
    Mix.Schedule s = mix.schedule(batch);
    while (s.batches() < groups) {
      long before = s.taken(place.source());
      long start = s.batches() * batch;
      int[] counts = s.next();
      if (place.index() < before + counts[place.source()]) {
        for (int t = 0; t < place.source(); t++) {
          start += counts[t];
        }
        return start + place.index() - before;
      }
    }
    throw new IllegalArgumentException("sample " + place.index() + " of source " + place.source() + " is not in the first "
        + groups + " batches' shares");
  }

  /**
   * The source of each position of a stream, positions asked in order from {@code first} on:
   * one step of the schedule per group, so a whole stream costs what its schedule does.
   */
  public static final class Walk {
    private final Mix.Schedule schedule;
    private final int batch;
    private long group;
    private int[] shares;

    public Walk(Mix mix, int batch, long first) {
      this.schedule = mix.schedule(batch);
      this.batch = batch;
      this.group = first / batch;
      schedule.advanceTo(group);
      this.shares = schedule.next();
    }

    /** The source of the sample at {@code position} (no earlier than the last asked). */
    public int sourceAt(long position) {
      while (position >= (group + 1) * batch) {
        shares = schedule.next();
        group++;
      }
      long offset = position - group * batch;
      for (int s = 0; s < shares.length; s++) {
        if (offset < shares[s]) {
          return s;
        }
        offset -= shares[s];
      }
      throw new IllegalStateException("position " + position + " outside its batch's shares");
    }
  }
}
