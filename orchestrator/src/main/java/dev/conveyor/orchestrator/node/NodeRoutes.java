package dev.conveyor.orchestrator.node;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;

import dev.conveyor.streams.synth.Json;
import java.util.Locale;
import java.util.stream.Collectors;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * The node's own routes on the management HTTP server, beside its health checks: {@code /metrics}
 * (Prometheus text) and {@code /status} (JSON: the node, the cluster's members, the job it
 * coordinates with its cursor, its ranks' progress, its readers). Loaded by pekko-management
 * from {@code pekko.management.http.routes}.
 */
public final class NodeRoutes implements ManagementRouteProvider {
  private final NodeState state;
  private final Cluster cluster;
  private final NodeMetrics metrics;

  public NodeRoutes(ExtendedActorSystem system) {
    this.state = NodeState.ID.get(system);
    this.cluster = Cluster.get(Adapter.toTyped(system));
    this.metrics = new NodeMetrics(state, cluster);
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return concat(
        path("metrics", () -> get(() -> complete(HttpEntities.create(
            MediaTypes.TEXT_PLAIN.toContentType(HttpCharsets.UTF_8), metrics.scrape())))),
        path("status", () -> get(() -> complete(HttpEntities.create(ContentTypes.APPLICATION_JSON, status())))));
  }

  /** The node's status as JSON. */
  String status() {
    Member self = cluster.selfMember();
    StringBuilder j = new StringBuilder("{");
    j.append("\"node\":").append(Json.quote(self.address().toString()))
        .append(",\"status\":").append(Json.quote(self.status().toString().toLowerCase(Locale.ROOT)))
        .append(",\"roles\":").append(state.roles().stream().sorted().map(Json::quote)
            .collect(Collectors.joining(",", "[", "]")));
    j.append(",\"members\":[");
    boolean first = true;
    for (Member m : cluster.state().getMembers()) {
      j.append(first ? "" : ",").append("{\"address\":").append(Json.quote(m.address().toString()))
          .append(",\"status\":").append(Json.quote(m.status().toString().toLowerCase(Locale.ROOT)))
          .append(",\"reachable\":").append(!cluster.state().getUnreachable().contains(m))
          .append(",\"roles\":").append(m.getRoles().stream().sorted().map(Json::quote)
              .collect(Collectors.joining(",", "[", "]"))).append('}');
      first = false;
    }
    j.append(']');
    NodeState.Coordinated c = state.coordinated();
    if (c != null) {
      j.append(",\"coordinating\":{\"job\":").append(Json.quote(c.job())).append(",\"cursor\":").append(Json.quote(c.cursor()))
          .append(",\"cursorSaved\":").append(c.persisted()).append('}');
    }
    j.append(",\"ranks\":[");
    first = true;
    for (NodeState.Rank r : state.ranks()) {
      j.append(first ? "" : ",").append("{\"job\":").append(Json.quote(r.job)).append(",\"rank\":").append(r.rank)
          .append(",\"state\":").append(Json.quote(r.state)).append(",\"epoch\":").append(r.epoch)
          .append(",\"lastBatch\":").append(r.lastBatch).append(",\"batches\":").append(r.batches.get())
          .append(",\"samples\":").append(r.samples.get()).append(",\"bytes\":").append(r.bytesDelivered.get())
          .append(",\"receivedBytes\":").append(r.bytesReceived.get())
          .append(",\"bufferedBytes\":").append(r.buffered())
          .append(",\"stall\":").append(String.format(Locale.ROOT, "%.4f", r.stall))
          .append(",\"ringEvents\":").append("running".equals(r.state) ? r.ready.getAsInt() : 0).append(",\"leases\":").append(r.leases.leases())
          .append(",\"leasedAgain\":").append(r.leases.reassigned()).append(",\"handedBack\":")
          .append(r.leases.handedBack()).append('}');
      first = false;
    }
    j.append("],\"readers\":[");
    first = true;
    for (NodeState.Reader r : state.readers()) {
      j.append(first ? "" : ",").append("{\"job\":").append(Json.quote(r.job())).append(",\"leases\":").append(r.stats().leases())
          .append(",\"openLeases\":").append(r.stats().open()).append(",\"events\":").append(r.stats().events())
          .append(",\"bytes\":").append(r.stats().bytes()).append(",\"bytesRead\":").append(r.store().get().bytes())
          .append(",\"handedBack\":").append(r.stats().handedBack()).append('}');
      first = false;
    }
    return j.append("]}").toString();
  }
}
