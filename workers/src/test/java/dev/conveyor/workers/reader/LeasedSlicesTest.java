package dev.conveyor.workers.reader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.pipeline.RankPipeline;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import dev.conveyor.workers.reader.ShardReader.SliceElement;
import dev.conveyor.workers.reader.ShardReader.SliceEvents;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamRefs;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The lease holder keeps a rank's sequence exact against readers that misbehave. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LeasedSlicesTest {
  @JUnit5TestKit
  public final ActorTestKit kit = new JUnit5TestKitBuilder().build();
  static final RankPipeline.Settings SETTINGS = new RankPipeline.Settings(2, 2, 1 << 24, RankPipeline::identity);
  static final LeasedSlices.Settings LEASES = new LeasedSlices.Settings(Duration.ofSeconds(2), 3, Duration.ofMillis(10), 2);

  @TempDir
  static Path dir;

  static DataPlan plan;
  static RankSegment seg;
  Materializer mat;

  @BeforeAll
  void data() throws Exception {
    Manifest m = new DatasetGenerator(new FileShardStore(), dir.resolve("scratch"), 2)
        .generate(new DatasetSpec(60, 0, 96 * 1024, 8), dir.resolve("data").toUri(), n -> { });
    plan = new DataPlan(new Recipe(m.shardSet(dir.resolve("data").toUri()), 3, 4, false, new Recipe.Shuffle(true, 2, 10), "none"));
    seg = plan.rank(Cursor.start(plan.recipe().fingerprint(), 1), 1, 0);
    mat = Materializer.createMaterializer(kit.system());
  }

  List<RankEvent> run(Source<RankEvent, ?> s) throws Exception {
    return s.runWith(Sink.seq(), mat).toCompletableFuture().get(50, TimeUnit.SECONDS);
  }

  /** A lease's slice read, from event {@code from} on, in groups of {@code group} events. */
  Source<SliceElement, ?> groups(ShardReader.Lease l, int group, long from) {
    return RankPipeline.slice(new FileShardStore(), plan, l.epoch(), l.slice(), l.firstPosition(), SETTINGS)
        .drop(from)
        .grouped(group)
        .zipWithIndex()
        .map(p -> (SliceElement) new SliceEvents(from + p.second() * group, p.first()));
  }

  /** {@code groups} and then the end marker, counting the events from {@code from}. */
  static Source<SliceElement, ?> ended(Source<SliceElement, ?> groups, long from) {
    return groups.statefulMap(() -> new long[] {from}, (c, e) -> {
      c[0] += ((SliceEvents) e).events().size();
      return org.apache.pekko.japi.Pair.create(c, e);
    }, c -> java.util.Optional.of(new ShardReader.SliceEnd(c[0])));
  }

  /**
   * A reader that, on its first lease of each slice, sends the events in groups of 2 and stops
   * after 4 events without the end marker (as a stream cut short would), and on later leases
   * ignores where to start and sends the slice from its first event again, in groups of 3: the
   * holder drops the first group whole and the first event of the second.
   */
  Behavior<ShardReader.Command> careless(AtomicInteger cut) {
    return Behaviors.setup(ctx -> new CarelessReader(ctx, cut));
  }

  private final class CarelessReader extends AbstractBehavior<ShardReader.Command> {
    private final AtomicInteger cut;

    CarelessReader(ActorContext<ShardReader.Command> ctx, AtomicInteger cut) {
      super(ctx);
      this.cut = cut;
    }

    @Override
    public Receive<ShardReader.Command> createReceive() {
      return newReceiveBuilder().onMessage(ShardReader.Lease.class, this::onLease).build();
    }

    private Behavior<ShardReader.Command> onLease(ShardReader.Lease l) {
      Source<SliceElement, ?> all = groups(l, l.fencing() == 0 ? 2 : 3, 0);
      Source<SliceElement, ?> sent;
      if (l.fencing() == 0) {
        cut.incrementAndGet();
        sent = all.take(2);
      } else {
        sent = ended(all, 0); // all of it, from the first event, and its end marker
      }
      l.replyTo().tell(new ShardReader.Offer(l.lease(), l.fencing(), sent.runWith(StreamRefs.sourceRef(), mat)));
      return this;
    }
  }

  @Test
  void aStreamCutShortIsLeasedAgainAndRepeatedEventsAreDropped() throws Exception {
    List<RankEvent> local = run(RankPipeline.events(new FileShardStore(), plan, seg, SETTINGS));
    AtomicInteger cut = new AtomicInteger();
    ActorRef<ShardReader.Command> reader = kit.spawn(careless(cut));
    LeasedSlices.Stats stats = new LeasedSlices.Stats();
    List<RankEvent> leased = run(LeasedSlices.events(seg, List.of(reader), kit.system(), LEASES, stats)
        .via(RankPipeline.batches(seg)));
    assertThat(leased).isEqualTo(local);
    int slices = RankPipeline.slices(seg).size();
    assertThat(cut.get()).isEqualTo(slices);
    assertThat(stats.reassigned()).isEqualTo(slices); // each slice once more, after its cut
    assertThat(RankPipeline.slices(seg)).allSatisfy(p -> assertThat(p.first().size()).isGreaterThanOrEqualTo(6));
    assertThat(stats.duplicatesDropped()).isEqualTo(4L * slices); // the 4 events each second lease repeated
  }

  static final int GROUP = 6;

  /**
   * A reader whose node is lost on its first lease of each slice: it sends one group of
   * {@link #GROUP} events, and 100 ms after the lease its stream fails (as a stream reference does when its
   * partner's node is gone); on later leases it sends the slice from where it is asked to, and its
   * end marker.
   */
  private final class LostReader extends AbstractBehavior<ShardReader.Command> {
    LostReader(ActorContext<ShardReader.Command> ctx) {
      super(ctx);
    }

    @Override
    public Receive<ShardReader.Command> createReceive() {
      return newReceiveBuilder().onMessage(ShardReader.Lease.class, this::onLease).build();
    }

    private Behavior<ShardReader.Command> onLease(ShardReader.Lease l) {
      Source<SliceElement, ?> all = groups(l, GROUP, l.fromOrdinal());
      if (l.fencing() == 0) {
        org.apache.pekko.japi.Pair<org.apache.pekko.stream.UniqueKillSwitch, org.apache.pekko.stream.SourceRef<SliceElement>> m =
            all.take(1).concat(Source.never()).viaMat(org.apache.pekko.stream.KillSwitches.single(), Keep.right())
                .toMat(StreamRefs.sourceRef(), Keep.both()).run(mat);
        l.replyTo().tell(new ShardReader.Offer(l.lease(), l.fencing(), m.second()));
        getContext().getSystem().scheduler().scheduleOnce(Duration.ofMillis(100),
            () -> m.first().abort(new IllegalStateException("the reader's node is gone")), getContext().getExecutionContext());
        return this;
      }
      l.replyTo().tell(new ShardReader.Offer(l.lease(), l.fencing(), ended(all, l.fromOrdinal())
          .runWith(StreamRefs.sourceRef(), mat)));
      return this;
    }
  }

  @Test
  void eventsStillWaitingForTheRankWhenTheirReadersStreamFailsAreReadAgainNotLost() throws Exception {
    List<RankEvent> local = run(RankPipeline.events(new FileShardStore(), plan, seg, SETTINGS));
    ActorRef<ShardReader.Command> reader = kit.spawn(Behaviors.setup(LostReader::new));
    LeasedSlices.Stats stats = new LeasedSlices.Stats();
    // a rank slower than the reader (30 ms an event): the group's last events still wait for it when the failure comes
    LeasedSlices.Settings oneAtATime = new LeasedSlices.Settings(Duration.ofSeconds(2), 3, Duration.ofMillis(10), 1, 1);
    List<RankEvent> leased = run(LeasedSlices.events(seg, List.of(reader), kit.system(), oneAtATime, stats)
        .throttle(1, Duration.ofMillis(30)).via(RankPipeline.batches(seg)));
    assertThat(leased).isEqualTo(local);
    assertThat(stats.reassigned()).isEqualTo(RankPipeline.slices(seg).size());
  }

  @Test
  void aReaderThatNeverOffersFailsTheRankAfterItsAttemptsWithTheReason() {
    ActorRef<ShardReader.Command> silent = kit.spawn(Behaviors.<ShardReader.Command>ignore());
    LeasedSlices.Settings quick = new LeasedSlices.Settings(Duration.ofMillis(200), 2, Duration.ofMillis(10), 1);
    LeasedSlices.Stats stats = new LeasedSlices.Stats();
    assertThatThrownBy(() -> run(LeasedSlices.events(seg, List.of(silent), kit.system(), quick, stats)
        .via(RankPipeline.batches(seg))))
        .hasRootCauseInstanceOf(java.util.concurrent.TimeoutException.class)
        .hasMessageContaining("slice 0 of epoch 0 (rank 0) could not be read: 2 leases of it failed, the last with")
        .hasMessageNotContaining("no shard reader is left");
    assertThat(stats.leases()).isEqualTo(2);
    // and when every reader's node is gone, the failure says so
    LeasedSlices.Readers gone = new LeasedSlices.Readers(List.of(silent), r -> false);
    assertThatThrownBy(() -> run(LeasedSlices.events(seg, gone, kit.system(), quick, new LeasedSlices.Stats())
        .via(RankPipeline.batches(seg))))
        .hasMessageContaining("no shard reader is left in the cluster (are the workers down?)");
  }

  @Test
  void whenEveryReaderIsGoneALeaseWaitsForOneThatJoinsInsteadOfAskingAGoneOne() throws Exception {
    List<RankEvent> local = run(RankPipeline.events(new FileShardStore(), plan, seg, SETTINGS));
    ActorRef<ShardReader.Command> gone = kit.spawn(Behaviors.<ShardReader.Command>ignore()); // its node left
    ActorRef<ShardReader.Command> joined = kit.spawn(ShardReader.create(new FileShardStore(), plan, SETTINGS));
    LeasedSlices.Readers readers = new LeasedSlices.Readers(List.of(gone), r -> !r.equals(gone));
    LeasedSlices.Stats stats = new LeasedSlices.Stats();
    java.util.concurrent.CompletionStage<List<RankEvent>> leased = LeasedSlices.events(seg, readers, kit.system(), LEASES,
        stats).via(RankPipeline.batches(seg)).runWith(Sink.seq(), mat);
    Thread.sleep(500); // longer than nothing, shorter than the 2 s a gone reader's offer would take to time out
    assertThat(readers.add(List.of(joined, joined))).as("a reader that joined, with 2 shares").isEqualTo(1);
    assertThat(readers.add(List.of(joined))).as("a reader already there").isZero();
    assertThat(leased.toCompletableFuture().get(50, TimeUnit.SECONDS)).isEqualTo(local);
    assertThat(stats.reassigned()).as("no lease went to the gone reader").isZero();
  }
}
