package dev.conveyor.config;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The author's actor-pool stages ({@code Stage.actor(...)}): the {@code conveyor.job.pools}
 * list, one entry per pool in the pipeline's order, and how pools grow and shrink
 * ({@code conveyor.job.autoscale}). A pipeline class writes the list; a job file may set the
 * same keys to change a pool's concurrency or resources without rebuilding the class.
 *
 * @param pools     each pool: its stage, what one actor asks, its concurrency
 * @param autoscale when a pool grows and shrinks, and how often an actor's constructor may fail
 */
public record PoolSettings(List<Pool> pools, Autoscale autoscale) {
  public static final String POOLS = JobSettings.PATH + ".pools";
  public static final String AUTOSCALE = JobSettings.PATH + ".autoscale";

  /**
   * One pool: the stage it runs (its name in the pipeline, e.g. {@code caption#2}), what each of
   * its actors takes of a node, and between how many actors it keeps on each node that hosts it.
   */
  public record Pool(String stage, Resources ask, int min, int max) {
    public Pool {
      if (stage == null || stage.isBlank()) {
        throw new SettingsException(POOLS, "a pool names its stage");
      }
      if (min < 1 || max < min) {
        throw new SettingsException(POOLS + "[" + stage + "].concurrency",
            "is [min, max] with 1 <= min <= max, got [" + min + ", " + max + "]");
      }
    }

    /** As the job file writes it. */
    public Map<String, Object> settings() {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("stage", stage);
      s.put("resources", ask.settings());
      s.put("concurrency", List.of(min, max));
      return s;
    }
  }

  /**
   * @param growAfter           a pool adds an actor when work has waited for one this long
   * @param shrinkAfter         a pool removes an actor idle this long (never below its min)
   * @param constructorFailures an actor whose constructor fails this many times in a row fails the job
   * @param sampleTimeout       an actor holding a group longer than this per sample is given up on
   */
  public record Autoscale(Duration growAfter, Duration shrinkAfter, int constructorFailures, Duration sampleTimeout) {
    public static final Autoscale DEFAULT = new Autoscale(Duration.ofMillis(500), Duration.ofSeconds(5), 3,
        Duration.ofMinutes(2));

    /** These windows, a sample taking at most {@link #DEFAULT}'s time. */
    public Autoscale(Duration growAfter, Duration shrinkAfter, int constructorFailures) {
      this(growAfter, shrinkAfter, constructorFailures, DEFAULT.sampleTimeout());
    }

    public Autoscale {
      if (growAfter.isNegative() || growAfter.isZero() || shrinkAfter.isNegative() || shrinkAfter.isZero()) {
        throw new SettingsException(AUTOSCALE, "grow-after and shrink-after are above 0");
      }
      if (sampleTimeout.isNegative() || sampleTimeout.isZero()) {
        throw new SettingsException(AUTOSCALE + ".sample-timeout", "must be above 0");
      }
      if (constructorFailures < 1) {
        throw new SettingsException(AUTOSCALE + ".constructor-failures", "must be at least 1, got "
            + constructorFailures);
      }
    }
  }

  public PoolSettings {
    pools = List.copyOf(pools);
  }

  /** No pools: every stage fused into the decoders. */
  public static final PoolSettings NONE = new PoolSettings(List.of(), Autoscale.DEFAULT);

  public static PoolSettings fromConfig(Config config) {
    ConfigReader job = new ConfigReader(config, JobSettings.PATH);
    List<Pool> pools = new ArrayList<>();
    List<? extends Config> entries = job.configList("pools");
    for (int i = 0; i < entries.size(); i++) {
      Config e = entries.get(i);
      String at = POOLS + "[" + i + "]";
      if (!e.hasPath("stage") || !e.hasPath("concurrency")) {
        throw new SettingsException(at, "needs stage = NAME and concurrency = [min, max]");
      }
      List<Integer> c;
      try {
        c = e.getIntList("concurrency");
      } catch (com.typesafe.config.ConfigException ex) {
        throw new SettingsException(at + ".concurrency", "is [min, max], got " + e.getValue("concurrency").render());
      }
      if (c.size() != 2) {
        throw new SettingsException(at + ".concurrency", "is [min, max], got " + c);
      }
      Resources ask = e.hasPath("resources") ? Resources.fromConfig(e, "resources") : Resources.NONE;
      pools.add(new Pool(e.getString("stage"), ask, c.get(0), c.get(1)));
    }
    ConfigReader a = new ConfigReader(config, AUTOSCALE);
    return new PoolSettings(pools, new Autoscale(Duration.ofMillis(a.durationMillisAtLeast("grow-after", 1)),
        Duration.ofMillis(a.durationMillisAtLeast("shrink-after", 1)), a.intAtLeast("constructor-failures", 1),
        Duration.ofMillis(a.durationMillisAtLeast("sample-timeout", 1))));
  }

  /** The pool running {@code stage}, if any. */
  public java.util.Optional<Pool> pool(String stage) {
    return pools.stream().filter(p -> p.stage().equals(stage)).findFirst();
  }
}
