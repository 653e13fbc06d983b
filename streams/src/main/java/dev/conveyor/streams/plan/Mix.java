package dev.conveyor.streams.plan;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;

/**
 * How a mixed recipe's sources share each batch. Each source is a contiguous range of the
 * recipe's shards with a weight; weights are taken to one part in a million of their sum.
 *
 * <p>{@link Batching#STRATIFIED} (the default): batch {@code k} holds {@code floor(w·B)} or
 * {@code floor(w·B) + 1} samples of a source of weight {@code w}; the extra samples of each batch
 * go to the sources furthest behind their share so far (largest remainder, the remainders carried
 * from batch to batch), so after any number of batches each source's running total is within one
 * sample of {@code w·B·k}. {@link Batching#PER_SOURCE}: each batch comes whole from one source,
 * the sources taking turns by the same rule with whole batches as the unit.
 *
 * <p>An epoch ends when a source that does not repeat cannot fill its share of the next batch on
 * every rank; a repeating source starts another pass, in an order of its own, whenever it runs
 * out. At least one source must not repeat.
 */
public record Mix(List<Source> sources, Batching batching) {
  /** Parts per million: a weight's resolution. */
  static final long RESOLUTION = 1_000_000;

  /** Each batch holds every source's share, or each batch comes from one source. */
  public enum Batching { STRATIFIED, PER_SOURCE }

  /**
   * A source: shards {@code [firstShard, firstShard + shards)} of the recipe, its weight, whether
   * it starts another pass when it runs out, and the name it is counted under.
   */
  public record Source(String name, int firstShard, int shards, double weight, boolean repeat) {
    public Source {
      requireNonNull(name, "name is null");
      if (!(weight > 0) || Double.isInfinite(weight)) {
        throw new IllegalArgumentException("source " + name + ": a weight must be a positive number, got " + weight);
      }
      if (firstShard < 0 || shards < 0) {
        throw new IllegalArgumentException("source " + name + ": bad shard range");
      }
    }
  }

  public Mix {
    sources = List.copyOf(sources);
    requireNonNull(batching, "batching is null");
    if (sources.isEmpty()) {
      throw new IllegalArgumentException("a mix needs at least one source");
    }
    if (sources.stream().allMatch(Source::repeat)) {
      throw new IllegalArgumentException("every source repeats, so nothing ends an epoch: at least one source needs"
          + " repeat = false");
    }
  }

  /** Each source's weight in parts of {@link #denominator()}. */
  long[] parts() {
    double sum = sources.stream().mapToDouble(Source::weight).sum();
    long[] p = new long[sources.size()];
    for (int s = 0; s < p.length; s++) {
      p[s] = Math.max(1, Math.round(sources.get(s).weight() / sum * RESOLUTION));
    }
    return p;
  }

  long denominator() {
    long d = 0;
    for (long p : parts()) {
      d += p;
    }
    return d;
  }

  /** The batches' compositions from batch 0 of a segment on, for batches of {@code batch} samples. */
  public Schedule schedule(int batch) {
    return new Schedule(this, batch);
  }

  /**
   * The rule that decides an epoch's length (and so which samples are left over), named in the
   * fingerprint: a build that changed it would refuse the cursors of this one rather than
   * resume them into other batches.
   */
  static final String EPOCH_RULE = "whole-batches-the-non-repeating-sources-fill-v1";

  /** What the fingerprint says of the mix: names, shard ranges, weights in parts, repeats, batching, epoch rule. */
  String describe() {
    long[] p = parts();
    List<String> out = new ArrayList<>();
    for (int s = 0; s < p.length; s++) {
      Source src = sources.get(s);
      out.add(src.name() + ":" + src.firstShard() + "+" + src.shards() + ":" + p[s] + ":" + src.repeat());
    }
    return String.join(",", out) + ";" + batching + ";" + EPOCH_RULE;
  }

  /**
   * The samples each source gives batch after batch: a pure function of the mix, the batch size
   * and the batch's index in its segment. Steps forward only; {@link #taken} replays from 0.
   */
  public static final class Schedule {
    private final long[] parts;
    private final long denominator;
    private final int batch;
    private final int units;
    private final long[] carry;
    private final long[] taken;
    private long k;

    Schedule(Mix mix, int batch) {
      this.parts = mix.parts();
      this.denominator = mix.denominator();
      this.batch = batch;
      this.units = mix.batching() == Batching.STRATIFIED ? batch : 1;
      this.carry = new long[parts.length];
      this.taken = new long[parts.length];
    }

    /** Batches composed so far. */
    public long batches() {
      return k;
    }

    /** Samples each source gave the batches so far. */
    public long[] taken() {
      return taken.clone();
    }

    /** Samples source {@code s} gave the batches so far. */
    public long taken(int s) {
      return taken[s];
    }

    /** The next batch's samples per source (summing to the batch size). */
    public int[] next() {
      int n = parts.length;
      int[] counts = new int[n];
      long[] rest = new long[n];
      long given = 0;
      for (int s = 0; s < n; s++) {
        long quota = parts[s] * units;
        counts[s] = (int) (quota / denominator);
        rest[s] = quota % denominator + carry[s];
        given += counts[s];
      }
      // the units left go one each to the sources with the largest remainders, carried over; ties to the first
      boolean[] extra = new boolean[n];
      for (long left = units - given; left > 0; left--) {
        int best = -1;
        for (int s = 0; s < n; s++) {
          if (!extra[s] && (best < 0 || rest[s] > rest[best])) {
            best = s;
          }
        }
        extra[best] = true;
        counts[best]++;
        rest[best] -= denominator;
      }
      for (int s = 0; s < n; s++) {
        carry[s] = rest[s];
        if (units != batch) {
          counts[s] *= batch; // per source: whole batches
        }
        taken[s] += counts[s];
      }
      k++;
      return counts;
    }

    /** Steps forward to {@code batches} batches composed (never back). */
    public void advanceTo(long batches) {
      if (batches < k) {
        throw new IllegalArgumentException("a schedule steps forward only: at " + k + ", asked for " + batches);
      }
      while (k < batches) {
        next();
      }
    }
  }

  /** Samples each source gives the first {@code batches} batches of a segment. */
  public long[] taken(int batch, long batches) {
    Schedule s = schedule(batch);
    s.advanceTo(batches);
    return s.taken();
  }
}
