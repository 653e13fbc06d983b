package dev.conveyor.streams.dsl;

import static java.util.Objects.requireNonNull;

import dev.conveyor.streams.decode.SampleFilter;
import dev.conveyor.streams.decode.SampleFlatMap;
import dev.conveyor.streams.decode.SampleMap;
import dev.conveyor.streams.pipeline.Stages.Resources;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * One of a pipeline author's per-sample stages — a map, a filter or a flatMap, a plain Java function given
 * the sample and a seeded random stream — with what one instance takes of a node
 * ({@link #resources}) and how many instances may run at once ({@link #concurrency}). Stages run
 * fused in the decoders, in the order written (Ray Data fuses consecutive map stages the same
 * way): a stage's CPUs add to each decoder's, and a concurrency caps the decoders per worker.
 * Immutable.
 */
public final class Stage {
  private final String name;
  private final Optional<SampleMap> map;
  private final Optional<SampleFilter> filter;
  private final Optional<SampleFlatMap> flatMap;
  private final double cpus;
  private final int concurrency;

  private Stage(String name, Optional<SampleMap> map, Optional<SampleFilter> filter, Optional<SampleFlatMap> flatMap,
                double cpus, int concurrency) {
    this.name = requireNonNull(name, "name is null");
    this.map = map;
    this.filter = filter;
    this.flatMap = flatMap;
    this.cpus = cpus;
    this.concurrency = concurrency;
  }

  /** A map stage: the sample {@code fn} returns goes on. */
  public static Stage of(SampleMap fn) {
    requireNonNull(fn, "fn is null");
    return new Stage("map", Optional.of(fn), Optional.empty(), Optional.empty(), 0, 0);
  }

  /** A filter stage given a seeded random stream (e.g. keeping a seeded tenth of the samples). */
  public static Stage filter(SampleFilter fn) {
    requireNonNull(fn, "fn is null");
    return new Stage("filter", Optional.empty(), Optional.of(fn), Optional.empty(), 0, 0);
  }

  /** A flatMap stage: one sample into the samples {@code fn} returns (a video into its clips), in order. */
  public static Stage flatMap(SampleFlatMap fn) {
    requireNonNull(fn, "fn is null");
    return new Stage("flatMap", Optional.empty(), Optional.empty(), Optional.of(fn), 0, 0);
  }

  /** A filter stage: a sample {@code keep} rejects is counted as filtered, not delivered. */
  public static Stage filter(Predicate<dev.conveyor.streams.sample.RawSample> keep) {
    requireNonNull(keep, "keep is null");
    return filter((s, r) -> keep.test(s));
  }

  /** This stage, named {@code name} in dead letters, the summary and the report. */
  public Stage named(String name) {
    if (name.isBlank() || !name.matches("[A-Za-z0-9_.:-]+")) {
      throw new IllegalArgumentException("a stage name is letters, digits and _.:-, got \"" + name + "\"");
    }
    return new Stage(name, map, filter, flatMap, cpus, concurrency);
  }

  /** What one instance of this stage takes of a node (added to each decoder's CPU slots). */
  public Stage resources(Resources r) {
    if (!(r.cpus() >= 0)) {
      throw new IllegalArgumentException("a stage's cpus are 0 or more, got " + r.cpus());
    }
    return new Stage(name, map, filter, flatMap, r.cpus(), concurrency);
  }

  /** At most {@code n} instances of this stage per worker (so at most {@code n} decoders there). */
  public Stage concurrency(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("a stage's concurrency is at least 1, got " + n);
    }
    return new Stage(name, map, filter, flatMap, cpus, n);
  }

  public String name() {
    return name;
  }

  public double cpus() {
    return cpus;
  }

  /** The concurrency set, or 0 for as many as the node's CPU slots allow. */
  public int concurrency() {
    return concurrency;
  }

  boolean isFilter() {
    return filter.isPresent();
  }

  Optional<SampleMap> map() {
    return map;
  }

  Optional<SampleFilter> filter() {
    return filter;
  }

  boolean isFlatMap() {
    return flatMap.isPresent();
  }

  Optional<SampleFlatMap> flatMap() {
    return flatMap;
  }
}
