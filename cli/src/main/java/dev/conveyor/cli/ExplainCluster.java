package dev.conveyor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import dev.conveyor.config.PoolSettings;
import dev.conveyor.config.StageSettings;
import dev.conveyor.orchestrator.client.ClusterClient;
import dev.conveyor.orchestrator.node.ClusterNode;
import dev.conveyor.orchestrator.node.NodeAgent;
import dev.conveyor.orchestrator.node.NodeOffers;
import dev.conveyor.workers.pool.PoolLimits;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * {@code explain --cluster}: where a job's pools would run on a running cluster — each node's
 * offer, and for each worker the actors each pool may have there (the placement's own rule,
 * {@link PoolLimits}) or why it cannot host them (it reads all the same and sends its samples
 * to the workers that host them: {@code poolHosts}); the workers that would read for the job.
 */
final class ExplainCluster {
  private ExplainCluster() {}

  /** Adds {@code cluster} to {@code j}: the nodes of the cluster joined through {@code seed}, asked now. */
  static void add(ObjectNode j, StageSettings stages, String seed, Config config) {
    ActorSystem<Void> system = ClusterClient.join(seed, config);
    try {
      ClusterNode.awaitUp(system, seed, Duration.ofSeconds(60));
      List<NodeOffers.Described> nodes = NodeOffers.all(system, Duration.ofSeconds(30));
      ObjectNode c = j.putObject("cluster").put("seed", seed);
      ArrayNode out = c.putArray("nodes");
      ArrayNode readers = c.putArray("readers");
      ArrayNode hosts = c.putArray("poolHosts");
      List<PoolSettings.Pool> pools = stages.pools().pools();
      for (NodeOffers.Described n : nodes) {
        ObjectNode o = out.addObject().put("node", n.node()).put("offers", n.offer().describe())
            .put("cpuSlots", n.cpus());
        n.roles().forEach(o.putArray("roles")::add);
        if (!n.roles().contains(NodeAgent.WORKER)) {
          continue;
        }
        readers.add(n.node());
        o.put("decoders", stages.decodersFor(n.cpus()));
        PoolLimits here = PoolLimits.of(pools, n.offer());
        if (here.refusal().isPresent()) {
          o.put("cannotHost", here.refusal().get());
          continue;
        }
        if (!pools.isEmpty()) {
          hosts.add(n.node());
        }
        ArrayNode p = o.putArray("pools");
        for (int i = 0; i < pools.size(); i++) {
          p.addObject().put("stage", pools.get(i).stage()).put("limit", here.limits().get(i));
        }
      }
      if (!pools.isEmpty() && hosts.isEmpty()) {
        c.put("unplaceable", "no worker can run the job's actor pools");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while asking the cluster at " + seed, e);
    } catch (Exception e) {
      throw new IllegalStateException("could not ask the cluster at " + seed + ": " + e.getMessage(), e);
    } finally {
      ClusterClient.leave(system);
    }
  }

  /** The cluster part of {@code explain}'s text. */
  static String text(JsonNode c) {
    StringBuilder b = new StringBuilder("on the cluster at ").append(c.path("seed").asText()).append(":\n");
    for (JsonNode n : c.path("nodes")) {
      b.append("  ").append(n.path("node").asText()).append(' ').append(n.path("roles").toString())
          .append(", offers ").append(n.path("offers").asText());
      if (n.has("decoders")) {
        b.append(": reads with ").append(n.path("decoders").asInt()).append(" decoder(s)");
        n.path("pools").forEach(p -> b.append(", ").append(p.path("stage").asText()).append(" up to ")
            .append(p.path("limit").asInt()).append(" actor(s)"));
      }
      if (n.has("cannotHost")) {
        b.append(", its samples sent to the pools of ").append(c.path("poolHosts").toString())
            .append(" (").append(n.path("cannotHost").asText()).append(')');
      }
      b.append('\n');
    }
    if (c.has("unplaceable")) {
      b.append("  the job would be refused: ").append(c.path("unplaceable").asText()).append('\n');
    }
    return b.toString();
  }
}
