package dev.conveyor.orchestrator.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.conveyor.orchestrator.checkpoint.CheckpointActor;
import dev.conveyor.orchestrator.checkpoint.CursorStore;
import dev.conveyor.orchestrator.delivery.ClientEvent;
import dev.conveyor.orchestrator.node.ClusterNode;
import dev.conveyor.orchestrator.node.NodeAgent;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.plan.ShardSet;
import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.workers.reader.ShardReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job coordinator alone, on a cluster of one, with test probes for the node agents and the
 * client: it places ranks where the nodes' answers say, keeps the cursor the ranks' deliveries
 * make, takes a job over from the saved cursor and the nodes' positions, and stops a job whose
 * trainer host is gone with the cursor saved.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JobCoordinatorTest {
  /** A fresh cluster of one for each test (so no test's agents are listed in the next), shut down after it. */
  @JUnit5TestKit
  public ActorTestKit kit = new JUnit5TestKitBuilder().withCustomConfig(ConfigFactory.parseString("""
      pekko.actor.provider = cluster
      pekko.remote.artery.canonical.hostname = 127.0.0.1
      pekko.remote.artery.canonical.port = 0
      pekko.cluster.jmx.enabled = off
      pekko.cluster.roles = [%s]
      """.formatted(ClusterNode.NODE_ROLE)).withFallback(ConfigFactory.load())).build();

  @TempDir
  Path dir;

  static final Duration WAIT = Duration.ofSeconds(10);
  static final Recipe RECIPE = new Recipe(new ShardSet(List.of("file:///data/a.tar", "file:///data/b.tar"),
      new int[] {10, 10}), 7, 4, false, new Recipe.Shuffle(false, 1, 1), "none");

  TestProbe<NodeAgent.Command> host;
  TestProbe<NodeAgent.Command> worker;
  TestProbe<ShardReader.Command> reader;
  TestProbe<ClientEvent> client;
  ActorRef<JobCoordinator.Command> coordinator;

  @BeforeEach
  void joinAndRegister() throws Exception {
    Cluster cluster = Cluster.get(kit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (cluster.selfMember().status() != MemberStatus.up()) {
      assertThat(System.nanoTime()).as("up").isLessThan(deadline);
      Thread.sleep(20);
    }
    host = kit.createTestProbe();
    worker = kit.createTestProbe();
    reader = kit.createTestProbe();
    client = kit.createTestProbe();
    register(host);
    register(worker);
    coordinator = kit.spawn(CoordinatorActor.create(WAIT, u -> new FileShardStore()));
  }

  @AfterEach
  void shutDown() {
    kit.shutdownTestKit();
  }

  /** Registers {@code agent} as a node agent with the receptionist. */
  void register(TestProbe<NodeAgent.Command> agent) {
    TestProbe<Receptionist.Registered> registered = kit.createTestProbe();
    kit.system().receptionist().tell(Receptionist.register(NodeAgent.KEY, agent.ref(), registered.ref()));
    registered.expectMessageClass(Receptionist.Registered.class);
  }

  JobSpec job(String id) {
    return JobSpec.of(id, RECIPE, Map.of(), 2, 1, 2, 2, 1 << 20).checkpointed(dir.resolve("cursors").toString(), 0, 3,
        "", 0);
  }

  Cursor startCursor() {
    return Cursor.start(RECIPE.fingerprint(), 2);
  }

  /** The host and the worker prepare; returns what the host is told to run. */
  NodeAgent.RunRanks prepare(JobSpec job) {
    NodeAgent.Prepare p = host.expectMessageClass(NodeAgent.Prepare.class, WAIT);
    p.replyTo().tell(new NodeAgent.Prepared("host", host.ref(), true, Optional.empty(), 0, "", List.of()));
    NodeAgent.Prepare w = worker.expectMessageClass(NodeAgent.Prepare.class, WAIT);
    assertThat(w.job()).isEqualTo(job);
    w.replyTo().tell(new NodeAgent.Prepared("worker", worker.ref(), false, Optional.of(reader.ref()), 2, "", List.of()));
    return host.expectMessageClass(NodeAgent.RunRanks.class, WAIT);
  }

  /** Submits {@code job}; the host and the worker prepare; returns what the client hears. */
  JobCoordinator.Placed placed(JobSpec job) {
    coordinator.tell(new JobCoordinator.Submit(job, client.ref()));
    prepare(job);
    return client.expectMessageClass(JobCoordinator.Placed.class, WAIT);
  }

  void delivered(JobSpec job, int rank, int epoch, long index) {
    coordinator.tell(new JobCoordinator.RankDelivered(job.id(), new CheckpointActor.Delivered(rank, epoch, index)));
  }

  String latest() throws Exception {
    return Files.readString(dir.resolve("cursors").resolve("latest.cursor")).trim();
  }

  @Test
  void aJobOfFullBatchesKeepsEveryRanksPositionsInItsCursor() {
    JobSpec full = JobSpec.of("full", RECIPE.withFullBatches(true), Map.of(), 2, 1, 2, 2, 1 << 20)
        .checkpointed(dir.resolve("cursors").toString(), 0, 3, "", 0);
    placed(full);
    coordinator.tell(new JobCoordinator.RankDelivered(full.id(), new CheckpointActor.Delivered(0, 0, 0, 6, 0)));
    coordinator.tell(new JobCoordinator.RankDelivered(full.id(), new CheckpointActor.Delivered(1, 0, 0, 9, 2)));
    coordinator.tell(new JobCoordinator.RankFinished(full.id(), 0));
    coordinator.tell(new JobCoordinator.RankFinished(full.id(), 1));
    JobCoordinator.Finished finished = client.expectMessageClass(JobCoordinator.Finished.class, WAIT);
    Cursor.Segment seg = Cursor.decode(finished.cursor()).current();
    assertThat(seg.batches()).containsExactly(1, 1);
    assertThat(seg.positions()).containsExactly(6, 9);
    assertThat(seg.offsets()).as("rank 1's batch ended after 2 outputs of a flatMap's sample").containsExactly(0, 2);
  }

  @Test
  void aJobOfFullBatchesOnTwoTrainerHostsTellsEachHostWhereTheOthersAre() {
    // the ranks are placed one on each host: their gates must hear from each other to agree on an epoch's length
    TestProbe<NodeAgent.Command> other = kit.createTestProbe();
    register(other);
    JobSpec spread = JobSpec.of("spread", RECIPE.withFullBatches(true), Map.of(), 2, 1, 2, 2, 1 << 20);
    coordinator.tell(new JobCoordinator.Submit(spread, client.ref()));
    NodeAgent.Prepare p = other.expectMessageClass(NodeAgent.Prepare.class, WAIT);
    p.replyTo().tell(new NodeAgent.Prepared("other", other.ref(), true, Optional.empty(), 0, "", List.of()));
    prepareNoRun();
    NodeAgent.RunRanks onHost = host.expectMessageClass(NodeAgent.RunRanks.class, WAIT);
    NodeAgent.RunRanks onOther = other.expectMessageClass(NodeAgent.RunRanks.class, WAIT);
    assertThat(onHost.ranks()).containsExactly(0);
    assertThat(onOther.ranks()).containsExactly(1);
    assertThat(onHost.hosts()).containsExactly(host.ref(), other.ref());
    assertThat(onOther.hosts()).isEqualTo(onHost.hosts());
    client.expectMessageClass(JobCoordinator.Placed.class, WAIT);
  }

  /** The host and the worker prepare; nothing is run. */
  void prepareNoRun() {
    NodeAgent.Prepare p = host.expectMessageClass(NodeAgent.Prepare.class, WAIT);
    p.replyTo().tell(new NodeAgent.Prepared("host", host.ref(), true, Optional.empty(), 0, "", List.of()));
    NodeAgent.Prepare w = worker.expectMessageClass(NodeAgent.Prepare.class, WAIT);
    w.replyTo().tell(new NodeAgent.Prepared("worker", worker.ref(), false, Optional.of(reader.ref()), 2, "",
        List.of()));
  }

  @Test
  void itPlacesTheRanksOnTheTrainerHostTheCursorFollowsTheDeliveriesAndTheJobEndsWhenEveryRankIsDone()
      throws Exception {
    JobSpec job = job("place");
    coordinator.tell(new JobCoordinator.Submit(job, client.ref()));
    NodeAgent.RunRanks run = prepare(job);
    assertThat(run.ranks()).containsExactly(0, 1);
    assertThat(run.readers()).as("the worker's reader, once per share").containsExactly(reader.ref(), reader.ref());
    assertThat(run.start()).isEqualTo(startCursor().encode());
    JobCoordinator.Placed placed = client.expectMessageClass(JobCoordinator.Placed.class, WAIT);
    assertThat(placed.trainerHosts()).containsExactly("host");
    assertThat(placed.readers()).isEqualTo(1);
    assertThat(placed.shares()).containsExactly("worker=2");

    delivered(job, 0, 0, 0);
    delivered(job, 1, 0, 0);
    delivered(job, 0, 0, 1);
    delivered(job, 0, 0, 1); // twice: counted once
    coordinator.tell(new JobCoordinator.RankFinished(job.id(), 0));
    client.expectNoMessage(Duration.ofMillis(300)); // rank 1 is not done
    coordinator.tell(new JobCoordinator.RankFinished(job.id(), 1));
    JobCoordinator.Finished finished = client.expectMessageClass(JobCoordinator.Finished.class, WAIT);
    String expected = startCursor().withDelivered(0, 2).withDelivered(1, 1).encode();
    assertThat(finished.cursor()).isEqualTo(expected);
    assertThat(finished.persisted()).isTrue();
    assertThat(latest()).isEqualTo(expected);
    // the job is over: every node stops its part, and the coordinator takes the next job
    assertThat(host.expectMessageClass(NodeAgent.StopJob.class, WAIT).jobId()).isEqualTo(job.id());
    assertThat(worker.expectMessageClass(NodeAgent.StopJob.class, WAIT).jobId()).isEqualTo(job.id());
    coordinator.tell(new JobCoordinator.Submit(job("next"), client.ref()));
    assertThat(host.expectMessageClass(NodeAgent.Prepare.class, WAIT).job().id()).isEqualTo("next");
  }

  @Test
  void aSecondJobWhileOneRunsIsRefusedForNow() {
    JobSpec job = job("first");
    placed(job);
    TestProbe<ClientEvent> other = kit.createTestProbe();
    coordinator.tell(new JobCoordinator.Submit(job("second"), other.ref()));
    JobCoordinator.Failed refused = other.expectMessageClass(JobCoordinator.Failed.class, WAIT);
    assertThat(refused.passing()).isTrue();
    assertThat(refused.reason()).contains("running job first");
  }

  @Test
  void aSubmissionRepeatedWhileItsJobIsPlacedOrRunsIsNotRefused() {
    JobSpec job = job("again");
    coordinator.tell(new JobCoordinator.Submit(job, client.ref()));
    NodeAgent.Prepare p = host.expectMessageClass(NodeAgent.Prepare.class, WAIT);
    coordinator.tell(new JobCoordinator.Submit(job, client.ref())); // the client's answer was late: it asks again
    p.replyTo().tell(new NodeAgent.Prepared("host", host.ref(), true, Optional.empty(), 0, "", List.of()));
    worker.expectMessageClass(NodeAgent.Prepare.class, WAIT).replyTo()
        .tell(new NodeAgent.Prepared("worker", worker.ref(), false, Optional.of(reader.ref()), 2, "", List.of()));
    client.expectMessageClass(JobCoordinator.Placed.class, WAIT);
    coordinator.tell(new JobCoordinator.Submit(job, client.ref()));
    client.expectNoMessage(Duration.ofMillis(500)); // no "the cluster is running job again"
    host.expectMessageClass(NodeAgent.RunRanks.class, WAIT);
    host.expectNoMessage(Duration.ofMillis(200)); // placed once
  }

  @Test
  void aNodeThatCannotPrepareFailsTheSubmissionWithItsReason() {
    JobSpec job = job("refused");
    coordinator.tell(new JobCoordinator.Submit(job, client.ref()));
    host.expectMessageClass(NodeAgent.Prepare.class, WAIT).replyTo()
        .tell(new NodeAgent.Prepared("host", host.ref(), true, Optional.empty(), 0, "", List.of()));
    worker.expectMessageClass(NodeAgent.Prepare.class, WAIT).replyTo()
        .tell(new NodeAgent.Prepared("worker", worker.ref(), false, Optional.empty(), 0, "no such map class", List.of()));
    JobCoordinator.Failed failed = client.expectMessageClass(JobCoordinator.Failed.class, WAIT);
    assertThat(failed.reason()).isEqualTo("no such map class");
    assertThat(failed.passing()).isFalse();
    host.expectNoMessage(Duration.ofMillis(300)); // nothing was placed
  }

  @Test
  void aJobTakenOverGoesOnFromTheSavedCursorAndWhereTheNodesSayTheirRanksAre() throws Exception {
    JobSpec job = job("adopted");
    Cursor saved = startCursor().withDelivered(0, 2).withDelivered(1, 1);
    new CursorStore(CursorStore.parse(dir.resolve("cursors").toString()), new FileShardStore(), 3).save(saved, 1);
    // adopted right after the agents registered, before the receptionist lists them: it looks again
    coordinator.tell(new JobCoordinator.Adopt(job, client.ref()));
    JobCoordinator.Adopted adopted = client.expectMessageClass(JobCoordinator.Adopted.class, WAIT);
    assertThat(adopted.recovered()).isEqualTo(saved.encode());
    assertThat(adopted.fromCheckpoint()).isTrue();

    // the host delivered more than the saved cursor says before the old coordinator was lost; rank 1 is done
    NodeAgent.Reattach asked = host.expectMessageClass(NodeAgent.Reattach.class, WAIT);
    assertThat(asked.jobId()).isEqualTo(job.id());
    asked.replyTo().tell(new NodeAgent.Attached("host", host.ref(), true,
        List.of(new CheckpointActor.Delivered(0, 0, 2), new CheckpointActor.Delivered(1, 0, 1)), List.of(1)));
    worker.expectMessageClass(NodeAgent.Reattach.class, WAIT).replyTo()
        .tell(new NodeAgent.Attached("worker", worker.ref(), false, List.of(), List.of()));
    coordinator.tell(new JobCoordinator.RankFinished(job.id(), 0));
    JobCoordinator.Finished finished = client.expectMessageClass(JobCoordinator.Finished.class, WAIT);
    assertThat(finished.cursor()).isEqualTo(startCursor().withDelivered(0, 3).withDelivered(1, 2).encode());
    assertThat(latest()).isEqualTo(finished.cursor());
  }

  @Test
  void aWorkerThatJoinsARunningJobIsPreparedAndItsReaderGoesToTheTrainerHosts() {
    JobSpec job = job("joined");
    placed(job);
    host.expectNoMessage(Duration.ofMillis(1500)); // the placed nodes are not asked again
    worker.expectNoMessage(Duration.ZERO);
    // a worker joins (a node restarted by a rolling upgrade): within a second it is asked to prepare
    TestProbe<NodeAgent.Command> joined = kit.createTestProbe();
    TestProbe<ShardReader.Command> joinedReader = kit.createTestProbe();
    register(joined);
    NodeAgent.Prepare p = joined.expectMessageClass(NodeAgent.Prepare.class, WAIT);
    assertThat(p.job()).isEqualTo(job);
    p.replyTo().tell(new NodeAgent.Prepared("joined", joined.ref(), false, Optional.of(joinedReader.ref()), 3, "",
        List.of()));
    NodeAgent.AddReaders add = host.expectMessageClass(NodeAgent.AddReaders.class, WAIT);
    assertThat(add.jobId()).isEqualTo(job.id());
    assertThat(add.readers()).as("once per share").containsExactly(joinedReader.ref(), joinedReader.ref(),
        joinedReader.ref());
    joined.expectNoMessage(Duration.ofMillis(1500)); // prepared once
    host.expectNoMessage(Duration.ZERO);
  }

  @Test
  void aTrainerHostThatIsGoneStopsTheJobWithItsCursorSaved() throws Exception {
    JobSpec job = job("host-lost");
    placed(job);
    delivered(job, 0, 0, 0);
    delivered(job, 1, 0, 0);
    host.stop();
    JobCoordinator.Failed failed = client.expectMessageClass(JobCoordinator.Failed.class, WAIT);
    String cursor = startCursor().withDelivered(0, 1).withDelivered(1, 1).encode();
    assertThat(failed.reason()).isEqualTo("trainer host host left the cluster, and its ranks with it; the job was"
        + " stopped, its cursor saved (" + cursor + "): go on with --resume latest");
    assertThat(latest()).isEqualTo(cursor);
  }

  @Test
  void aHostOfAnEarlierJobThatGoesLaterDoesNotStopTheNextJob() throws Exception {
    JobSpec first = job("first");
    placed(first);
    coordinator.tell(new JobCoordinator.RankFinished(first.id(), 0));
    coordinator.tell(new JobCoordinator.RankFinished(first.id(), 1));
    client.expectMessageClass(JobCoordinator.Finished.class, WAIT);
    host.expectMessageClass(NodeAgent.StopJob.class, WAIT);
    worker.expectMessageClass(NodeAgent.StopJob.class, WAIT);

    // the next job runs its ranks on another trainer host; the first job's host then goes
    TestProbe<NodeAgent.Command> other = kit.createTestProbe();
    register(other);
    TestProbe<Receptionist.Listing> listing = kit.createTestProbe();
    long deadline = System.nanoTime() + WAIT.toNanos();
    do { // the receptionist lists a registration a little after it is made
      assertThat(System.nanoTime()).as("three agents listed").isLessThan(deadline);
      Thread.sleep(20);
      kit.system().receptionist().tell(Receptionist.find(NodeAgent.KEY, listing.ref()));
    } while (listing.receiveMessage(WAIT).getServiceInstances(NodeAgent.KEY).size() < 3);
    JobSpec next = job("next");
    coordinator.tell(new JobCoordinator.Submit(next, client.ref()));
    for (TestProbe<NodeAgent.Command> agent : List.of(host, worker, other)) {
      NodeAgent.Prepare p = agent.expectMessageClass(NodeAgent.Prepare.class, WAIT);
      boolean runsRanks = agent == other;
      p.replyTo().tell(new NodeAgent.Prepared(agent == other ? "other" : agent == host ? "host" : "worker",
          agent.ref(), runsRanks, agent == worker ? Optional.of(reader.ref()) : Optional.empty(),
          agent == worker ? 2 : 0, "", List.of()));
    }
    assertThat(client.expectMessageClass(JobCoordinator.Placed.class, WAIT).trainerHosts()).containsExactly("other");
    host.stop();
    client.expectNoMessage(Duration.ofMillis(500)); // not "trainer host host left the cluster"
    coordinator.tell(new JobCoordinator.RankFinished(next.id(), 0));
    coordinator.tell(new JobCoordinator.RankFinished(next.id(), 1));
    assertThat(client.expectMessageClass(JobCoordinator.Finished.class, WAIT).cursor())
        .isEqualTo(startCursor().encode());
  }
}
