package dev.conveyor.orchestrator.coordinator;

import dev.conveyor.orchestrator.node.NodeAgent.Prepared;
import dev.conveyor.workers.reader.ShardReader;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Where a job runs, from the nodes that prepared for it: a rank whose trainer process is
 * attached to a trainer host runs there, the others round-robin over the trainer hosts, and its slices over the workers' shard readers in proportion to their shares (their
 * decoders), interleaved — A B A B A rather than A A A B B. Nodes are taken in the order of
 * their addresses, so the same cluster places a job the same way every time.
 *
 * @param workers the workers, in order
 * @param readers each worker's reader, once per share
 * @param hosts   the trainer hosts, in order
 * @param ranksOf the ranks each host runs, by the hosts' order
 */
record Placement(List<Prepared> workers, List<ActorRef<ShardReader.Command>> readers, List<Prepared> hosts,
                 List<List<Integer>> ranksOf) {

  /** The placement of {@code ranks} on the nodes {@code ready}, or why there is none (nodes missing). */
  static Placement of(List<Prepared> ready, List<Integer> ranks) {
    List<Prepared> workers = ready.stream().filter(p -> p.reader().isPresent())
        .sorted(Comparator.comparing(Prepared::node)).toList();
    List<ActorRef<ShardReader.Command>> readers = new ArrayList<>();
    int most = workers.stream().mapToInt(Prepared::shares).max().orElse(0);
    for (int round = 0; round < most; round++) {
      for (Prepared w : workers) {
        if (round < w.shares()) {
          readers.add(w.reader().get());
        }
      }
    }
    List<Prepared> hosts = ready.stream().filter(Prepared::trainerHost).sorted(Comparator.comparing(Prepared::node))
        .toList();
    List<List<Integer>> ranksOf = new ArrayList<>();
    hosts.forEach(h -> ranksOf.add(new ArrayList<>()));
    int next = 0;
    for (int rank : ranks) {
      int host = -1;
      for (int h = 0; h < hosts.size() && host < 0; h++) {
        host = hosts.get(h).trainers().contains(rank) ? h : -1;
      }
      if (host < 0 && !hosts.isEmpty()) {
        host = next++ % hosts.size();
      }
      if (host >= 0) {
        ranksOf.get(host).add(rank);
      }
    }
    return new Placement(workers, readers, hosts, ranksOf);
  }

  /**
   * Why no worker can run the job's actor pools (each worker's reason: the stage, its ask, the
   * node's offer), when none can and at least one declined for that. A worker that cannot host
   * them reads all the same, sending its samples to the pools of those that can.
   */
  static Optional<String> unplaceable(List<Prepared> ready) {
    List<String> declined = ready.stream().map(Prepared::declined).filter(d -> !d.isEmpty()).sorted().toList();
    boolean anyHost = ready.stream().anyMatch(p -> p.reader().isPresent() && p.declined().isEmpty());
    return anyHost || declined.isEmpty() ? Optional.empty()
        : Optional.of("no worker can run the job's actor pools: " + String.join("; ", declined));
  }

  /** Why the job cannot be placed (a worker and a trainer host are needed), if it cannot. */
  Optional<String> problem() {
    return workers.isEmpty() || hosts.isEmpty() ? Optional.of("the cluster has " + workers.size() + " worker(s) and "
        + hosts.size() + " trainer host(s); a job needs at least one of each") : Optional.empty();
  }

  /** Each worker's share of the slices, as {@code node=shares}. */
  List<String> shares() {
    return workers.stream().map(w -> w.node() + "=" + w.shares()).toList();
  }
}
