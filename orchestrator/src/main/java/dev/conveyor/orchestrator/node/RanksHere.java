package dev.conveyor.orchestrator.node;

import dev.conveyor.orchestrator.checkpoint.CheckpointActor;
import dev.conveyor.orchestrator.coordinator.JobCoordinator;
import dev.conveyor.streams.pipeline.BatchGate;
import dev.conveyor.workers.feeder.LockstepTrainers;
import dev.conveyor.workers.feeder.RankFeeder;
import dev.conveyor.workers.reader.LeasedSlices;
import dev.conveyor.workers.reader.ShardReader;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

/** A job's ranks on this node: where deliveries are reported, and the last batch of each rank in each epoch. */
final class RanksHere {
  ActorRef<JobCoordinator.Command> coordinator;
  final Map<Integer, Map<Integer, CheckpointActor.Delivered>> last = new HashMap<>();
  final List<RankFeeder> feeders = new ArrayList<>();
  final Set<Integer> done = new HashSet<>();
  final LockstepTrainers trainers;
  /** The readers the job's ranks here lease to (shared by them), and which node incarnation each lives on. */
  final ClusterNode.Incarnations incarnations;
  final LeasedSlices.Readers readers;
  /** Where the ranks agree how many full batches an epoch has (a recipe of full batches; all its ranks are here). */
  final BatchGate gate;

  /** The node's stores: a batch job's ranks write their shards through one. */
  final java.util.function.Function<java.net.URI, dev.conveyor.streams.store.ShardStore> stores;

  RanksHere(ActorRef<JobCoordinator.Command> coordinator, LockstepTrainers trainers,
            List<ActorRef<ShardReader.Command>> readers, ActorSystem<?> system, BatchGate gate,
            java.util.function.Function<java.net.URI, dev.conveyor.streams.store.ShardStore> stores) {
    this.coordinator = coordinator;
    this.trainers = trainers;
    this.gate = gate;
    this.stores = stores;
    // a reader is alive while the node it ran on is up: leases skip the readers of nodes that
    // left or were downed meanwhile, and of nodes restarted since at the same address
    this.incarnations = new ClusterNode.Incarnations(system);
    incarnations.track(readers);
    this.readers = new LeasedSlices.Readers(readers, incarnations::isUp);
  }

  List<CheckpointActor.Delivered> positions() {
    List<CheckpointActor.Delivered> out = new ArrayList<>();
    last.values().forEach(epochs -> out.addAll(epochs.values()));
    out.sort(Comparator.comparingInt(CheckpointActor.Delivered::epoch));
    return out;
  }
}
