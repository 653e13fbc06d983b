package dev.conveyor.streams.decode;

import static java.util.Objects.requireNonNull;

import dev.conveyor.streams.plan.Seeds;
import dev.conveyor.streams.plan.StableHash;
import dev.conveyor.streams.sample.Filtered;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.ShardRecord;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A pipeline author's stages as a decoder runs them: maps and filters, each before or after
 * decoding, in the order written. Stage {@code i} draws from its own random stream, seeded by
 * (recipe seed, epoch, shard, sample, {@code SampleMap.MAP_STREAM + i}), so the first stage's
 * stream is the one a lone {@code conveyor.job.map} class has always had. One per decoder: the
 * stages' instances may keep state, and a decoder that restarts makes new ones.
 */
public final class AuthorSteps {
  /** No stages. */
  public static final AuthorSteps NONE = new AuthorSteps(List.of());

  /** One stage of the chain. */
  public sealed interface Step permits Map, Filter {
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

  private final List<Step> steps;

  public AuthorSteps(List<Step> steps) {
    this.steps = List.copyOf(steps);
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
   * leave, or {@link Filtered} naming the filter that left it out. Throws
   * {@link SampleDecoding.MapFailed} naming the stage that threw.
   */
  ShardRecord run(boolean beforeDecode, long seed, int epoch, RawSample sample) throws SampleDecoding.MapFailed {
    RawSample s = sample;
    for (int i = 0; i < steps.size(); i++) {
      Step step = steps.get(i);
      if (step.beforeDecode() != beforeDecode) {
        continue;
      }
      SplittableRandom random = random(seed, epoch, sample, i);
      try {
        if (step instanceof Map m) {
          s = requireNonNull(m.fn().apply(s, random), "it returned null");
        } else if (!((Filter) step).fn().keep(s, random)) {
          return new Filtered(sample.shard(), sample.key(), step.name());
        }
      } catch (Exception | LinkageError e) {
        throw new SampleDecoding.MapFailed("the stage " + step.name() + " failed (" + e + ")", e);
      }
    }
    return s;
  }

  /** Stage {@code i}'s random stream for a sample. */
  static SplittableRandom random(long seed, int epoch, RawSample sample, int i) {
    return Seeds.random(seed, epoch, StableHash.of(sample.shard()), StableHash.of(sample.key()), SampleMap.MAP_STREAM + i);
  }
}
