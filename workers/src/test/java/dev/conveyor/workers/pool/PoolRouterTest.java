package dev.conveyor.workers.pool;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.pipeline.SampleStage;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.Member;
import dev.conveyor.streams.sample.RawSample;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A worker that cannot host a job's pools sends its groups to the fronts of those that can: cut
 * into parts that fit a message and put back together in order, spread over every front; the
 * parts a front held when it went away go to another; groups wait for a front to appear, and
 * one that waited past the bound is answered as dead letters naming the stages. Every message
 * between router and fronts goes through the wire format (serialize-messages on).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@ExtendWith(TestKitJUnit5Extension.class)
class PoolRouterTest {
  @JUnit5TestKit
  public final ActorTestKit kit = new JUnit5TestKitBuilder().withName("routers")
      .withCustomConfig(ConfigFactory.parseString("pekko.actor.serialize-messages = on").withFallback(ConfigFactory.load()))
      .build();

  /** Each sample's 8 bytes: a part of at most 40 bytes holds 5 samples. */
  static final long PART_BYTES = 40;

  /** What every front makes of a sample: its bytes reversed, under the member name "rev". */
  static RawSample reversed(RawSample s) {
    byte[] b = s.members().get(0).data().toArray();
    byte[] r = new byte[b.length];
    for (int i = 0; i < b.length; i++) {
      r[i] = b[b.length - 1 - i];
    }
    return new RawSample(s.shard(), s.key(), List.of(new Member("rev", ByteString.fromArray(r))));
  }

  /** A front's pools: reverse each sample, counting the samples this front was given. */
  static SampleStage reversing(AtomicInteger seen) {
    return (epoch, group) -> {
      List<ReadEvent> out = new ArrayList<>();
      for (ReadEvent e : group) {
        ReadEvent.Slot s = (ReadEvent.Slot) e;
        seen.incrementAndGet();
        out.add(new ReadEvent.Slot(s.position(), reversed((RawSample) s.record())));
      }
      return CompletableFuture.completedFuture(out);
    };
  }

  static List<ReadEvent> expected(List<ReadEvent> events) {
    return events.stream().map(e -> (ReadEvent) new ReadEvent.Slot(((ReadEvent.Slot) e).position(),
        reversed((RawSample) ((ReadEvent.Slot) e).record()))).toList();
  }

  final java.util.Map<String, PoolRouter.Stats> stats = new java.util.concurrent.ConcurrentHashMap<>();

  ActorRef<PoolRouter.Command> router(String job, Duration wait) {
    PoolRouter.Stats s = new PoolRouter.Stats(List.of("caption#1"));
    stats.put(job, s);
    return kit.spawn(PoolRouter.create(job, wait, PART_BYTES, s));
  }

  @Test
  void groupsAreCutIntoPartsSpreadOverEveryFrontAndPutBackInOrder() throws Exception {
    AtomicInteger a = new AtomicInteger();
    AtomicInteger b = new AtomicInteger();
    // the fronts answer in parts of at most 16 bytes (2 samples): more parts back than went out
    kit.spawn(PoolFront.create("j1", reversing(a), 16));
    kit.spawn(PoolFront.create("j1", reversing(b), 16));
    SampleStage stage = PoolRouter.stage(router("j1", Duration.ofMinutes(1)));
    List<ReadEvent> events = ActorPoolTest.group(0, 200);
    assertThat(ActorPoolTest.through(stage, events, 20)).isEqualTo(expected(events));
    assertThat(a.get() + b.get()).as("each sample once").isEqualTo(200);
    assertThat(a.get()).as("both fronts took parts").isPositive();
    assertThat(b.get()).isPositive();
    assertThat(stats.get("j1").samplesSent()).isEqualTo(200);
    assertThat(stats.get("j1").fronts()).isEqualTo(2);
  }

  @Test
  void thePartsAFrontHeldWhenItWentAwayGoToAnother() throws Exception {
    AtomicInteger held = new AtomicInteger();
    // this front takes parts and never answers, until it is stopped
    ActorRef<PoolFront.Command> stuck = kit.spawn(PoolFront.create("j2", (epoch, group) -> {
      held.addAndGet(group.size());
      return new CompletableFuture<>();
    }, PART_BYTES));
    AtomicInteger calm = new AtomicInteger();
    kit.spawn(PoolFront.create("j2", reversing(calm), PART_BYTES));
    ActorRef<PoolRouter.Command> router = router("j2", Duration.ofMinutes(1));
    List<ReadEvent> events = ActorPoolTest.group(0, 20);
    awaitFronts("j2", 2);
    CompletableFuture<List<ReadEvent>> answer = PoolRouter.stage(router).apply(0, events).toCompletableFuture();
    while (held.get() == 0) {
      Thread.sleep(10);
    }
    Thread.sleep(200);
    assertThat(answer).as("the stuck front holds part of the group").isNotDone();
    kit.stop(stuck);
    assertThat(answer.get(20, TimeUnit.SECONDS)).isEqualTo(expected(events));
    assertThat(calm.get()).as("the calm front did its parts and the stuck one's").isEqualTo(20);
    assertThat(stats.get("j2").partsResent()).as("the stuck front's parts (5 samples each)").isEqualTo(held.get() / 5);
  }

  @Test
  void aGroupWaitsForAFrontAndIsADeadLetterNamingTheStagesWhenNoneCame() throws Exception {
    List<ReadEvent> events = ActorPoolTest.group(0, 12);
    CompletableFuture<List<ReadEvent>> early =
        PoolRouter.stage(router("j3", Duration.ofMinutes(1))).apply(0, events).toCompletableFuture();
    Thread.sleep(300);
    assertThat(early).as("no front yet").isNotDone();
    kit.spawn(PoolFront.create("j3", reversing(new AtomicInteger()), PART_BYTES));
    assertThat(early.get(20, TimeUnit.SECONDS)).isEqualTo(expected(events));

    List<ReadEvent> lost = PoolRouter.stage(router("j4", Duration.ofSeconds(1))).apply(0, events)
        .toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertThat(lost).hasSize(12).allSatisfy(e -> assertThat(((ReadEvent.Slot) e).record()).isInstanceOfSatisfying(
        DeadLetter.class, d -> assertThat(d.reason()).contains("caption#1").contains("no worker that hosts the pools")));
    assertThat(stats.get("j4").deadLetters()).isEqualTo(12);
    assertThat(stats.get("j4").waiting()).isZero();
  }

  /** Waits until job {@code job} has {@code n} fronts listed by the receptionist. */
  void awaitFronts(String job, int n) throws InterruptedException {
    var probe = kit.<Receptionist.Listing>createTestProbe();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      kit.system().receptionist().tell(Receptionist.find(PoolFront.key(job), probe.ref()));
      if (probe.receiveMessage().getServiceInstances(PoolFront.key(job)).size() == n) {
        Thread.sleep(100); // the router's subscription is told at the same time
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("the fronts never registered");
  }
}
