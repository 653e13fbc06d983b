package dev.conveyor.streams.dsl;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One source of a mixed pipeline ({@link Pipeline#mix}): its shards, its share of every batch
 * ({@link #weight}, relative to the others'; 1 unless given), whether it starts another pass
 * when it runs out ({@link #repeat}) and the name its counts are reported under:
 * <pre>{@code
 * Pipeline.mix(Source.of(Shards.of("s3://b/web-{000..099}.tar")).weight(0.7).named("web"),
 *              Source.of(Shards.of("s3://b/books/shards.json")).weight(0.3).repeat())
 * }</pre>
 * Immutable; what a job file's {@code conveyor.job.sources} entry says.
 */
public record Source(Shards shards, double weight, boolean repeats, String name) {
  public Source {
    requireNonNull(shards, "shards is null");
    if (!(weight > 0) || Double.isInfinite(weight)) {
      throw new IllegalArgumentException("a source's weight is a positive number, got " + weight);
    }
  }

  /** A source of weight 1 that ends the epoch when it runs out, named after its place in the mix. */
  public static Source of(Shards shards) {
    return new Source(shards, 1.0, false, "");
  }

  /** This source with {@code weight}: its share of every batch, relative to the others'. */
  public Source weight(double weight) {
    return new Source(shards, weight, repeats, name);
  }

  /** This source starting another pass (in an order of its own) whenever it runs out. */
  public Source repeat() {
    return new Source(shards, weight, true, name);
  }

  /** This source reported as {@code name}. */
  public Source named(String name) {
    return new Source(shards, weight, repeats, requireNonNull(name, "name is null"));
  }

  /** Its entry in {@code conveyor.job.sources}. */
  Map<String, Object> settings() {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("shards", shards.pattern());
    s.put("weight", weight);
    s.put("repeat", repeats);
    if (!name.isEmpty()) {
      s.put("name", name);
    }
    return s;
  }
}
