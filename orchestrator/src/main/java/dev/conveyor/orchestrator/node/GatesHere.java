package dev.conveyor.orchestrator.node;

import dev.conveyor.streams.pipeline.BatchGate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The gates of full batches on this node: one per job whose ranks run here, telling the job's
 * other trainer hosts what happens to its ranks ({@link NodeAgent.GateNews}); and the news of
 * those hosts that came before this node's ranks of the job started, kept until they do. Used by
 * the node agent only (single-threaded).
 */
final class GatesHere {
  private final ActorRef<NodeAgent.Command> self;
  private final int ahead;
  private final Map<String, List<BatchGate.News>> early = new HashMap<>();

  /** Gates of the node whose agent is {@code self}, each rank reading {@code ahead} batches beyond what was released. */
  GatesHere(ActorRef<NodeAgent.Command> self, int ahead) {
    this.self = self;
    this.ahead = Math.max(1, ahead);
  }

  /** The gate of {@code r}'s ranks here, told the news that came before them. */
  BatchGate open(NodeAgent.RunRanks r) {
    List<ActorRef<NodeAgent.Command>> others = r.hosts().stream().filter(h -> !h.equals(self)).toList();
    String id = r.job().id();
    BatchGate gate = new BatchGate(r.job().world(), r.ranks().size(), ahead,
        news -> others.forEach(h -> h.tell(new NodeAgent.GateNews(id, news))));
    early.getOrDefault(id, List.of()).forEach(gate::news);
    early.remove(id);
    return gate;
  }

  /** News for {@code job}'s gate here, or kept until the job's ranks start here ({@code job} null). */
  void news(NodeAgent.GateNews n, RanksHere job) {
    if (job != null) {
      job.gate.news(n.news());
    } else {
      early.computeIfAbsent(n.jobId(), id -> new ArrayList<>()).add(n.news());
    }
  }

  /** The job stopped: its early news, if any, goes. */
  void forget(String jobId) {
    early.remove(jobId);
  }
}
