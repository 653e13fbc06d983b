package dev.conveyor.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a stage's instance asks of a node, or what a node offers ({@code conveyor.node.resources}):
 * CPU slots, GPUs, memory in bytes and named custom resources (Ray's {@code num_cpus},
 * {@code num_gpus}, {@code memory}, {@code resources={"tpu": 1}}). Written the way Ray's authors
 * write them, one part at a time:
 * <pre>{@code
 * import static dev.conveyor.config.Resources.*;
 * Stage.actor(Captioner::new).resources(cpus(1), gpus(1), memory("2GiB"), custom("tpu", 1))
 * }</pre>
 *
 * @param cpus   CPU slots (fractions allowed)
 * @param gpus   GPUs (fractions allowed: several instances sharing one)
 * @param memory bytes
 * @param custom named resources and their amounts (none at 0)
 */
public record Resources(double cpus, double gpus, long memory, Map<String, Double> custom) {
  /** Nothing asked. */
  public static final Resources NONE = new Resources(0, 0, 0, Map.of());

  public Resources {
    if (!(cpus >= 0) || !(gpus >= 0) || memory < 0) {
      throw new IllegalArgumentException("resources are 0 or more, got cpus " + cpus + ", gpus " + gpus + ", memory "
          + memory);
    }
    Map<String, Double> sorted = new TreeMap<>();
    custom.forEach((name, amount) -> {
      if (!name.matches("[A-Za-z0-9_.-]+") || !(amount >= 0)) {
        throw new IllegalArgumentException("a custom resource is a name of letters, digits and _.- with an amount of 0"
            + " or more, got " + name + " = " + amount);
      }
      if (amount > 0) {
        sorted.put(name, amount);
      }
    });
    custom = Map.copyOf(sorted); // a JDK map the wire format knows; describe() sorts
  }

  public static Resources cpus(double n) {
    return new Resources(n, 0, 0, Map.of());
  }

  public static Resources gpus(double n) {
    return new Resources(0, n, 0, Map.of());
  }

  /** Memory as HOCON writes a size: {@code "512MiB"}, {@code "2GiB"}, {@code "2G"}. */
  public static Resources memory(String size) {
    try {
      return new Resources(0, 0, ConfigFactory.parseString("m = \"" + size + "\"").getBytes("m"), Map.of());
    } catch (ConfigException e) {
      throw new IllegalArgumentException("memory(\"" + size + "\") is not a size such as \"512MiB\" or \"2GiB\"");
    }
  }

  public static Resources custom(String name, double amount) {
    return new Resources(0, 0, 0, Map.of(name, amount));
  }

  /** These and {@code other} together. */
  public Resources plus(Resources other) {
    Map<String, Double> sum = new TreeMap<>(custom);
    other.custom.forEach((k, v) -> sum.merge(k, v, Double::sum));
    return new Resources(cpus + other.cpus, gpus + other.gpus, memory + other.memory, sum);
  }

  /** {@code n} instances' worth. */
  public Resources times(int n) {
    Map<String, Double> each = new TreeMap<>();
    custom.forEach((k, v) -> each.put(k, v * n));
    return new Resources(cpus * n, gpus * n, memory * n, each);
  }

  /** What is left of these (offered) once {@code taken} is; negative parts are not allowed, so check {@link #fits} first. */
  public Resources minus(Resources taken) {
    Map<String, Double> left = new TreeMap<>(custom);
    taken.custom.forEach((k, v) -> left.merge(k, -v, Double::sum));
    left.replaceAll((k, v) -> Math.max(0, v));
    return new Resources(Math.max(0, cpus - taken.cpus), Math.max(0, gpus - taken.gpus),
        Math.max(0, memory - taken.memory), left);
  }

  /** Whether an offer of {@code offer} holds these. */
  public boolean fitsIn(Resources offer) {
    final double slack = 1e-9; // fractions summed
    if (cpus > offer.cpus + slack || gpus > offer.gpus + slack || memory > offer.memory) {
      return false;
    }
    return custom.entrySet().stream().allMatch(e -> e.getValue() <= offer.custom.getOrDefault(e.getKey(), 0.0) + slack);
  }

  /** How many instances asking these an offer of {@code offer} holds ({@code Integer.MAX_VALUE} when they ask nothing). */
  public int instancesIn(Resources offer) {
    double n = Integer.MAX_VALUE;
    n = Math.min(n, cpus > 0 ? Math.floor(offer.cpus / cpus + 1e-9) : n);
    n = Math.min(n, gpus > 0 ? Math.floor(offer.gpus / gpus + 1e-9) : n);
    n = Math.min(n, memory > 0 ? (double) (offer.memory / memory) : n);
    for (Map.Entry<String, Double> e : custom.entrySet()) {
      n = Math.min(n, Math.floor(offer.custom.getOrDefault(e.getKey(), 0.0) / e.getValue() + 1e-9));
    }
    return (int) n;
  }

  /** E.g. {@code cpus=1, gpus=1, memory=2GiB, tpu=1}; {@code nothing} when nothing is asked. */
  public String describe() {
    StringBuilder b = new StringBuilder();
    if (cpus > 0) {
      b.append("cpus=").append(number(cpus));
    }
    if (gpus > 0) {
      b.append(b.length() > 0 ? ", " : "").append("gpus=").append(number(gpus));
    }
    if (memory > 0) {
      b.append(b.length() > 0 ? ", " : "").append("memory=").append(size(memory));
    }
    new TreeMap<>(custom).forEach((k, v) -> b.append(b.length() > 0 ? ", " : "").append(k).append('=')
        .append(number(v)));
    return b.length() == 0 ? "nothing" : b.toString();
  }

  /** As a job or node file writes them: {@code { cpus, gpus, memory, custom {...} }}. */
  public Map<String, Object> settings() {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("cpus", cpus);
    s.put("gpus", gpus);
    s.put("memory", memory);
    s.put("custom", new TreeMap<>(custom));
    return s;
  }

  /**
   * The {@code { cpus, gpus, memory, custom {...} }} object at {@code path} of {@code config}
   * (missing parts 0); errors name the key.
   */
  static Resources fromConfig(Config config, String path) {
    ConfigReader r = new ConfigReader(config, path);
    Config c = config.getConfig(path);
    Map<String, Double> custom = new TreeMap<>();
    if (c.hasPath("custom")) {
      Config cc = r.config("custom");
      for (var e : cc.root().entrySet()) {
        if (e.getValue().valueType() != ConfigValueType.NUMBER) {
          throw new SettingsException(r.key("custom." + e.getKey()), "must be a number, got " + e.getValue().render());
        }
        custom.put(e.getKey(), ((Number) e.getValue().unwrapped()).doubleValue());
      }
    }
    try {
      return new Resources(c.hasPath("cpus") ? r.nonNegativeDouble("cpus") : 0,
          c.hasPath("gpus") ? r.nonNegativeDouble("gpus") : 0, c.hasPath("memory") ? r.bytesAtLeast("memory", 0) : 0,
          custom);
    } catch (IllegalArgumentException e) {
      throw new SettingsException(path, e.getMessage());
    }
  }

  private static String number(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }

  /** E.g. {@code 2GiB}, {@code 512MiB}, {@code 23.5GiB} (one decimal where not whole). */
  private static String size(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return (v == Math.rint(v) ? Long.toString((long) v) : String.format(java.util.Locale.ROOT, "%.1f", v)) + units[u];
  }

}
