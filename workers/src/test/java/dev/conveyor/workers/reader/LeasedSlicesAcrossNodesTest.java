package dev.conveyor.workers.reader;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.StageSettings.HandOff;
import dev.conveyor.streams.batch.BatchDigest;
import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.pipeline.RankPipeline;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import dev.conveyor.streams.manifest.Manifest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rank's slices read by shard readers on other nodes — separate actor systems in one Pekko
 * cluster on 127.0.0.1, every message serialized (serialize-messages = on) — give the same
 * batches as a local read, also when a reader's node goes away mid-stream.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LeasedSlicesAcrossNodesTest {
  @TempDir
  static Path dir;

  static DataPlan plan;
  /** Events in groups of 2: a slice is several messages long, so a reader node can go away mid-slice. */
  static final RankPipeline.Settings SETTINGS = new RankPipeline.Settings(2, 2, 1 << 24, RankPipeline::identity, 0,
      Map.of(), new HandOff(2, 1 << 20, Duration.ofMillis(10)));
  /**
   * A slice's stream holds 2 groups (4 events) on the rank's side: slice 0 has 12 events or more,
   * so its reader is still mid-slice when it goes away after the rank took 3 (with Pekko's 32
   * the whole slice could already be on the rank's side by then, and nothing left to resume).
   */
  static final LeasedSlices.Settings LEASES = new LeasedSlices.Settings(Duration.ofSeconds(3), 4, Duration.ofMillis(100), 2,
      2);

  final List<ActorSystem<?>> systems = new ArrayList<>();

  @BeforeAll
  static void data() throws Exception {
    Manifest m = new DatasetGenerator(new FileShardStore(), dir.resolve("scratch"), 2)
        .generate(new DatasetSpec(120, 2, 160 * 1024, 5), dir.resolve("data").toUri(), n -> { });
    plan = new DataPlan(new Recipe(m.shardSet(dir.resolve("data").toUri()), 17, 4, false, new Recipe.Shuffle(true, 2, 10), "none"));
  }

  @AfterEach
  void stop() {
    systems.forEach(ActorSystem::terminate);
  }

  static Config node(String name) {
    return ConfigFactory.parseString(crashes(name) + """
        pekko.actor.provider = cluster
        pekko.actor.serialize-messages = on
        pekko.cluster.downing-provider-class = "org.apache.pekko.cluster.sbr.SplitBrainResolverProvider"
        pekko.cluster.split-brain-resolver.active-strategy = keep-majority
        pekko.cluster.split-brain-resolver.stable-after = 2s
        pekko.cluster.failure-detector.acceptable-heartbeat-pause = 2s
        pekko.cluster.jmx.enabled = off
        # a small window across the network, so that a reader is mid-slice when its node goes
        pekko.stream.materializer.stream-ref.buffer-capacity = 2
        pekko.remote.artery.canonical.hostname = 127.0.0.1
        pekko.remote.artery.canonical.port = 0
        pekko.remote.watch-failure-detector.acceptable-heartbeat-pause = 3s
        pekko.loglevel = WARNING
        """).withFallback(ConfigFactory.load());
  }

  ActorSystem<Void> host;

  /**
   * The worker nodes stop like a crash when terminated: no coordinated shutdown, so no graceful
   * leave from the cluster and no draining of their streams (a killed JVM's separate-process
   * test belongs to the simulation suite).
   */
  static String crashes(String name) {
    return name.startsWith("w") ? "pekko.coordinated-shutdown.run-by-actor-system-terminate = off\n" : "";
  }

  /** The trainer host: the first node of the cluster. */
  ActorSystem<Void> host() {
    host = ActorSystem.create(Behaviors.empty(), "conveyor", node("host"));
    systems.add(host);
    Cluster.get(host).manager().tell(Join.create(Cluster.get(host).selfMember().address()));
    return host;
  }

  /** A worker node, joined to the host's cluster: its actor system is a shard reader. */
  ActorSystem<ShardReader.Command> worker(String name) throws Exception {
    ActorSystem<ShardReader.Command> w = ActorSystem.create(ShardReader.create(new FileShardStore(), plan, SETTINGS),
        "conveyor", node(name));
    systems.add(w);
    Cluster.get(w).manager().tell(Join.create(Cluster.get(host).selfMember().address()));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (Cluster.get(w).selfMember().status() != MemberStatus.up()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(name + " did not join the cluster within 30 s");
      }
      Thread.sleep(20);
    }
    return w;
  }

  /** {@code ref} as the trainer host sees it: a remote reference, resolved from its address. */
  static ActorRef<ShardReader.Command> remote(ActorSystem<?> from, ActorSystem<ShardReader.Command> ref) {
    return ActorRefResolver.get(from).resolveActorRef(ActorRefResolver.get(ref).toSerializationFormat(ref));
  }

  static List<String> digests(Source<RankEvent, ?> events, Materializer mat) throws Exception {
    List<String> out = new ArrayList<>();
    for (RankEvent e : events.runWith(Sink.seq(), mat).toCompletableFuture().get(90, TimeUnit.SECONDS)) {
      if (e instanceof RawBatch b) {
        out.add(b.epoch() + " " + b.step() + " " + b.rank() + " " + BatchDigest.of(b));
      } else {
        out.add(e.toString());
      }
    }
    return out;
  }

  static RankSegment segment(int rank) {
    return plan.rank(Cursor.start(plan.recipe().fingerprint(), 2), 2, rank);
  }

  @Test
  void slicesReadOnOtherNodesGiveTheBatchesOfALocalRead() throws Exception {
    ActorSystem<Void> host = host();
    ActorSystem<ShardReader.Command> w1 = worker("w1");
    ActorSystem<ShardReader.Command> w2 = worker("w2");
    Materializer mat = Materializer.createMaterializer(host);
    for (int rank = 0; rank < 2; rank++) {
      RankSegment seg = segment(rank);
      List<String> local = digests(RankPipeline.events(new FileShardStore(), plan, seg, SETTINGS), mat);
      LeasedSlices.Stats stats = new LeasedSlices.Stats();
      List<String> leased = digests(LeasedSlices.events(seg, List.of(remote(host, w1), remote(host, w2)), host, LEASES, stats)
          .via(RankPipeline.batches(seg)), mat);
      assertThat(local).hasSizeGreaterThan(5);
      assertThat(leased).isEqualTo(local);
      assertThat(stats.leases()).isEqualTo(RankPipeline.slices(seg).size());
      assertThat(stats.reassigned()).isZero();
    }
  }

  /** What a rank's slice-0 reading gave while something happened to its reader's node, and what a local read gives. */
  record Disturbed(List<String> local, List<String> leased, LeasedSlices.Stats stats) {}

  /**
   * Rank 0 reads its slices from w1 and w2, taking events slower than the readers make them (so
   * streams are mid-way), and after the third event does {@code toW1} to w1, the reader of slice 0.
   */
  Disturbed readWhile(java.util.function.Consumer<ActorSystem<ShardReader.Command>> toW1) throws Exception {
    ActorSystem<Void> host = host();
    ActorSystem<ShardReader.Command> w1 = worker("w1");
    ActorSystem<ShardReader.Command> w2 = worker("w2");
    Materializer mat = Materializer.createMaterializer(host);
    RankSegment seg = segment(0);
    assertThat(RankPipeline.slices(seg).get(0).first().size()).as("slice 0, read by w1").isGreaterThanOrEqualTo(12);
    List<String> local = digests(RankPipeline.events(new FileShardStore(), plan, seg, SETTINGS), mat);
    LeasedSlices.Stats stats = new LeasedSlices.Stats();
    AtomicInteger seen = new AtomicInteger();
    List<String> leased = digests(LeasedSlices.events(seg, List.of(remote(host, w1), remote(host, w2)), host, LEASES, stats)
        .map(e -> {
          if (seen.incrementAndGet() == 3) {
            toW1.accept(w1);
          }
          return e;
        })
        .throttle(20, Duration.ofMillis(100))
        .via(RankPipeline.batches(seg)), mat);
    return new Disturbed(local, leased, stats);
  }

  @Test
  void whenAReaderNodeGoesAwayMidStreamItsSlicesAreLeasedAgainAndTheBatchesDoNotChange() throws Exception {
    Disturbed d = readWhile(ActorSystem::terminate); // a crash: no coordinated shutdown on the workers
    LeasedSlices.Stats stats = d.stats();
    System.err.printf("reader node lost mid-slice: %d batches, %d leases, %d leased again (%d mid-slice), %d repeated events dropped%n",
        d.leased().size(), stats.leases(), stats.reassigned(), stats.resumedMidSlice(), stats.duplicatesDropped());
    assertThat(d.leased()).isEqualTo(d.local());
    assertThat(stats.reassigned()).isPositive();
    assertThat(stats.resumedMidSlice()).isPositive(); // the new reader went on from where the lost one stopped
  }

  @Test
  void aReaderNodeThatLeavesHandsItsSlicesBackMidStreamAndNothingCountsAsAFailure() throws Exception {
    // SIGTERM runs this: the node leaves the cluster, and its readers hand their leases back first
    Disturbed d = readWhile(w1 -> CoordinatedShutdown.get(Adapter.toClassic(w1)).runAll(CoordinatedShutdown.clusterLeavingReason()));
    LeasedSlices.Stats stats = d.stats();
    System.err.printf("reader node left mid-slice: %d batches, %d leases, %d handed back, %d leased again after a failure%n",
        d.leased().size(), stats.leases(), stats.handedBack(), stats.reassigned());
    assertThat(d.leased()).isEqualTo(d.local());
    assertThat(stats.handedBack()).isPositive();
    assertThat(stats.resumedMidSlice()).as("the next reader went on from the hand-back").isPositive();
    assertThat(stats.reassigned()).as("a planned leave is not a failure").isZero();
  }
}
