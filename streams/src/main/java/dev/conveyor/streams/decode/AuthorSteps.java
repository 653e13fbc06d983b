package dev.conveyor.streams.decode;

import static java.util.Objects.requireNonNull;

import dev.conveyor.streams.plan.Seeds;
import dev.conveyor.streams.plan.StableHash;
import dev.conveyor.streams.sample.Expanded;
import dev.conveyor.streams.sample.Filtered;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.ShardRecord;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A pipeline author's stages as a decoder runs them: maps, filters and flatMaps, each before or
 * after decoding, in the order written. Stage {@code i} draws from its own random stream, seeded
 * by (recipe seed, epoch, shard, sample, {@code SampleMap.MAP_STREAM + i}), so the first stage's
 * stream is the one a lone {@code conveyor.job.map} class has always had; after a flatMap, each
 * output's stream adds the output's number (and so on, for a flatMap after a flatMap). One per decoder: the
 * stages' instances may keep state, and a decoder that restarts makes new ones.
 */
public final class AuthorSteps {
  /** No stages. */
  public static final AuthorSteps NONE = new AuthorSteps(List.of());

  /** One stage of the chain. */
  public sealed interface Step permits Map, Filter, FlatMap {
    String name();

    boolean beforeDecode();
  }

  /** A map: the sample it returns goes on. */
  public record Map(String name, SampleMap fn, boolean beforeDecode) implements Step {
    public Map {
      requireNonNull(name, "name is null");
      requireNonNull(fn, "fn is null");
    }
  }

  /** A filter: a sample it does not keep is {@link Filtered}. */
  public record Filter(String name, SampleFilter fn, boolean beforeDecode) implements Step {
    public Filter {
      requireNonNull(name, "name is null");
      requireNonNull(fn, "fn is null");
    }
  }

  /** A flatMap: each sample it returns goes on, through the stages after it; none leaves the sample out. */
  public record FlatMap(String name, SampleFlatMap fn, boolean beforeDecode) implements Step {
    public FlatMap {
      requireNonNull(name, "name is null");
      requireNonNull(fn, "fn is null");
    }
  }

  private final List<Step> steps;

  /** The stages' place in the whole chain: the number of the first (the chain after a flatMap starts later). */
  private final int first;

  public AuthorSteps(List<Step> steps) {
    this(steps, 0);
  }

  private AuthorSteps(List<Step> steps, int first) {
    this.steps = List.copyOf(steps);
    this.first = first;
  }

  /** {@code steps}, the first of them stage number {@code first} of the pipeline (its random stream's). */
  public static AuthorSteps from(int first, List<Step> steps) {
    return new AuthorSteps(steps, first);
  }

  /**
   * A decoded sample, or each output of an {@link Expanded} one, through these stages (run after
   * decoding, as an actor pool runs them): what {@code record} becomes; anything else unchanged.
   * Throws {@link SampleDecoding.MapFailed} naming the stage that threw.
   */
  public ShardRecord apply(long seed, int epoch, ShardRecord record) throws SampleDecoding.MapFailed {
    if (record instanceof RawSample s) {
      return run(false, seed, epoch, s);
    }
    if (record instanceof Expanded x) {
      RawSample origin = new RawSample(x.shard(), x.key(), List.of());
      return runEach(false, seed, epoch, origin, x, new long[0]);
    }
    return record;
  }

  /** A lone map after decoding (the {@code conveyor.job.map} class). */
  public static AuthorSteps mapping(SampleMap map) {
    return new AuthorSteps(List.of(new Map(map.getClass().getName(), map, false)));
  }

  public List<Step> steps() {
    return steps;
  }

  /** Whether any stage runs before decoding. */
  public boolean anyBeforeDecode() {
    return steps.stream().anyMatch(Step::beforeDecode);
  }

  /**
   * {@code sample} through the stages that run {@code beforeDecode} (or after): the sample they
   * leave, {@link Filtered} naming the filter that left it out (or the flatMap that made nothing
   * of it), or — once a flatMap ran — {@link Expanded}, its outputs that are left. Throws
   * {@link SampleDecoding.MapFailed} naming the stage that threw.
   */
  ShardRecord run(boolean beforeDecode, long seed, int epoch, RawSample sample) throws SampleDecoding.MapFailed {
    return run(beforeDecode, seed, epoch, sample, sample, new long[0]);
  }

  /**
   * The same for {@code expanded}'s outputs (each number {@code j} in it: path {@code j}), those a
   * filter leaves out added to its count; an empty result is still {@link Expanded}.
   */
  ShardRecord runEach(boolean beforeDecode, long seed, int epoch, RawSample origin, Expanded expanded, long[] path)
      throws SampleDecoding.MapFailed {
    List<RawSample> out = new java.util.ArrayList<>();
    int filtered = expanded.filtered();
    for (int j = 0; j < expanded.outputs().size(); j++) {
      ShardRecord r = run(beforeDecode, seed, epoch, origin, expanded.outputs().get(j), append(path, j));
      if (r instanceof RawSample s) {
        out.add(s);
      } else if (r instanceof Expanded e) {
        out.addAll(e.outputs());
        filtered += e.filtered();
      } else {
        filtered++;
      }
    }
    return new Expanded(origin.shard(), origin.key(), out, filtered);
  }

  /** {@code s} (a sample made of {@code origin} by flatMaps along {@code path}) through the stages. */
  private ShardRecord run(boolean beforeDecode, long seed, int epoch, RawSample origin, RawSample sample, long[] path)
      throws SampleDecoding.MapFailed {
    RawSample s = sample;
    for (int i = 0; i < steps.size(); i++) {
      Step step = steps.get(i);
      if (step.beforeDecode() != beforeDecode) {
        continue;
      }
      SplittableRandom random = random(seed, epoch, origin, i, path);
      try {
        if (step instanceof Map m) {
          s = requireNonNull(m.fn().apply(s, random), "it returned null");
        } else if (step instanceof FlatMap f) {
          List<RawSample> outputs = requireNonNull(f.fn().apply(s, random), "it returned null");
          if (outputs.isEmpty()) {
            return new Filtered(origin.shard(), origin.key(), step.name());
          }
          return new AuthorSteps(steps.subList(i + 1, steps.size()), first + i + 1)
              .runEach(beforeDecode, seed, epoch, origin, new Expanded(origin.shard(), origin.key(), outputs, 0), path);
        } else if (!((Filter) step).fn().keep(s, random)) {
          return new Filtered(sample.shard(), sample.key(), step.name());
        }
      } catch (SampleDecoding.MapFailed e) {
        throw e;
      } catch (Exception | LinkageError e) {
        throw new SampleDecoding.MapFailed("the stage " + step.name() + " failed (" + e + ")", e);
      }
    }
    return s;
  }

  private static long[] append(long[] path, long j) {
    long[] p = java.util.Arrays.copyOf(path, path.length + 1);
    p[path.length] = j;
    return p;
  }

  /** Stage {@code i}'s random stream for a sample, or for the output of it at {@code path} (after flatMaps). */
  SplittableRandom random(long seed, int epoch, RawSample sample, int i, long[] path) {
    long[] at = new long[4 + path.length];
    at[0] = epoch;
    at[1] = StableHash.of(sample.shard());
    at[2] = StableHash.of(sample.key());
    at[3] = SampleMap.MAP_STREAM + first + i;
    System.arraycopy(path, 0, at, 4, path.length);
    return Seeds.random(seed, at);
  }
}
