package dev.conveyor.orchestrator.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.DecodeSettings;
import dev.conveyor.config.StageSettings;
import dev.conveyor.orchestrator.coordinator.CoordinatorActor;
import dev.conveyor.orchestrator.coordinator.JobCoordinator;
import dev.conveyor.orchestrator.coordinator.JobSpec;
import dev.conveyor.orchestrator.delivery.ClientEvent;
import dev.conveyor.orchestrator.delivery.Delivery;
import dev.conveyor.orchestrator.delivery.JobOutputs;
import dev.conveyor.orchestrator.delivery.RankReport;
import dev.conveyor.orchestrator.node.NodeAgent;
import dev.conveyor.streams.batch.BatchDigest;
import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.decode.SampleMap;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.pipeline.DecoderStage;
import dev.conveyor.streams.pipeline.RankPipeline;
import dev.conveyor.streams.pipeline.Stages;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.sample.Decoded;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.streams.store.ForwardingShardStore;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import dev.conveyor.workers.reader.LeasedSlices;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job on a 3-node Pekko cluster on 127.0.0.1 — one trainer host serving both ranks, two
 * workers reading slices — submitted to the job coordinator (a cluster singleton), every
 * message serialized: its batch digests equal a single-process read's, in lockstep order.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterJobTest {
  static final LeasedSlices.Settings LEASES = new LeasedSlices.Settings(Duration.ofSeconds(5), 4, Duration.ofMillis(100), 2);

  /** Digest lines ({@code epoch step rank …}) in lockstep order. */
  static final java.util.Comparator<String> LOCKSTEP = java.util.Comparator
      .comparing((String l) -> Long.parseLong(l.split(" ")[0]))
      .thenComparing(l -> Long.parseLong(l.split(" ")[1]))
      .thenComparing(l -> Long.parseLong(l.split(" ")[2]));

  @TempDir
  static Path dir;

  static Recipe recipe;
  final List<ActorSystem<?>> systems = new ArrayList<>();

  @BeforeAll
  static void data() throws Exception {
    Manifest m = new DatasetGenerator(new FileShardStore(), dir.resolve("scratch"), 2)
        .generate(new DatasetSpec(80, 2, 96 * 1024, 11), dir.resolve("data").toUri(), n -> { });
    recipe = new Recipe(m.shardSet(dir.resolve("data").toUri()), 23, 4, false, new Recipe.Shuffle(true, 2, 16), "none");
  }

  @AfterEach
  void stop() {
    systems.forEach(ActorSystem::terminate);
  }

  static Config node(String role) {
    return ConfigFactory.parseString("""
        pekko.actor.provider = cluster
        pekko.actor.serialize-messages = on
        pekko.remote.artery.canonical.hostname = 127.0.0.1
        pekko.remote.artery.canonical.port = 0
        pekko.cluster.jmx.enabled = off
        pekko.loglevel = WARNING
        pekko.cluster.roles = [%s]
        """.formatted(role)).withFallback(ConfigFactory.load());
  }

  /** What the nodes started next have beside {@link #node}'s settings. */
  Config nodeSettings = ConfigFactory.empty();

  /** A node: its guardian is the node agent, with the node's roles and a store of its own. */
  ActorSystem<?> start(String role, ActorSystem<?> seed) throws Exception {
    return start(role, seed, u -> new FileShardStore(), LEASES);
  }

  /** A node reading through {@code stores}, leasing with {@code leases}. */
  ActorSystem<?> start(String role, ActorSystem<?> seed, java.util.function.Function<java.net.URI, ShardStore> stores,
                       LeasedSlices.Settings leases) throws Exception {
    ActorSystem<NodeAgent.Command> s = ActorSystem.create(NodeAgent.create(Set.of(role), stores, leases), "conveyor",
        nodeSettings.withFallback(node(role)));
    systems.add(s);
    Cluster c = Cluster.get(s);
    c.manager().tell(Join.create((seed == null ? c : Cluster.get(seed)).selfMember().address()));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (c.selfMember().status() != MemberStatus.up()) {
      assertThat(System.nanoTime()).as("joined within 30 s").isLessThan(deadline);
      Thread.sleep(20);
    }
    return s;
  }

  static List<String> reference(JobSpec job) throws Exception {
    return reference(job, job.pipeline());
  }

  /** What one process delivers of {@code job}, read with {@code pipeline}: digest lines in lockstep order. */
  static List<String> reference(JobSpec job, RankPipeline.Settings pipeline) throws Exception {
    return reference(job, pipeline, new ArrayList<>());
  }

  /** The same, adding the dead letters skipped to {@code skips}. */
  static List<String> reference(JobSpec job, RankPipeline.Settings pipeline, List<String> skips) throws Exception {
    ActorSystem<Void> local = ActorSystem.create(Behaviors.empty(), "reference");
    try {
      Materializer mat = Materializer.createMaterializer(local);
      DataPlan plan = new DataPlan(job.recipe());
      Cursor start = Cursor.start(job.recipe().fingerprint(), job.world()); // every epoch from its start
      List<String> lines = new ArrayList<>();
      for (int e = 0; e < job.epochs(); e++) {
        for (int r = 0; r < job.world(); r++) {
          RankSegment seg = plan.rank(start.atEpoch(e, job.world()), job.world(), r);
          for (RankEvent ev : RankPipeline.events(new FileShardStore(), plan, seg, pipeline)
              .runWith(Sink.seq(), mat).toCompletableFuture().get(60, TimeUnit.SECONDS)) {
            if (ev instanceof RawBatch b) {
              BatchDigest d = BatchDigest.of(b);
              lines.add(b.epoch() + " " + b.step() + " " + b.rank() + " " + d.bytesSha256() + " " + d.keysSha256());
            } else if (ev instanceof dev.conveyor.streams.batch.Skipped k) {
              skips.add(k.deadLetter().line());
            }
          }
        }
      }
      lines.sort(LOCKSTEP);
      return lines;
    } finally {
      local.terminate();
    }
  }

  /** Three nodes (a trainer host, two workers) and the coordinator singleton, from the host. */
  ActorRef<JobCoordinator.Command> cluster() throws Exception {
    ActorSystem<?> host = start(NodeAgent.TRAINER_HOST, null);
    start(NodeAgent.WORKER, host);
    start(NodeAgent.WORKER, host);
    this.host = host;
    return ClusterSingleton.get(host)
        .init(SingletonActor.of(CoordinatorActor.create(Duration.ofSeconds(10), u -> new FileShardStore()),
            "job-coordinator"));
  }

  ActorSystem<?> host;

  /** Submits {@code job} until it is placed with both workers' readers (the receptionist spreads registrations with a delay). */
  static JobCoordinator.Placed place(ActorRef<JobCoordinator.Command> coordinator, JobSpec job, TestProbe<ClientEvent> client)
      throws Exception {
    Object first = null;
    for (int attempt = 0; attempt < 50 && !(first instanceof JobCoordinator.Placed); attempt++) {
      coordinator.tell(new JobCoordinator.Submit(job, client.ref()));
      first = client.receiveMessage(Duration.ofSeconds(15));
      if (first instanceof JobCoordinator.Placed p && p.readers() < 2) {
        // placed before the second worker was known: let this run end and submit again
        gather(client, job);
        p.coordinator().tell(new JobCoordinator.Finish(job.id()));
        client.expectMessageClass(JobCoordinator.Finished.class, Duration.ofSeconds(30));
        first = null;
      }
      if (!(first instanceof JobCoordinator.Placed)) {
        Thread.sleep(200);
      }
    }
    assertThat(first).isInstanceOf(JobCoordinator.Placed.class);
    return (JobCoordinator.Placed) first;
  }

  /** The digest lines of a placed job in lockstep order, until every rank is done; fails on a failed rank. */
  static List<String> gather(TestProbe<ClientEvent> client, JobSpec job) {
    return gather(client, job, new ArrayList<>());
  }

  /** The same, adding the dead letters the ranks skipped to {@code skips}. */
  static List<String> gather(TestProbe<ClientEvent> client, JobSpec job, List<String> skips) {
    List<String> lines = new ArrayList<>();
    int done = 0;
    while (done < job.world()) {
      Object e = client.receiveMessage(Duration.ofSeconds(60));
      assertThat(e).isNotInstanceOf(RankReport.RankFailed.class);
      if (e instanceof RankReport.BatchDone b) {
        lines.add(b.epoch() + " " + b.step() + " " + b.rank() + " " + b.bytesSha256() + " " + b.keysSha256());
      } else if (e instanceof RankReport.SkipDone k) {
        skips.add(k.deadLetter().line());
      } else if (e instanceof RankReport.RankDone d) {
        assertThat(d.reassigned()).as("nothing failed").isZero();
        done++;
      }
    }
    lines.sort(LOCKSTEP);
    return lines;
  }

  @Test
  void aJobOnAThreeNodeClusterDeliversTheBatchesOfASingleProcessRun() throws Exception {
    ActorRef<JobCoordinator.Command> coordinator = cluster();
    Path cursors = dir.resolve("cursors-t1");
    // an earlier run of the same recipe left its final cursor there: this run must not be taken for it
    java.nio.file.Files.createDirectories(cursors);
    String earlier = Cursor.start(recipe.fingerprint(), 2).atEpoch(1, 2).withDelivered(0, 9).withDelivered(1, 9).encode();
    java.nio.file.Files.writeString(cursors.resolve("latest.cursor"), earlier + "\n");
    JobSpec job = JobSpec.of("t1", recipe, Map.of(), 2, 2, 2, 2, 1 << 24)
        .checkpointed(cursors.toString(), 0, 3, "", 0); // saves at the start and at the end only
    TestProbe<ClientEvent> client = TestProbe.create(host);
    JobCoordinator.Placed placed = place(coordinator, job, client);
    assertThat(placed.trainerHosts()).hasSize(1);
    String start = Cursor.start(recipe.fingerprint(), 2).encode();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!java.nio.file.Files.readString(cursors.resolve("latest.cursor")).trim().equals(start)) {
      assertThat(System.nanoTime()).as("the start cursor saved first").isLessThan(deadline);
      Thread.sleep(20);
    }

    List<String> lines = gather(client, job);
    placed.coordinator().tell(new JobCoordinator.Finish(job.id()));
    JobCoordinator.Finished finished = client.expectMessageClass(JobCoordinator.Finished.class, Duration.ofSeconds(30));
    assertThat(lines).hasSizeGreaterThan(10).isEqualTo(reference(job));
    assertThat(finished.persisted()).isTrue();
    assertThat(finished.cursor()).as("the cursor after the last batch of every rank").isEqualTo(finalCursor(job, lines));
    assertThat(java.nio.file.Files.readString(cursors.resolve("latest.cursor")).trim()).isEqualTo(finished.cursor());
  }

  /**
   * A map stage that shifts each picture's first byte by a draw from the sample's own random
   * stream, and throws on about one sample in 13 (a bug in the author's code).
   */
  public static final class ShiftFirstByte implements SampleMap {
    @Override
    public RawSample apply(RawSample decoded, SplittableRandom random) {
      if (refused(decoded.key())) {
        throw new IllegalStateException("cannot shift " + decoded.key());
      }
      Decoded d = decoded.decoded().orElseThrow();
      if (d.image().isEmpty()) {
        return decoded;
      }
      Decoded.Picture p = d.image().get();
      byte[] rgb = p.rgb().clone();
      rgb[0] = (byte) (rgb[0] + random.nextInt(1, 256));
      return decoded.withDecoded(new Decoded(Optional.of(new Decoded.Picture(rgb, p.height(), p.width(),
          p.originalWidth(), p.originalHeight())), d.video(), d.text()));
    }
  }

  static boolean refused(String key) {
    return Math.floorMod(key.hashCode(), 13) == 0;
  }

  @Test
  void aDecodingJobWithAMapStageRunsInTheWorkersDecoderPoolsAndDeliversWhatOneProcessDoes() throws Exception {
    ActorRef<JobCoordinator.Command> coordinator = cluster();
    DecodeSettings decode = DecodeSettings.fromConfig(ConfigFactory.parseString(
        "conveyor.decode { image.short-side = 48, image.crop-height = 32, image.crop-width = 32, video.frames = 2,"
            + " video.short-side = 32, video.crop-height = 24, video.crop-width = 24, augment.random-crop = on }")
        .withFallback(ConfigFactory.defaultReference()));
    StageSettings stages = Stages.decode(dev.conveyor.config.Resources.cpus(1)).pool(2)
        .map(ShiftFirstByte.class, dev.conveyor.config.Resources.cpus(0.5)).settings();
    Recipe decoding = new Recipe(recipe.shards(), recipe.seed(), recipe.batchSize(), recipe.dropLast(), recipe.shuffle(),
        "auto:" + decode.canonical() + ";map=" + ShiftFirstByte.class.getName());
    JobSpec job = JobSpec.of("t2", decoding, Map.of(), 2, 1, 2, 2, 1 << 24).decoding(decode, stages);
    TestProbe<ClientEvent> client = TestProbe.create(host);
    JobCoordinator.Placed placed = place(coordinator, job, client);
    assertThat(placed.shares()).as("a pool of 2 decoders on each worker").hasSize(2).allMatch(s -> s.endsWith("=2"));
    List<String> skips = new ArrayList<>();
    List<String> lines = gather(client, job, skips);

    List<String> expected;
    List<String> expectedSkips = new ArrayList<>();
    try (DecoderStage local = new DecoderStage(decode, decoding.seed(), 2, Optional.of(new ShiftFirstByte()))) {
      expected = reference(job, job.decoding(local::apply, 2), expectedSkips);
    }
    assertThat(lines).hasSizeGreaterThan(10).isEqualTo(expected);
    // supervision across the cluster: each refused sample is a dead letter, its decoder restarted, the rest flow
    assertThat(expectedSkips).as("the map refuses some samples").isNotEmpty();
    assertThat(skips).hasSameSizeAs(expectedSkips)
        .allMatch(l -> l.contains("ShiftFirstByte failed") && l.contains("its decoder was restarted"));
    long restarts = 0;
    for (ActorSystem<?> s : systems) {
      restarts += dev.conveyor.orchestrator.node.NodeState.get(s).decoderRestarts();
    }
    assertThat(restarts).isEqualTo(skips.size());
  }

  @Test
  void aRankThatCannotGoOnIsEscalatedTheJobStopsAndTheClientIsToldWhy() throws Exception {
    LeasedSlices.Settings quick = new LeasedSlices.Settings(Duration.ofSeconds(1), 3, Duration.ofMillis(100), 2);
    // the workers' disks are gone: every lease's stream fails as it is set up
    java.util.function.Function<java.net.URI, ShardStore> gone = u -> new ForwardingShardStore(new FileShardStore()) {
      @Override
      public Source<ByteString, NotUsed> read(java.net.URI shard) {
        throw new IllegalStateException("disk gone");
      }

      @Override
      public Source<ByteString, NotUsed> read(java.net.URI shard, long offset, long length) {
        throw new IllegalStateException("disk gone");
      }

      @Override
      public void close() {
        inner.close();
      }
    };
    ActorSystem<?> host = start(NodeAgent.TRAINER_HOST, null, u -> new FileShardStore(), quick);
    start(NodeAgent.WORKER, host, gone, quick);
    start(NodeAgent.WORKER, host, gone, quick);
    ActorRef<JobCoordinator.Command> coordinator = ClusterSingleton.get(host)
        .init(SingletonActor.of(CoordinatorActor.create(Duration.ofSeconds(10), u -> new FileShardStore()),
            "job-coordinator"));
    JobSpec job = JobSpec.of("t3", recipe, Map.of(), 2, 1, 2, 2, 1 << 24);
    TestProbe<ClientEvent> client = TestProbe.create(host);
    Object e = null;
    for (int attempt = 0; attempt < 50 && !(e instanceof JobCoordinator.Placed); attempt++) {
      coordinator.tell(new JobCoordinator.Submit(job, client.ref()));
      e = client.receiveMessage(Duration.ofSeconds(15));
    }
    assertThat(e).isInstanceOf(JobCoordinator.Placed.class);
    // both ranks fail (their readers are gone); the job is stopped on whichever failure reaches
    // the coordinator first, which need not be the first one the client hears of
    java.util.Set<Integer> failed = new java.util.TreeSet<>();
    JobCoordinator.Failed stopped = null;
    while (stopped == null) {
      Object m = client.receiveMessage(Duration.ofSeconds(60));
      if (m instanceof RankReport.RankFailed f) {
        failed.add(f.rank());
      } else if (m instanceof JobCoordinator.Failed f) {
        stopped = f;
      }
      assertThat(m).isNotInstanceOf(RankReport.BatchDone.class);
    }
    java.util.regex.Matcher named = java.util.regex.Pattern.compile("^rank (\\d+) failed: ").matcher(stopped.reason());
    assertThat(named.find()).as("the reason names the rank: %s", stopped.reason()).isTrue();
    int rank = Integer.parseInt(named.group(1));
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!failed.contains(rank) && System.nanoTime() < deadline) { // its own report may still be on its way
      if (client.receiveMessage(Duration.ofSeconds(10)) instanceof RankReport.RankFailed f) {
        failed.add(f.rank());
      }
    }
    assertThat(failed).as("the rank the reason names reported its failure").contains(rank);
    assertThat(stopped.reason()).contains("the job was stopped");
    assertThat(stopped.passing()).isFalse();
  }

  @Test
  void aClientRemovedFromTheClusterMidJobFailsAtOnceSayingToRunTheSameCommandAgain() throws Exception {
    // the coordinator as the nodes run it: a singleton on the oldest worker, which the client's proxy
    // finds; the split-brain resolver as the nodes and the client have it (a member must agree on it)
    nodeSettings = ConfigFactory.parseString(
        "pekko.cluster.downing-provider-class = org.apache.pekko.cluster.sbr.SplitBrainResolverProvider");
    ActorSystem<?> host = start(NodeAgent.TRAINER_HOST, null);
    for (int i = 0; i < 2; i++) {
      CoordinatorActor.singleton(start(NodeAgent.WORKER, host), u -> new FileShardStore());
    }
    CoordinatorActor.singleton(host, u -> new FileShardStore());
    String seed = Cluster.get(host).selfMember().address().getHost().get() + ":"
        + Cluster.get(host).selfMember().address().getPort().get();
    ActorSystem<Void> client = ClusterClient.join(seed, ConfigFactory.parseString("pekko.loglevel = WARNING")
        .withFallback(ConfigFactory.load()));
    systems.add(client);
    // a job far longer than the test: it is running when the client is downed
    JobSpec job = JobSpec.of("t-removed", recipe, Map.of(), 2, 100_000, 2, 2, 1 << 24);
    java.util.concurrent.CountDownLatch placed = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CompletableFuture<ClusterClient.Outcome> run = java.util.concurrent.CompletableFuture.supplyAsync(
        () -> {
          try {
            return ClusterClient.run(client, job, new Delivery(job.ranks(), new Delivery.Policy(false, 1.0),
                new JobOutputs(Optional.empty(), Optional.empty(), Optional.empty()), line -> { }),
                line -> placed.countDown(), true, Duration.ofSeconds(60), Duration.ofMinutes(10));
          } catch (Exception e) {
            throw new java.util.concurrent.CompletionException(e);
          }
        });
    assertThat(placed.await(60, TimeUnit.SECONDS)).as("the job placed").isTrue();
    // the split-brain resolver's decision, as it downs every member of an unstable cluster
    Cluster.get(host).manager().tell(org.apache.pekko.cluster.typed.Down.apply(Cluster.get(client).selfMember().address()));
    long downed = System.nanoTime();
    assertThat(run).failsWithin(Duration.ofSeconds(30)).withThrowableThat()
        .havingRootCause().isInstanceOf(IllegalStateException.class)
        .withMessageContaining("this client was removed from the cluster")
        .withMessageContaining("run the same command again with --resume-or-start");
    assertThat((System.nanoTime() - downed) / 1e9).as("seconds to fail, not the 10-minute idle timeout").isLessThan(30);
  }

  @Test
  void fullBatchesOfThreeRanksOnTwoTrainerHostsStepAlikeAndDeliverWhatOneProcessDoesOfADatasetOrAMix() throws Exception {
    // 82 samples in 3 parts of 28, 27 and 27: 7, 6 and 6 batches of 4 could be made; every rank steps 6 times,
    // which rank 0's host learns from the other host's ranks
    ActorSystem<?> first = start(NodeAgent.TRAINER_HOST, null);
    start(NodeAgent.TRAINER_HOST, first);
    start(NodeAgent.WORKER, first);
    start(NodeAgent.WORKER, first);
    host = first;
    ActorRef<JobCoordinator.Command> coordinator = ClusterSingleton.get(first)
        .init(SingletonActor.of(CoordinatorActor.create(Duration.ofSeconds(10), u -> new FileShardStore()),
            "job-coordinator"));
    Recipe full = recipe.withFullBatches(true);
    JobSpec job = JobSpec.of("t-full", full, Map.of(), 3, 2, 2, 2, 1 << 24);
    TestProbe<ClientEvent> client = TestProbe.create(first);
    JobCoordinator.Placed placed = place(coordinator, job, client);
    assertThat(placed.trainerHosts()).as("the ranks on both trainer hosts").hasSize(2);
    List<String> lines = gather(client, job);
    placed.coordinator().tell(new JobCoordinator.Finish(job.id()));
    JobCoordinator.Finished finished = client.expectMessageClass(JobCoordinator.Finished.class, Duration.ofSeconds(30));
    assertThat(lines).isEqualTo(fullReference(job));
    for (int e = 0; e < 2; e++) {
      for (int r = 0; r < 3; r++) {
        String prefix = e + " ";
        String rank = " " + r + " ";
        assertThat(lines.stream().filter(l -> l.startsWith(prefix) && l.substring(l.indexOf(' ', 2)).startsWith(rank)))
            .as("epoch %d rank %d", e, r).hasSize(6);
      }
    }
    assertThat(Cursor.decode(finished.cursor()).current().batches()).containsExactly(6, 6, 6);
    // and a mix of the same shards' two halves, 0.7 and 0.3: each source's stream merged on the trainer host
    int n = recipe.shards().size();
    dev.conveyor.streams.plan.Mix mix = new dev.conveyor.streams.plan.Mix(List.of(
        new dev.conveyor.streams.plan.Mix.Source("a", 0, n / 2, 0.7, false),
        new dev.conveyor.streams.plan.Mix.Source("b", n / 2, n - n / 2, 0.3, true)),
        dev.conveyor.streams.plan.Mix.Batching.STRATIFIED);
    Recipe mixed = new Recipe(recipe.shards(), recipe.seed(), 4, false, recipe.shuffle(), "none", Optional.of(mix))
        .withFullBatches(true);
    JobSpec mixJob = JobSpec.of("t-full-mix", mixed, Map.of(), 3, 2, 2, 2, 1 << 24);
    JobCoordinator.Placed mixPlaced = place(coordinator, mixJob, client);
    List<String> mixLines = gather(client, mixJob);
    mixPlaced.coordinator().tell(new JobCoordinator.Finish(mixJob.id()));
    client.expectMessageClass(JobCoordinator.Finished.class, Duration.ofSeconds(30));
    assertThat(mixLines).isNotEmpty().isEqualTo(fullReference(mixJob));
  }

  /** What one process delivers of a job of full batches: its ranks read at once, through one gate. */
  static List<String> fullReference(JobSpec job) throws Exception {
    ActorSystem<Void> local = ActorSystem.create(Behaviors.empty(), "reference");
    try {
      Materializer mat = Materializer.createMaterializer(local);
      DataPlan plan = new DataPlan(job.recipe());
      Cursor start = Cursor.start(job.recipe().fingerprint(), job.world());
      List<String> lines = new ArrayList<>();
      for (int e = 0; e < job.epochs(); e++) {
        dev.conveyor.streams.pipeline.BatchGate gate = new dev.conveyor.streams.pipeline.BatchGate(job.world(), 2);
        List<java.util.concurrent.CompletableFuture<List<RankEvent>>> ranks = new ArrayList<>();
        for (int r = 0; r < job.world(); r++) {
          RankSegment seg = plan.rank(start.atEpoch(e, job.world()), job.world(), r);
          ranks.add(RankPipeline.events(new FileShardStore(), plan, seg, job.pipeline(), gate)
              .runWith(Sink.seq(), mat).toCompletableFuture());
        }
        for (java.util.concurrent.CompletableFuture<List<RankEvent>> f : ranks) {
          for (RankEvent ev : f.get(60, TimeUnit.SECONDS)) {
            if (ev instanceof RawBatch b) {
              BatchDigest d = BatchDigest.of(b);
              lines.add(b.epoch() + " " + b.step() + " " + b.rank() + " " + d.bytesSha256() + " " + d.keysSha256());
            }
          }
        }
      }
      lines.sort(LOCKSTEP);
      return lines;
    } finally {
      local.terminate();
    }
  }

  /** The cursor after {@code lines} (lockstep digest lines of a whole run): the last epoch, each rank's count in it. */
  static String finalCursor(JobSpec job, List<String> lines) {
    Cursor c = Cursor.start(job.recipe().fingerprint(), job.world()).atEpoch(job.epochs() - 1, job.world());
    for (String l : lines) {
      String[] f = l.split(" ");
      if (Integer.parseInt(f[0]) == job.epochs() - 1) {
        int rank = Integer.parseInt(f[2]);
        c = c.withDelivered(rank, c.current().batches(rank) + 1);
      }
    }
    return c.encode();
  }
}
