package dev.conveyor.sim.scenario;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.conveyor.config.SettingsException;
import dev.conveyor.sim.scenario.Scenario.Fault;
import dev.conveyor.sim.scenario.Scenario.Job;
import dev.conveyor.sim.scenario.Scenario.RandomFaults;
import dev.conveyor.sim.scenario.Scenario.Trigger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a scenario file (HOCON) into a {@link Scenario}, refusing at once — with the key, what
 * is wrong and the fix — any key it does not know, any unknown action, and any value out of range.
 */
public final class ScenarioFile {
  static final Set<String> TOP = Set.of("description", "nodes", "job", "job-file", "faults", "faults-random", "expect",
      "tls");
  static final Set<String> JOB = Set.of("shards", "samples", "world", "batch-size", "epochs", "decode", "seed",
      "checkpoint-every", "trainer-step");
  static final Set<String> FAULT = Set.of("at", "action", "node", "for", "rate", "latency", "stall", "how");
  static final Set<String> RANDOM = Set.of("count", "seed", "actions", "from", "to", "for");
  static final Set<String> EXPECT = Set.of("exit");
  /** What a random nemesis may draw: faults that undo themselves after {@code for}. */
  static final Set<Action> RANDOM_ACTIONS = Set.of(Action.KILL, Action.STOP, Action.TERM, Action.PARTITION,
      Action.S3_LATENCY, Action.S3_SLOWDOWN, Action.S3_RESET, Action.S3_STALL, Action.S3_CORRUPT);
  private static final Pattern BATCH = Pattern.compile("batch\\s+(\\d+)");
  private static final Pattern AFTER_RUN = Pattern.compile("after\\s+run\\s+(\\d+)");

  private ScenarioFile() {}

  /** The scenario in {@code file}; throws {@link SettingsException} naming the key at fault. */
  public static Scenario read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new SettingsException("SCENARIO", "no scenario file at " + file + " (the shipped ones are in sim/scenarios/)");
    }
    Config c;
    try {
      c = ConfigFactory.parseFile(file.toFile(), com.typesafe.config.ConfigParseOptions.defaults().setAllowMissing(false))
          .resolve();
    } catch (ConfigException e) {
      throw new SettingsException("SCENARIO", "cannot read " + file + ": " + e.getMessage());
    }
    String name = file.getFileName().toString().replaceFirst("\\.conf$", "");
    return parse(name, c, file.toAbsolutePath().getParent());
  }

  /** The scenario {@code c} describes; {@code dir} is where relative paths ({@code job-file}) start. */
  public static Scenario parse(String name, Config c, Path dir) {
    known("", c, TOP);
    int nodes = intIn(c, "nodes", 3, 2, 16);
    Job job = job(c, dir);
    List<Fault> faults = new ArrayList<>();
    if (c.hasPath("faults")) {
      List<? extends ConfigValue> list = listOf(c, "faults");
      for (int i = 0; i < list.size(); i++) {
        String at = "faults[" + i + "]";
        if (list.get(i).valueType() != ConfigValueType.OBJECT) {
          throw new SettingsException(at, "must be an object such as { at = \"batch 40\", action = kill, node = 3 }");
        }
        faults.add(fault(at, ((com.typesafe.config.ConfigObject) list.get(i)).toConfig(), nodes));
      }
    }
    Optional<RandomFaults> random = Optional.empty();
    if (c.hasPath("faults-random")) {
      random = Optional.of(random(c.getConfig("faults-random"), nodes));
    }
    int exit = 0;
    if (c.hasPath("expect")) {
      Config e = c.getConfig("expect");
      known("expect.", e, EXPECT);
      exit = intIn(e, "exit", 0, 0, 255, "expect.");
    }
    String description = c.hasPath("description") ? c.getString("description") : "";
    boolean tls = c.hasPath("tls") && bool(c, "tls");
    if (!tls && faults.stream().anyMatch(f -> f.action() == Action.RENEW_CERTS)) {
      throw new SettingsException("tls", "renew-certs needs the cluster on TLS: add tls = true");
    }
    return new Scenario(name, description, nodes, job, faults, random, exit, tls);
  }

  private static boolean bool(Config c, String key) {
    try {
      return c.getBoolean(key);
    } catch (ConfigException e) {
      throw new SettingsException(key, "must be true or false, got " + c.getValue(key).render());
    }
  }

  private static Job job(Config c, Path dir) {
    if (c.hasPath("job-file") && c.hasPath("job")) {
      throw new SettingsException("job-file", "give either job { … } or job-file, not both");
    }
    if (c.hasPath("job-file")) {
      Path f = dir.resolve(c.getString("job-file"));
      if (!Files.isRegularFile(f)) {
        throw new SettingsException("job-file", "no job file at " + f + " (a path relative to the scenario file)");
      }
      return new Job(0, 0, 0, 0, 0, "none", 0, 8, Duration.ZERO, Optional.of(f));
    }
    Config j = c.hasPath("job") ? c.getConfig("job") : ConfigFactory.empty();
    known("job.", j, JOB);
    int shards = intIn(j, "shards", 8, 1, 10_000, "job.");
    int samples = intIn(j, "samples", 50 * shards, shards, 10_000_000, "job.");
    String decode = j.hasPath("decode") ? j.getString("decode") : "none";
    if (!decode.equals("none") && !decode.equals("auto")) {
      throw new SettingsException("job.decode", "must be none | auto, got \"" + decode + "\"");
    }
    return new Job(shards, samples, intIn(j, "world", 2, 1, 64, "job."), intIn(j, "batch-size", 8, 1, 4096, "job."),
        intIn(j, "epochs", 2, 1, 1000, "job."), decode, j.hasPath("seed") ? j.getLong("seed") : 1,
        intIn(j, "checkpoint-every", 8, 1, 1_000_000, "job."), duration(j, "trainer-step", Duration.ZERO, "job."),
        Optional.empty());
  }

  private static Fault fault(String at, Config f, int nodes) {
    known(at + ".", f, FAULT);
    if (!f.hasPath("action")) {
      throw new SettingsException(at + ".action", "is missing: one of " + Action.names());
    }
    Action action = action(at + ".action", f.getString("action"));
    if (!f.hasPath("at")) {
      throw new SettingsException(at + ".at", "is missing: \"batch N\" (after N batches delivered in all), a time since"
          + " the job began such as \"2s\", or \"after run N\" (between a run that went down and its resume)");
    }
    Trigger when = trigger(at + ".at", f.getString("at"));
    int node = f.hasPath("node") ? intIn(f, "node", 0, 1, nodes, at + ".") : 0;
    if (action.needsNode && node == 0) {
      throw new SettingsException(at + ".node", "is missing: " + action.id() + " needs the node it acts on, 1.." + nodes
          + " (1 is the trainer host, 2 the coordinator's worker)");
    }
    if (!action.needsNode && action != Action.HEAL && f.hasPath("node")) {
      throw new SettingsException(at + ".node", action.id() + " acts on no node: remove node");
    }
    Duration lasting = f.hasPath("for") ? duration(f, "for", null, at + ".") : action.s3() ? Duration.ofSeconds(5) : null;
    double rate = f.hasPath("rate") ? f.getDouble("rate") : 0.3;
    if (!(rate > 0 && rate <= 1)) {
      throw new SettingsException(at + ".rate", "must be in (0, 1], got " + rate);
    }
    String how = f.hasPath("how") ? f.getString("how") : "cut";
    if (!how.equals("cut") && !how.equals("garble")) {
      throw new SettingsException(at + ".how", "must be cut | garble, got \"" + how + "\"");
    }
    return new Fault(when, action, node, lasting, rate, duration(f, "latency", Duration.ofMillis(200), at + "."),
        duration(f, "stall", Duration.ofSeconds(2), at + "."), how);
  }

  private static RandomFaults random(Config r, int nodes) {
    known("faults-random.", r, RANDOM);
    List<Action> actions = new ArrayList<>();
    List<String> names = r.hasPath("actions") ? r.getStringList("actions") : List.of("kill", "stop", "s3-slowdown");
    for (String n : names) {
      Action a = action("faults-random.actions", n);
      if (!RANDOM_ACTIONS.contains(a)) {
        throw new SettingsException("faults-random.actions", a.id() + " cannot be drawn at random (it undoes another"
            + " fault); draw from kill | stop | term | partition | s3-latency | s3-slowdown | s3-reset | s3-stall | s3-corrupt");
      }
      actions.add(a);
    }
    if (actions.isEmpty()) {
      throw new SettingsException("faults-random.actions", "is empty: name at least one action");
    }
    long from = r.hasPath("from") ? trigger("faults-random.from", r.getString("from")).batch() : 20;
    long to = r.hasPath("to") ? trigger("faults-random.to", r.getString("to")).batch() : 200;
    if (from < 0 || to <= from) {
      throw new SettingsException("faults-random.to", "must be a batch after from (\"batch " + from + "\")");
    }
    return new RandomFaults(intIn(r, "count", 3, 1, 1000, "faults-random."), r.hasPath("seed") ? r.getLong("seed") : 1,
        actions, from, to, duration(r, "for", Duration.ofSeconds(3), "faults-random."));
  }

  private static Action action(String key, String name) {
    Action a = Action.of(name);
    if (a == null) {
      List<String> ids = new ArrayList<>();
      for (Action x : Action.values()) {
        ids.add(x.id());
      }
      throw new SettingsException(key, "unknown action \"" + name + "\"" + Suggest.didYouMean(name, ids)
          + "; the actions are " + Action.names());
    }
    return a;
  }

  static Trigger trigger(String key, String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    Matcher m = BATCH.matcher(t);
    if (m.matches()) {
      return Trigger.atBatch(Long.parseLong(m.group(1)));
    }
    Matcher run = AFTER_RUN.matcher(t);
    if (run.matches() && Integer.parseInt(run.group(1)) >= 1) {
      return Trigger.afterRun(Integer.parseInt(run.group(1)));
    }
    try {
      return Trigger.after(ConfigFactory.parseString("d = \"" + t + "\"").getDuration("d"));
    } catch (ConfigException e) {
      throw new SettingsException(key, "must be \"batch N\", a time such as \"2s\" or \"500ms\", or \"after run N\", got \""
          + text + "\"");
    }
  }

  /** Refuses a key of {@code c} outside {@code allowed}, naming the nearest allowed one. */
  private static void known(String prefix, Config c, Set<String> allowed) {
    for (String k : c.root().keySet()) {
      if (!allowed.contains(k)) {
        throw new SettingsException(prefix + k, "is not a scenario key" + Suggest.didYouMean(k, allowed) + "; the keys"
            + (prefix.isEmpty() ? "" : " under " + prefix.replaceAll("\\.$", "")) + " are " + String.join(", ",
            allowed.stream().sorted().toList()) + " (docs/sim.md)");
      }
    }
  }

  private static List<? extends ConfigValue> listOf(Config c, String key) {
    try {
      return c.getList(key);
    } catch (ConfigException e) {
      throw new SettingsException(key, "must be a list [ { … }, … ]: " + e.getMessage());
    }
  }

  private static int intIn(Config c, String key, int dflt, int min, int max) {
    return intIn(c, key, dflt, min, max, "");
  }

  private static int intIn(Config c, String key, int dflt, int min, int max, String prefix) {
    if (!c.hasPath(key)) {
      return dflt;
    }
    int v;
    try {
      v = c.getInt(key);
    } catch (ConfigException e) {
      throw new SettingsException(prefix + key, "must be a whole number, got " + c.getValue(key).render());
    }
    if (v < min || v > max) {
      throw new SettingsException(prefix + key, "must be in " + min + ".." + max + ", got " + v);
    }
    return v;
  }

  private static Duration duration(Config c, String key, Duration dflt, String prefix) {
    if (!c.hasPath(key)) {
      return dflt;
    }
    try {
      return c.getDuration(key);
    } catch (ConfigException e) {
      throw new SettingsException(prefix + key, "must be a time such as \"5s\" or \"200ms\", got " + c.getValue(key).render());
    }
  }
}
