package dev.conveyor.orchestrator.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.orchestrator.node.NodeAgent.Prepared;
import dev.conveyor.orchestrator.node.NodeAgent;
import dev.conveyor.workers.reader.ShardReader;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Placement by resources: slices to readers by their shares, interleaved; ranks round-robin over
 * hosts; stable order; a job with actor pools refused only when no worker can host them.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // one actor system for the class, shut down after it
class PlacementTest {
  @JUnit5TestKit
  public ActorTestKit kit = new JUnit5TestKitBuilder().build();

  ActorRef<ShardReader.Command> reader(String name) {
    return kit.<ShardReader.Command>createTestProbe(name).ref();
  }

  Prepared worker(String node, ActorRef<ShardReader.Command> reader, int shares) {
    return new Prepared(node, kit.<NodeAgent.Command>createTestProbe().ref(), false, Optional.of(reader), shares, "", List.of());
  }

  Prepared host(String node) {
    return new Prepared(node, kit.<NodeAgent.Command>createTestProbe().ref(), true, Optional.empty(), 0, "", List.of());
  }

  @Test
  void slicesGoToTheWorkersReadersByTheirSharesInterleavedAndRanksRoundRobinOverTheHosts() {
    ActorRef<ShardReader.Command> a = reader("a");
    ActorRef<ShardReader.Command> b = reader("b");
    // given out of order: the placement sorts the nodes by address
    Placement p = Placement.of(List.of(host("node-h2"), worker("node-b", b, 1), host("node-h1"), worker("node-a", a, 3)),
        List.of(0, 1, 2, 3, 4));
    assertThat(p.problem()).isEmpty();
    assertThat(p.readers()).containsExactly(a, b, a, a);
    assertThat(p.shares()).containsExactly("node-a=3", "node-b=1");
    assertThat(p.hosts()).extracting(Prepared::node).containsExactly("node-h1", "node-h2");
    assertThat(p.ranksOf()).containsExactly(List.of(0, 2, 4), List.of(1, 3));
  }

  @Test
  void aRankWhoseTrainerIsAttachedToAHostRunsThereAndTheOthersRoundRobin() {
    Prepared h1 = host("node-h1");
    Prepared h2 = new Prepared("node-h2", kit.<NodeAgent.Command>createTestProbe().ref(), true, Optional.empty(), 0, "",
        List.of(0, 3));
    Placement p = Placement.of(List.of(h2, h1, worker("node-a", reader("a"), 1)), List.of(0, 1, 2, 3, 4));
    assertThat(p.ranksOf()).containsExactly(List.of(1, 4), List.of(0, 2, 3));
  }

  @Test
  void aClusterOfOneNodeWithBothRolesRunsEveryRankAndReadsEverySlice() {
    ActorRef<ShardReader.Command> r = reader("r");
    Prepared both = new Prepared("node", kit.<NodeAgent.Command>createTestProbe().ref(), true, Optional.of(r), 2, "", List.of());
    Placement p = Placement.of(List.of(both), List.of(3));
    assertThat(p.problem()).isEmpty();
    assertThat(p.readers()).containsExactly(r, r);
    assertThat(p.ranksOf()).containsExactly(List.of(3));
  }

  @Test
  void aJobNeedsAWorkerAndATrainerHost() {
    assertThat(Placement.of(List.of(host("h")), List.of(0)).problem())
        .contains("the cluster has 0 worker(s) and 1 trainer host(s); a job needs at least one of each");
    assertThat(Placement.of(List.of(worker("w", reader("w"), 1)), List.of(0)).problem())
        .contains("the cluster has 1 worker(s) and 0 trainer host(s); a job needs at least one of each");
  }

  @Test
  void aWorkerThatCannotHostThePoolsStillReadsAndTheJobIsRefusedOnlyWhenNoWorkerCanHostThem() {
    Prepared gpu = worker("node-a", reader("gpu"), 2);
    Prepared cpu = new Prepared("node-b", kit.<NodeAgent.Command>createTestProbe().ref(), false,
        Optional.of(reader("cpu")), 2, "", List.of(), "node-b: the stage caption#1 asks gpus=1 per actor");
    assertThat(Placement.unplaceable(List.of(host("h"), gpu, cpu))).isEmpty();
    assertThat(Placement.of(List.of(host("h"), gpu, cpu), List.of(0)).shares()).as("both read")
        .containsExactly("node-a=2", "node-b=2");
    assertThat(Placement.unplaceable(List.of(host("h"), cpu)))
        .contains("no worker can run the job's actor pools: node-b: the stage caption#1 asks gpus=1 per actor");
  }
}
