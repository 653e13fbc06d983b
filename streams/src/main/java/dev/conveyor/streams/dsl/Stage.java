package dev.conveyor.streams.dsl;

import static java.util.Objects.requireNonNull;

import dev.conveyor.config.Resources;
import dev.conveyor.streams.decode.SampleFilter;
import dev.conveyor.streams.decode.SampleFlatMap;
import dev.conveyor.streams.decode.SampleMap;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * One of a pipeline author's per-sample stages — a map, a filter or a flatMap, a plain Java function given
 * the sample and a seeded random stream — with what one instance takes of a node
 * ({@link #resources}) and how many instances may run at once ({@link #concurrency}). Stages run
 * fused in the decoders, in the order written (Ray Data fuses consecutive map stages the same
 * way): a stage's CPUs add to each decoder's, and a concurrency caps the decoders per worker.
 *
 * <p>An {@linkplain #actor actor stage} runs in a pool of its own instead (Ray Data's
 * {@code map_batches(Cls, concurrency=(min, max))}): each actor makes one instance of the
 * author's class, once — a slow constructor that loads a model or a table is paid once per
 * actor, not per sample — and the pool grows from {@code min} to {@code max} actors while work
 * waits for one, on workers that offer what one actor asks. Immutable.
 */
public final class Stage {
  enum Kind { MAP, FILTER, FLAT_MAP, ACTOR }

  private final String name;
  private final Kind kind;
  private final Object fn; // a SampleMap, SampleFilter, SampleFlatMap, or an actor's Supplier<SampleMap>
  private final Resources ask;
  private final int min;
  private final int max;

  private Stage(String name, Kind kind, Object fn, Resources ask, int min, int max) {
    this.name = requireNonNull(name, "name is null");
    this.kind = kind;
    this.fn = requireNonNull(fn, "fn is null");
    this.ask = ask;
    this.min = min;
    this.max = max;
  }

  /** A map stage: the sample {@code fn} returns goes on. */
  public static Stage of(SampleMap fn) {
    return new Stage("map", Kind.MAP, fn, Resources.NONE, 0, 0);
  }

  /** A filter stage given a seeded random stream (e.g. keeping a seeded tenth of the samples). */
  public static Stage filter(SampleFilter fn) {
    return new Stage("filter", Kind.FILTER, fn, Resources.NONE, 0, 0);
  }

  /** A flatMap stage: one sample into the samples {@code fn} returns (a video into its clips), in order. */
  public static Stage flatMap(SampleFlatMap fn) {
    return new Stage("flatMap", Kind.FLAT_MAP, fn, Resources.NONE, 0, 0);
  }

  /** A filter stage: a sample {@code keep} rejects is counted as filtered, not delivered. */
  public static Stage filter(Predicate<dev.conveyor.streams.sample.RawSample> keep) {
    requireNonNull(keep, "keep is null");
    return filter((s, r) -> keep.test(s));
  }

  /**
   * A map stage run by a pool of actors, each holding the one instance {@code make} gives it
   * (e.g. {@code Captioner::new}): made when the actor starts and again only if it restarts.
   * It runs after decoding, one actor per CPU slot it asks by default ({@code cpus(1)}),
   * {@code concurrency(1, 1)} until told otherwise; the fused stages written after it run in its
   * actors too. Its random stream is the one a fused map at its place would get, so moving a
   * stage into a pool changes no batch.
   */
  public static Stage actor(Supplier<? extends SampleMap> make) {
    requireNonNull(make, "make is null");
    return new Stage("map", Kind.ACTOR, make, Resources.cpus(1), 1, 1);
  }

  /** This stage, named {@code name} in dead letters, the summary, the report and {@code conveyor.job.pools}. */
  public Stage named(String name) {
    if (name.isBlank() || !name.matches("[A-Za-z0-9_.:-]+")) {
      throw new IllegalArgumentException("a stage name is letters, digits and _.:-, got \"" + name + "\"");
    }
    return new Stage(name, kind, fn, ask, min, max);
  }

  /**
   * What one instance of this stage takes of a node, its parts added up:
   * {@code resources(cpus(1), gpus(1), memory("2GiB"), custom("tpu", 1))}. A fused stage's CPUs
   * add to each decoder's and it asks nothing else; an actor asks all of them of the worker it
   * runs on.
   */
  public Stage resources(Resources... parts) {
    Resources sum = Resources.NONE;
    for (Resources r : parts) {
      sum = sum.plus(r);
    }
    if (kind != Kind.ACTOR && (sum.gpus() > 0 || sum.memory() > 0 || !sum.custom().isEmpty())) {
      throw new IllegalArgumentException("a fused stage runs in the decoders and takes only cpus; for " + sum.describe()
          + " make it an actor stage: Stage.actor(...)");
    }
    return new Stage(name, kind, fn, sum, min, max);
  }

  /** At most {@code n} instances of this fused stage per worker (so at most {@code n} decoders there). */
  public Stage concurrency(int n) {
    if (kind == Kind.ACTOR) {
      return concurrency(n, n);
    }
    if (n < 1) {
      throw new IllegalArgumentException("a stage's concurrency is at least 1, got " + n);
    }
    return new Stage(name, kind, fn, ask, n, n);
  }

  /**
   * An actor stage's pool on each worker that hosts it: {@code min} actors from the start, up to
   * {@code max} while work waits for one (and the worker has the resources).
   */
  public Stage concurrency(int min, int max) {
    if (kind != Kind.ACTOR) {
      throw new IllegalArgumentException("concurrency(min, max) is for an actor stage (Stage.actor(...)); a fused stage"
          + " takes concurrency(n)");
    }
    if (min < 1 || max < min) {
      throw new IllegalArgumentException("an actor stage's concurrency is (min, max) with 1 <= min <= max, got (" + min
          + ", " + max + ")");
    }
    return new Stage(name, kind, fn, ask, min, max);
  }

  public String name() {
    return name;
  }

  /** CPU slots one instance takes. */
  public double cpus() {
    return ask.cpus();
  }

  /** What one instance takes of a node. */
  public Resources resources() {
    return ask;
  }

  /** The concurrency set (a fused stage's, or an actor pool's max), or 0 for as many as the node's CPU slots allow. */
  public int concurrency() {
    return max;
  }

  /** An actor pool's least actors per worker (0 for a fused stage). */
  public int minActors() {
    return kind == Kind.ACTOR ? min : 0;
  }

  boolean isFilter() {
    return kind == Kind.FILTER;
  }

  boolean isFlatMap() {
    return kind == Kind.FLAT_MAP;
  }

  boolean isActor() {
    return kind == Kind.ACTOR;
  }

  Optional<SampleMap> map() {
    return kind == Kind.MAP ? Optional.of((SampleMap) fn) : Optional.empty();
  }

  Optional<SampleFilter> filter() {
    return kind == Kind.FILTER ? Optional.of((SampleFilter) fn) : Optional.empty();
  }

  Optional<SampleFlatMap> flatMap() {
    return kind == Kind.FLAT_MAP ? Optional.of((SampleFlatMap) fn) : Optional.empty();
  }

  @SuppressWarnings("unchecked")
  Optional<Supplier<? extends SampleMap>> actor() {
    return kind == Kind.ACTOR ? Optional.of((Supplier<? extends SampleMap>) fn) : Optional.empty();
  }
}
