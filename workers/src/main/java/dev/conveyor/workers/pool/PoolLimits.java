package dev.conveyor.workers.pool;

import dev.conveyor.config.PoolSettings;
import dev.conveyor.config.Resources;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How many actors each of a job's pools may have on a node offering {@code offer}: every pool's
 * {@code min} actors first (a node that cannot hold them all hosts none of the job's pools), then
 * what is left shared evenly among the pools that may grow, each up to its {@code max}. So the
 * pools of a node together never ask more than it offers.
 *
 * @param limits  each pool's most actors here, in the pools' order (empty when the node cannot host them)
 * @param refusal why the node cannot host them, naming the stage, what it asks and what the node offers
 */
public record PoolLimits(List<Integer> limits, Optional<String> refusal) {
  public PoolLimits {
    limits = List.copyOf(limits);
  }

  public static PoolLimits of(List<PoolSettings.Pool> pools, Resources offer) {
    Resources left = offer;
    for (PoolSettings.Pool p : pools) {
      Resources least = p.ask().times(p.min());
      if (!least.fitsIn(left)) {
        String what = p.ask().fitsIn(offer) ? "its min of " + p.min() + " actors (" + least.describe() + ") beside"
            + " the pools before it" : "one actor's " + p.ask().describe();
        return new PoolLimits(List.of(), Optional.of("the stage " + p.stage() + " asks " + p.ask().describe()
            + " per actor, concurrency [" + p.min() + ", " + p.max() + "]: " + what + " does not fit in what the node"
            + " offers (" + offer.describe() + ")"));
      }
      left = left.minus(least);
    }
    long growing = pools.stream().filter(p -> p.max() > p.min()).count();
    List<Integer> limits = new ArrayList<>();
    for (PoolSettings.Pool p : pools) {
      int extra = 0;
      if (p.max() > p.min()) {
        Resources share = shareOf(left, (int) growing);
        extra = Math.min(p.max() - p.min(), p.ask().instancesIn(share));
      }
      limits.add(p.min() + extra);
    }
    return new PoolLimits(limits, Optional.empty());
  }

  /** One of {@code n} even shares of {@code r}. */
  private static Resources shareOf(Resources r, int n) {
    java.util.Map<String, Double> custom = new java.util.TreeMap<>();
    r.custom().forEach((k, v) -> custom.put(k, v / n));
    return new Resources(r.cpus() / n, r.gpus() / n, r.memory() / n, custom);
  }
}
