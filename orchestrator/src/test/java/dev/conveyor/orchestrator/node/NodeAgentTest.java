package dev.conveyor.orchestrator.node;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.orchestrator.checkpoint.CheckpointActor;
import dev.conveyor.orchestrator.coordinator.JobCoordinator;
import dev.conveyor.orchestrator.coordinator.JobSpec;
import dev.conveyor.orchestrator.delivery.RankReport;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.plan.ShardSet;
import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.workers.reader.LeasedSlices;
import dev.conveyor.workers.reader.ShardReader;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A node agent alone, with probes for the coordinator and the client: a worker prepares a shard
 * reader with its share of the slices and stops it when the job ends; a trainer host passes its
 * ranks' deliveries and ends to the coordinator in the order they happened, and after a
 * take-over says where its ranks are and reports to the new coordinator.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // one actor system for the class, shut down after it
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NodeAgentTest {
  @JUnit5TestKit
  public ActorTestKit kit = new JUnit5TestKitBuilder().build();

  static final Duration WAIT = Duration.ofSeconds(10);
  static final Recipe RECIPE = new Recipe(new ShardSet(List.of("file:///data/a.tar", "file:///data/b.tar"),
      new int[] {10, 10}), 7, 4, false, new Recipe.Shuffle(false, 1, 1), "none");
  static final JobSpec JOB = JobSpec.of("j", RECIPE, Map.of(), 2, 1, 2, 2, 1 << 20);
  static final LeasedSlices.Settings LEASES = new LeasedSlices.Settings(Duration.ofSeconds(5), 3, Duration.ofMillis(100), 2);

  ActorRef<NodeAgent.Command> agent(String role) {
    return kit.spawn(NodeAgent.create(Set.of(role), u -> new FileShardStore(), LEASES,
        new NodeAgent.Local(4, 8, Duration.ZERO, 1 << 20, dev.conveyor.config.Resources.cpus(4))));
  }

  @Test
  void aWorkerPreparesAReaderWithItsShareOfTheSlicesAndStopsItWhenTheJobEnds() {
    ActorRef<NodeAgent.Command> worker = agent(NodeAgent.WORKER);
    TestProbe<NodeAgent.Prepared> prepared = kit.createTestProbe();
    worker.tell(new NodeAgent.Prepare(JOB, prepared.ref()));
    NodeAgent.Prepared p = prepared.expectMessageClass(NodeAgent.Prepared.class, WAIT);
    assertThat(p.refused()).isEmpty();
    assertThat(p.trainerHost()).isFalse();
    assertThat(p.shares()).as("its CPU slots for decoders").isEqualTo(JOB.stages().decodersFor(4));
    ActorRef<ShardReader.Command> reader = p.reader().orElseThrow();
    worker.tell(new NodeAgent.StopJob(JOB.id()));
    prepared.expectTerminated(reader, WAIT);
  }

  /** A pipeline for the test below: a filter before decoding, a map after. */
  public static final class TwoStages implements dev.conveyor.streams.dsl.PipelineDefinition {
    @Override
    public dev.conveyor.streams.dsl.Pipeline define() {
      return dev.conveyor.streams.dsl.Pipeline.from(dev.conveyor.streams.dsl.Shards.of("file:///data/a.tar"))
          .filter(s -> true).decode(dev.conveyor.streams.dsl.Decode.images(8, 8)).map((s, r) -> s);
    }
  }

  /** The job of {@link TwoStages}, its recipe planned with the stages {@code planned}. */
  static JobSpec pipelineJob(String planned) {
    Recipe recipe = new Recipe(RECIPE.shards(), 7, 4, false, new Recipe.Shuffle(false, 1, 1), "auto:x" + planned);
    dev.conveyor.config.StageSettings stages = new dev.conveyor.config.StageSettings(1, 0, Optional.empty(), 0,
        dev.conveyor.config.StageSettings.HandOff.DEFAULT, Optional.of(TwoStages.class.getName()));
    return JobSpec.of("p", recipe, Map.of(), 2, 1, 2, 2, 1 << 20).decoding(dev.conveyor.config.DecodeSettings.fromConfig(
        com.typesafe.config.ConfigFactory.defaultReference()), stages);
  }

  @Test
  void aWorkerWhosePipelineHasOtherStagesThanTheJobWasPlannedWithRefusesIt() {
    ActorRef<NodeAgent.Command> worker = agent(NodeAgent.WORKER);
    TestProbe<NodeAgent.Prepared> prepared = kit.createTestProbe();
    String same = ";pipeline=" + TwoStages.class.getName() + "[filter#0|decode|map#1]";
    worker.tell(new NodeAgent.Prepare(pipelineJob(same), prepared.ref()));
    NodeAgent.Prepared ok = prepared.expectMessageClass(NodeAgent.Prepared.class, WAIT);
    assertThat(ok.refused()).isEmpty();
    worker.tell(new NodeAgent.StopJob("p"));

    String other = ";pipeline=" + TwoStages.class.getName() + "[decode|map#0]";
    worker.tell(new NodeAgent.Prepare(pipelineJob(other), prepared.ref()));
    NodeAgent.Prepared refused = prepared.expectMessageClass(NodeAgent.Prepared.class, WAIT);
    assertThat(refused.refused()).contains("cannot run the job's stages").contains("another version of its jar")
        .contains(other).contains("[filter#0|decode|map#1]");
    assertThat(refused.reader()).isEmpty();
  }

  @Test
  void aTrainerHostPreparesNoReader() {
    TestProbe<NodeAgent.Prepared> prepared = kit.createTestProbe();
    agent(NodeAgent.TRAINER_HOST).tell(new NodeAgent.Prepare(JOB, prepared.ref()));
    NodeAgent.Prepared p = prepared.expectMessageClass(NodeAgent.Prepared.class, WAIT);
    assertThat(p.trainerHost()).isTrue();
    assertThat(p.reader()).isEmpty();
    assertThat(p.shares()).isZero();
  }

  @Test
  void ranksReportToTheCoordinatorInOrderAndAfterATakeOverToTheNewOne() {
    ActorRef<NodeAgent.Command> host = agent(NodeAgent.TRAINER_HOST);
    TestProbe<JobCoordinator.Command> first = kit.createTestProbe();
    TestProbe<RankReport> client = kit.createTestProbe();
    host.tell(new NodeAgent.RunRanks(JOB, "", List.of(), List.of(), client.ref(), first.ref(), List.of()));
    for (long i = 0; i < 3; i++) {
      host.tell(new NodeAgent.RankDelivered(JOB.id(), 0, 0, i, 10 * i + 7, 1)); // full batches' positions go along
    }
    host.tell(new NodeAgent.RankEnded(JOB.id(), 0, Optional.empty()));
    host.tell(new NodeAgent.RankDelivered(JOB.id(), 1, 0, 0, -1, 0));
    for (long i = 0; i < 3; i++) {
      assertThat(first.expectMessageClass(JobCoordinator.RankDelivered.class, WAIT).delivered())
          .isEqualTo(new CheckpointActor.Delivered(0, 0, i, 10 * i + 7, 1));
    }
    assertThat(first.expectMessageClass(JobCoordinator.RankFinished.class, WAIT))
        .as("a rank's end after its deliveries").isEqualTo(new JobCoordinator.RankFinished(JOB.id(), 0));
    assertThat(first.expectMessageClass(JobCoordinator.RankDelivered.class, WAIT).delivered())
        .isEqualTo(new CheckpointActor.Delivered(1, 0, 0));

    TestProbe<JobCoordinator.Command> second = kit.createTestProbe();
    TestProbe<NodeAgent.Attached> attached = kit.createTestProbe();
    host.tell(new NodeAgent.Reattach(JOB.id(), second.ref(), attached.ref()));
    NodeAgent.Attached a = attached.expectMessageClass(NodeAgent.Attached.class, WAIT);
    assertThat(a.runsRanks()).isTrue();
    assertThat(a.positions()).containsExactlyInAnyOrder(new CheckpointActor.Delivered(0, 0, 2, 27, 1),
        new CheckpointActor.Delivered(1, 0, 0));
    assertThat(a.done()).containsExactly(0);

    host.tell(new NodeAgent.RankDelivered(JOB.id(), 1, 0, 1, -1, 0));
    host.tell(new NodeAgent.RankEnded(JOB.id(), 1, Optional.of("its trainer is gone")));
    assertThat(second.expectMessageClass(JobCoordinator.RankDelivered.class, WAIT).delivered())
        .isEqualTo(new CheckpointActor.Delivered(1, 0, 1));
    assertThat(second.expectMessageClass(JobCoordinator.RankLost.class, WAIT))
        .isEqualTo(new JobCoordinator.RankLost(JOB.id(), 1, "its trainer is gone"));
    first.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void aNodeRunningNoRankOfTheJobSaysSo() {
    TestProbe<NodeAgent.Attached> attached = kit.createTestProbe();
    TestProbe<JobCoordinator.Command> coordinator = kit.createTestProbe();
    agent(NodeAgent.WORKER).tell(new NodeAgent.Reattach("other", coordinator.ref(), attached.ref()));
    NodeAgent.Attached a = attached.expectMessageClass(NodeAgent.Attached.class, WAIT);
    assertThat(a.runsRanks()).isFalse();
    assertThat(a.positions()).isEmpty();
  }
}
