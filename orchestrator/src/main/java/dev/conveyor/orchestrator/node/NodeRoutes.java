package dev.conveyor.orchestrator.node;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.parameter;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.config.NodeSettings;
import dev.conveyor.config.TrainerRingSettings;
import dev.conveyor.streams.json.Json;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The node's own routes on the management HTTP server, beside its health checks: {@code /metrics}
 * (Prometheus text) and {@code /status} (JSON: the node, the cluster's members, the job it
 * coordinates with its cursor, its ranks' progress, its readers) and {@code /trainer?rank=R}, where
 * a trainer process on this machine attaches for its rank ({@link #attach}); with
 * {@code conveyor.node.simulation-controls}, {@code POST /hold?batches=N} ({@link #hold}). Loaded by
 * pekko-management from {@code pekko.management.http.routes}.
 */
public final class NodeRoutes implements ManagementRouteProvider {
  private final NodeState state;
  private final Cluster cluster;
  private final NodeMetrics metrics;
  private final TrainerRings trainers;
  private final Materializer mat;
  private final TrainerRingSettings rings;
  private final byte[] bearerToken;
  private final boolean simulationControls;

  public NodeRoutes(ExtendedActorSystem system) {
    this.state = NodeState.ID.get(system);
    this.trainers = TrainerRings.ID.get(system);
    this.mat = Materializer.matFromSystem(system);
    this.rings = TrainerRingSettings.fromConfig(system.settings().config());
    this.bearerToken = NodeSettings.httpToken(system.settings().config()).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    this.simulationControls = NodeSettings.simulationControls(system.settings().config());
    this.cluster = Cluster.get(Adapter.toTyped(system));
    this.metrics = new NodeMetrics(state, cluster);
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return concat(
        path("metrics", () -> get(() -> authorized(() -> complete(HttpEntities.create(
            MediaTypes.TEXT_PLAIN.toContentType(HttpCharsets.UTF_8), metrics.scrape()))))),
        path("status", () -> get(() -> authorized(() -> complete(HttpEntities.create(ContentTypes.APPLICATION_JSON, status()))))),
        path("trainer", () -> get(() -> authorized(() -> parameter("rank", rank -> attach(rank))))),
        path("cache-entry", () -> get(() -> parameter("token", this::cacheEntry))),
        path("hold", () -> post(() -> authorized(() -> parameter("batches", this::hold)))));
  }

  /**
   * Holds this node's stand-in trainers once they have taken {@code batches} in all (negative:
   * nowhere), for a simulation's faults timed by batch; answers where the hold is and how many
   * they took. 404 unless {@code conveyor.node.simulation-controls} is on: nothing but a
   * simulation may pause a job.
   */
  private Route hold(String batches) {
    if (!simulationControls) {
      return complete(StatusCodes.NOT_FOUND, "simulation controls are off on this node\n");
    }
    long at;
    try {
      at = Long.parseLong(batches);
    } catch (NumberFormatException e) {
      return complete(StatusCodes.BAD_REQUEST, "batches is a number of batches (negative: no hold), got " + batches + "\n");
    }
    dev.conveyor.workers.feeder.TrainerHold h = state.trainerHold();
    h.holdAt(at);
    return complete(HttpEntities.create(ContentTypes.APPLICATION_JSON,
        Json.object().put("holdAt", h.at()).put("taken", h.taken()).toString()));
  }

  /**
   * {@code inner} when no token is configured or the request carries {@code Authorization: Bearer
   * TOKEN} (compared in constant time); otherwise 401 with no body, whatever was asked.
   */
  private Route authorized(java.util.function.Supplier<Route> inner) {
    if (bearerToken.length == 0) {
      return inner.get();
    }
    return optionalHeaderValueByName("Authorization", h -> h.filter(this::bearer).isPresent() ? inner.get()
        : complete(HttpResponse.create().withStatus(StatusCodes.UNAUTHORIZED)
            .addHeader(HttpHeader.parse("WWW-Authenticate", "Bearer realm=\"conveyor\""))));
  }

  private boolean bearer(String authorization) {
    return authorization.startsWith("Bearer ") && java.security.MessageDigest.isEqual(bearerToken,
        authorization.substring("Bearer ".length()).strip().getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** A cache entry handed to a peer under a one-time token ({@code CachePeer.At}); 404 for any other token. */
  private Route cacheEntry(String token) {
    return state.cache().flatMap(c -> c.take(token))
        .map(b -> complete(HttpEntities.create(ContentTypes.APPLICATION_OCTET_STREAM, b)))
        .orElseGet(() -> complete(StatusCodes.NOT_FOUND, "no cache entry waits under this token\n"));
  }

  /**
   * A trainer process attaches for {@code rank}: the response is a stream of lines that stays
   * open while the trainer is there — a blank line every 2 s, and {@code ring: {...}} once a job
   * runs the rank here and its ring is ready. The trainer's leaving (the connection closing)
   * detaches it, or fails the rank it was feeding.
   */
  private Route attach(String rankParam) {
    int rank;
    try {
      rank = Integer.parseInt(rankParam);
    } catch (NumberFormatException e) {
      rank = -1;
    }
    if (rank < 0) {
      return complete(StatusCodes.BAD_REQUEST, "rank: a rank number (0 or more), got \"" + rankParam + "\"\n");
    }
    if (!state.roles().contains(NodeAgent.TRAINER_HOST)) {
      return complete(StatusCodes.CONFLICT, "this node is not a trainer host (conveyor.node.roles = " + state.roles()
          + "): attach to one that runs ranks\n");
    }
    Pair<BoundedSourceQueue<ByteString>, Source<ByteString, NotUsed>> lines =
        Source.<ByteString>queue(16).preMaterialize(mat);
    AtomicBoolean open = new AtomicBoolean(true);
    TrainerRings.Attachment a = new TrainerRings.Attachment(TrainerRings.settings(rings),
        r -> lines.first().offer(ByteString.fromString(r.line() + "\n")), open::get);
    try {
      trainers.attach(rank, a);
    } catch (IllegalStateException e) {
      return complete(StatusCodes.CONFLICT, e.getMessage() + "\n");
    }
    int attached = rank;
    Source<ByteString, NotUsed> body = lines.second()
        .merge(Source.tick(Duration.ofSeconds(2), Duration.ofSeconds(2), ByteString.fromString("\n")))
        .watchTermination((m, done) -> {
          done.whenComplete((x, e) -> {
            open.set(false);
            trainers.detach(attached, a);
          });
          return m;
        });
    return complete(HttpResponse.create().withEntity(HttpEntities.createChunked(ContentTypes.TEXT_PLAIN_UTF8, body)));
  }

  /** The node's status as JSON. */
  String status() {
    Member self = cluster.selfMember();
    ObjectNode j = Json.object().put("node", self.address().toString()).put("status", lower(self.status()))
        .put("appVersion", self.appVersion().toString());
    j.set("roles", Json.strings(state.roles().stream().sorted().toList()));
    ArrayNode attached = j.putArray("trainersAttached");
    trainers.attachedRanks().forEach(attached::add);
    ArrayNode members = j.putArray("members");
    for (Member m : cluster.state().getMembers()) {
      members.addObject().put("address", m.address().toString()).put("status", lower(m.status()))
          .put("reachable", !cluster.state().getUnreachable().contains(m)).put("appVersion", m.appVersion().toString())
          .set("roles", Json.strings(m.getRoles().stream().sorted().toList()));
    }
    NodeState.Coordinated c = state.coordinated();
    if (c != null) {
      j.putObject("coordinating").put("job", c.job()).put("cursor", c.cursor()).put("cursorSaved", c.persisted());
    }
    ArrayNode ranks = j.putArray("ranks");
    for (NodeState.Rank r : state.ranks()) {
      ranks.addObject().put("job", r.job).put("rank", r.rank).put("state", r.state).put("epoch", r.epoch)
          .put("lastBatch", r.lastBatch).put("batches", r.batches.get()).put("samples", r.samples.get())
          .put("bytes", r.bytesDelivered.get()).put("receivedBytes", r.bytesReceived.get())
          .put("bufferedBytes", r.buffered()).put("stall", Json.fixed(r.stallRatio(), 4))
          .put("ringEvents", "running".equals(r.state) ? r.ready.getAsInt() : 0).put("leases", r.leases.leases())
          .put("leasedAgain", r.leases.reassigned()).put("handedBack", r.leases.handedBack());
    }
    ArrayNode readers = j.putArray("readers");
    for (NodeState.Reader r : state.readers()) {
      readers.addObject().put("job", r.job()).put("leases", r.stats().leases()).put("openLeases", r.stats().open())
          .put("events", r.stats().events()).put("bytes", r.stats().bytes()).put("bytesRead", r.store().get().bytes())
          .put("handedBack", r.stats().handedBack());
    }
    ArrayNode pools = j.putArray("pools");
    state.pools().forEach((job, stats) -> stats.forEach(p -> {
      ObjectNode o = pools.addObject().put("job", job).put("stage", p.stage()).put("actors", p.actors())
          .put("limit", p.limit()).put("busy", p.busy()).put("queued", p.queued()).put("samples", p.samples())
          .put("constructions", p.constructions()).put("restarts", p.restarts()).put("retried", p.retried())
          .put("deadLetters", p.deadLetters());
      ArrayNode decisions = o.putArray("decisions");
      List<dev.conveyor.workers.pool.PoolStats.Decision> all = p.decisions();
      all.subList(Math.max(0, all.size() - 20), all.size()).forEach(d -> decisions.addObject()
          .put("atMillis", d.atMillis()).put("actors", d.actors()).put("why", d.why()));
    }));
    ArrayNode routes = j.putArray("routes");
    state.routes().forEach((job, r) -> {
      ObjectNode o = routes.addObject().put("job", job).put("fronts", r.fronts()).put("samplesSent", r.samplesSent())
          .put("partsResent", r.partsResent()).put("waiting", r.waiting()).put("deadLetters", r.deadLetters());
      r.stages().forEach(o.putArray("stages")::add);
    });
    return Json.compact(j);
  }

  private static String lower(Object status) {
    return status.toString().toLowerCase(Locale.ROOT);
  }
}
