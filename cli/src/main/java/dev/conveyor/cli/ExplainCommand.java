package dev.conveyor.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import dev.conveyor.config.ConveyorSettings;
import dev.conveyor.config.JobSettings;
import dev.conveyor.config.NodeSettings;
import dev.conveyor.config.PoolSettings;
import dev.conveyor.config.Resources;
import dev.conveyor.config.SourceSettings;
import dev.conveyor.config.StageSettings;
import dev.conveyor.streams.dsl.Pipeline;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.json.Json;
import dev.conveyor.workers.pool.PoolLimits;
import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code conveyor explain [JOB.conf] [flags] [--json]}: the job's graph as {@code run} with the
 * same arguments would run it — sources, decoding, each stage in order (fused before decoding,
 * in the decoders, or in an actor pool), what each asks, the pools' concurrency and how many
 * actors each may have on this machine — and where each setting came from. Nothing is read or
 * run.
 */
@Command(
    name = "explain",
    mixinStandardHelpOptions = true,
    description = {
        "Prints the job's graph as `run` with the same arguments would run it: its sources, decoding,",
        "stages in order (fused before decoding, in the decoders, or in an actor pool) with their",
        "resources and concurrency, how many actors each pool may have on this machine, and where",
        "each setting came from (reference.conf, the job file, the pipeline class, --set, a flag).",
        "Nothing is read or run. --json prints one object for tools."})
final class ExplainCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin
  JobFlags job = new JobFlags();

  @Option(names = "--json", description = "One JSON object instead of text.")
  boolean json;

  @Option(names = "--cluster", paramLabel = "HOST:PORT", description = "Also where each pool would run on this running"
      + " cluster (joined through this node): each node's offer, and the workers that would read for the job.")
  String cluster;

  /** The settings whose origin the explanation names. */
  static final List<String> TRACED = List.of("shards", "sources", "batch-size", "full-batches", "epochs", "world-size",
      "seed", "decode", "decoders.cpus", "decoders.pool", "map.class", "pipeline", "pools", "autoscale.grow-after",
      "autoscale.shrink-after");

  @Override
  public Integer call() {
    Config config = job.config(null);
    ConveyorSettings s = ConveyorSettings.fromConfig(config);
    NodeSettings node = NodeSettings.fromConfig(config);
    ObjectNode j = explain(config, s, node);
    if (cluster != null) {
      if (!cluster.matches("[^:/]+:\\d+")) {
        throw new ConveyorCli.UsageException("--cluster takes HOST:PORT of a running node, got \"" + cluster + "\"");
      }
      ExplainCluster.add(j, s.stages(), cluster, config.withFallback(com.typesafe.config.ConfigFactory.load()));
    }
    PrintWriter out = spec.commandLine().getOut();
    out.println(json ? Json.compact(j) : text(j));
    out.flush();
    return ConveyorCli.EXIT_OK;
  }

  /** The explanation of the job {@code config} holds, on a machine with {@code node}'s settings. */
  static ObjectNode explain(Config config, ConveyorSettings s, NodeSettings node) {
    JobSettings jobSettings = s.job();
    StageSettings stages = s.stages();
    ObjectNode j = Json.object();
    stages.pipeline().ifPresentOrElse(p -> j.put("pipeline", p), () -> j.putNull("pipeline"));
    ArrayNode sources = j.putArray("sources");
    if (jobSettings.mixed()) {
      for (SourceSettings src : jobSettings.sources()) {
        sources.addObject().put("name", src.name()).put("shards", src.shards()).put("weight", src.weight())
            .put("repeat", src.repeat());
      }
    } else {
      sources.addObject().put("name", "").put("shards", jobSettings.shards()).put("weight", 1.0).put("repeat", false);
    }
    j.put("ranks", jobSettings.worldSize()).put("epochs", jobSettings.epochs()).put("seed", jobSettings.seed());
    ObjectNode batch = j.putObject("batch").put("size", jobSettings.batchSize()).put("full", jobSettings.fullBatches());
    jobSettings.pack().ifPresent(p -> batch.put("pack", p.field() + " in rows of " + p.length()));
    jobSettings.bucket().ifPresent(b -> batch.put("buckets", b.field() + " at " + b.boundaries()));
    j.put("decode", jobSettings.decode().toString().toLowerCase(java.util.Locale.ROOT));
    j.putObject("decoders").put("cpus", stages.decoderCpus()).put("perWorker", stages.pool())
        .put("here", stages.decodersFor(node.cpus()));
    ArrayNode graph = j.putArray("stages");
    Optional<Pipeline> pipeline = stages.pipeline().map(PipelineDefinition::load);
    pipeline.ifPresent(p -> p.describe().forEach(d -> {
      // an actor stage as its pool's settings have it (--set may change a pipeline's)
      Optional<PoolSettings.Pool> set = d.kind().equals("actor") ? stages.pools().pool(d.name()) : Optional.empty();
      graph.addObject().put("name", d.name()).put("kind", d.kind()).put("runs", d.runs())
          .put("resources", set.map(PoolSettings.Pool::ask).orElse(d.resources()).describe())
          .put("min", set.map(PoolSettings.Pool::min).orElse(d.min()))
          .put("max", set.map(PoolSettings.Pool::max).orElse(d.max()));
    }));
    stages.mapClass().ifPresent(m -> graph.addObject().put("name", m).put("kind", "map").put("runs", "decoders")
        .put("resources", Resources.cpus(stages.mapCpus()).describe()).put("min", 0).put("max", 0));
    List<PoolSettings.Pool> pools = stages.pools().pools();
    PoolLimits here = PoolLimits.of(pools, node.resources());
    ArrayNode poolsJson = j.putArray("pools");
    for (int i = 0; i < pools.size(); i++) {
      PoolSettings.Pool p = pools.get(i);
      ObjectNode o = poolsJson.addObject().put("stage", p.stage()).put("resources", p.ask().describe())
          .put("min", p.min()).put("max", p.max());
      if (here.refusal().isPresent()) {
        o.put("hereLimit", 0);
      } else {
        o.put("hereLimit", here.limits().get(i));
      }
    }
    ObjectNode machine = j.putObject("thisMachine").put("offers", node.resources().describe())
        .put("cpuSlots", node.cpus());
    here.refusal().ifPresent(r -> machine.put("cannotHost", r));
    ObjectNode from = j.putObject("settingsFrom");
    for (String key : TRACED) {
      String full = JobSettings.PATH + "." + key;
      boolean moot = key.equals(jobSettings.mixed() ? "shards" : "sources")
          || key.equals("map.class") && stages.mapClass().isEmpty() || key.equals("pipeline") && pipeline.isEmpty()
          || (key.startsWith("pools") || key.startsWith("autoscale")) && pools.isEmpty();
      if (config.hasPath(full) && !moot) {
        from.put(full, origin(config, full));
      }
    }
    return j;
  }

  /** Where {@code key}'s value came from, in words. */
  static String origin(Config config, String key) {
    String d = config.getValue(key).origin().description();
    if (d.contains("reference.conf")) {
      return "reference.conf";
    }
    if (d.startsWith("hardcoded")) {
      return "a flag";
    }
    if (d.startsWith("String")) {
      return "--set";
    }
    return d.replaceFirst(":\\s*(\\d+)$", " line $1");
  }

  /** The explanation as a reader would have it. */
  static String text(ObjectNode j) {
    StringBuilder b = new StringBuilder();
    b.append("job: ").append(j.path("ranks").asInt()).append(" rank(s), ").append(j.path("epochs").asInt())
        .append(" epoch(s), seed ").append(j.path("seed").asLong()).append(", batches of ")
        .append(j.path("batch").path("size").asInt()).append(j.path("batch").path("full").asBoolean() ? " (full)" : "")
        .append(j.path("pipeline").isNull() ? "" : ", pipeline " + j.path("pipeline").asText()).append('\n');
    j.path("sources").forEach(src -> b.append("source: ").append(src.path("name").asText().isEmpty() ? ""
        : src.path("name").asText() + " (weight " + src.path("weight").asDouble() + (src.path("repeat").asBoolean()
            ? ", repeats" : "") + ") ").append(src.path("shards").asText()).append('\n'));
    JsonView d = new JsonView(j.path("decoders"));
    b.append("decode: ").append(j.path("decode").asText()).append("; decoders of ").append(d.num("cpus"))
        .append(" CPU slot(s) each, ").append(d.num("perWorker").equals("0") ? "as many per worker as its slots allow"
            : d.num("perWorker") + " per worker").append(" (").append(d.num("here")).append(" on this machine)\n");
    if (j.path("stages").isEmpty()) {
      b.append("stages: none\n");
    } else {
      b.append("stages, in order:\n");
      int n = 1;
      for (var st : j.path("stages")) {
        b.append(String.format("  %d. %-22s %-7s %s", n++, st.path("name").asText(), st.path("kind").asText(),
            runs(st.path("runs").asText())));
        if (st.path("kind").asText().equals("actor")) {
          b.append(", ").append(st.path("resources").asText()).append(" per actor, concurrency [")
              .append(st.path("min").asInt()).append(", ").append(st.path("max").asInt()).append(']');
        } else if (!st.path("resources").asText().equals("nothing")) {
          b.append(", adds ").append(st.path("resources").asText()).append(" to each decoder");
        }
        b.append('\n');
      }
    }
    JsonView m = new JsonView(j.path("thisMachine"));
    if (!j.path("pools").isEmpty()) {
      b.append("actor pools on this machine (it offers ").append(m.text("offers")).append("):\n");
      if (j.path("thisMachine").has("cannotHost")) {
        b.append("  none: ").append(m.text("cannotHost")).append('\n');
      } else {
        j.path("pools").forEach(p -> b.append("  ").append(p.path("stage").asText()).append(": ")
            .append(p.path("min").asInt()).append(" to ").append(p.path("hereLimit").asInt()).append(" actor(s)\n"));
      }
    }
    if (j.has("cluster")) {
      b.append(ExplainCluster.text(j.path("cluster")));
    }
    b.append("settings from:\n");
    j.path("settingsFrom").fields().forEachRemaining(e -> b.append("  ").append(e.getKey()).append(": ")
        .append(e.getValue().asText()).append('\n'));
    return b.toString().stripTrailing();
  }

  private static String runs(String runs) {
    return switch (runs) {
      case "before-decode" -> "fused, before decoding";
      case "decoders" -> "fused in the decoders";
      default -> runs.startsWith("pool ") && runs.length() > 5 ? "in the actor pool " + runs.substring(5) : runs;
    };
  }

  /** A JSON object's fields as text. */
  private record JsonView(com.fasterxml.jackson.databind.JsonNode node) {
    String text(String field) {
      return node.path(field).asText();
    }

    String num(String field) {
      double v = node.path(field).asDouble();
      return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
  }
}
