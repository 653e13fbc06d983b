package dev.conveyor.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.config.ConveyorSettings;
import dev.conveyor.orchestrator.client.JobPlanner;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.plan.ShardSet;
import dev.conveyor.streams.store.ShardCheck;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code conveyor recipe [JOB.conf] [flags] [--json]}: the job's recipe as {@code run} would
 * plan it — its id, what chose its samples (each source's {@code where} over its catalog, with
 * the corpus version), how many samples of how many, per shard, and the bytes a pass reads.
 * Reads the manifests and catalogs, no shard.
 */
@Command(
    name = "recipe",
    mixinStandardHelpOptions = true,
    description = {
        "Prints the job's recipe as `run` with the same arguments would plan it: its id (the same id,",
        "the same samples in the same order), what chose its samples (a where over the dataset's",
        "catalog, and the corpus version), how many of how many, per shard, and the bytes a pass",
        "reads. Reads shards.json and catalog.parquet, no shard. --json prints one object for tools."})
final class RecipeCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin
  JobFlags job = new JobFlags();

  @Option(names = "--json", description = "One JSON object instead of text.")
  boolean json;

  @Override
  public Integer call() {
    ConveyorSettings settings = ConveyorSettings.fromConfig(job.config(null));
    PrintWriter err = spec.commandLine().getErr();
    JobPlanner.Planned planned;
    try (LocalStreams streams = new LocalStreams("conveyor-recipe")) {
      planned = new JobPlanner(streams.mat, line -> err.println("recipe: " + line.replaceFirst("^recipe: ", "")))
          .plan(settings);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ConveyorCli.EXIT_FAILURE;
    }
    ObjectNode j = describe(planned);
    PrintWriter out = spec.commandLine().getOut();
    out.println(json ? Json.compact(j) : text(j));
    out.flush();
    return ConveyorCli.EXIT_OK;
  }

  /**
   * The recipe of {@code planned} as {@code --json} prints it: {@code chosen} of {@code samples}
   * (a query's catalog rows, and every sample of a source without one), {@code pass_bytes} of
   * {@code shard_bytes} (every shard the sources name).
   */
  static ObjectNode describe(JobPlanner.Planned planned) {
    Recipe recipe = planned.recipe();
    ShardSet shards = recipe.shards();
    long samples = planned.choices().stream().mapToLong(JobPlanner.Choice::rows).sum();
    long passBytes = planned.choices().stream().mapToLong(JobPlanner.Choice::bytes).sum();
    ArrayNode per = Json.object().arrayNode();
    for (int i = 0; i < shards.size(); i++) {
      if (shards.chosen(i) == null) { // read whole
        samples += shards.held(i);
        passBytes += Math.max(0, planned.checks().getOrDefault(shards.name(i), ShardCheck.NONE).bytes());
      }
      per.addObject().put("shard", shards.name(i)).put("chosen", shards.count(i)).put("samples", shards.held(i));
    }
    long shardBytes = planned.checks().values().stream().mapToLong(c -> Math.max(0, c.bytes())).sum();
    ObjectNode j = Json.object().put("id", recipe.id()).put("fingerprint", recipe.fingerprint())
        .put("seed", recipe.seed()).put("chosen", shards.total()).put("samples", samples).put("shards", shards.size())
        .put("pass_bytes", passBytes).put("shard_bytes", shardBytes);
    ArrayNode choices = j.putArray("where");
    planned.choices().forEach(c -> choices.addObject().put("settings", c.at()).put("where", c.where())
        .put("corpus_version", c.version()).put("chosen", c.chosen()).put("catalog_rows", c.rows())
        .put("bytes", c.bytes()));
    j.set("per_shard", per);
    return j;
  }

  /** The recipe as text. */
  static String text(ObjectNode j) {
    long chosen = j.path("chosen").asLong();
    long samples = j.path("samples").asLong();
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "recipe %s: %,d of %,d samples (%.1f %%) in %d shard(s),"
        + " seed %d%n", j.path("id").asText(), chosen, samples, samples == 0 ? 0 : 100.0 * chosen / samples,
        j.path("shards").asInt(), j.path("seed").asLong()));
    j.path("where").forEach(w -> b.append(String.format(Locale.ROOT, "  %s: where %s chose %,d of %,d (corpus version"
        + " %s)%n", w.path("settings").asText(), w.path("where").asText(), w.path("chosen").asLong(),
        w.path("catalog_rows").asLong(), w.path("corpus_version").asText())));
    long shardBytes = j.path("shard_bytes").asLong();
    b.append(String.format(Locale.ROOT, "  a pass reads %.1f MB of its shards' %.1f MB%n", j.path("pass_bytes").asLong()
        / 1e6, shardBytes / 1e6));
    j.path("per_shard").forEach(s -> b.append(String.format(Locale.ROOT, "  %s  %,d of %,d%n", s.path("shard").asText(),
        s.path("chosen").asLong(), s.path("samples").asLong())));
    return b.toString().stripTrailing();
  }
}
