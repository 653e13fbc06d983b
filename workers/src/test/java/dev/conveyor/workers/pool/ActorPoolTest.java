package dev.conveyor.workers.pool;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.PoolSettings;
import dev.conveyor.config.Resources;
import dev.conveyor.streams.decode.AuthorSteps;
import dev.conveyor.streams.decode.SampleMap;
import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.pipeline.SampleStage;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.Member;
import dev.conveyor.streams.sample.RawSample;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An actor-pool stage on one node: each actor makes its instance once, answers come in plan
 * order whichever actor finishes first, the pool grows under load up to its limit and shrinks
 * when idle, a sample whose actor threw is retried once on another and then dead-lettered, and a
 * constructor that keeps failing breaks the pool with a reason naming the stage.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@ExtendWith(TestKitJUnit5Extension.class)
class ActorPoolTest {
  @JUnit5TestKit
  public final ActorTestKit kit = new JUnit5TestKitBuilder().withName("pools").withCustomConfig(ConfigFactory.load())
      .build();

  static final long SEED = 7;
  static final String STAGE = "caption#1";

  /**
   * A stateful stage: a "table" built once in the constructor (counted), a caption per sample from
   * its bytes, the table and the seeded random stream, after a pause that makes samples whose key
   * ends in 0 slow (so actors finish out of turn).
   */
  static final class Captioner implements SampleMap {
    static final AtomicInteger MADE = new AtomicInteger();
    private final int[] table = new int[256];
    private final long pauseMillis;

    Captioner(long pauseMillis) {
      MADE.incrementAndGet();
      for (int i = 0; i < table.length; i++) {
        table[i] = (i * 31 + 7) % 251;
      }
      this.pauseMillis = pauseMillis;
    }

    @Override
    public RawSample apply(RawSample s, SplittableRandom random) throws Exception {
      Thread.sleep(s.key().endsWith("0") ? pauseMillis * 4 : pauseMillis);
      byte[] in = s.members().get(0).data().toArray();
      StringBuilder caption = new StringBuilder();
      for (byte b : in) {
        caption.append((char) ('a' + table[b & 0xff] % 26));
      }
      caption.append(' ').append(random.nextInt(1000));
      return new RawSample(s.shard(), s.key(), List.of(new Member("txt", ByteString.fromString(caption.toString()))));
    }
  }

  static List<ReadEvent> group(int from, int n) {
    List<ReadEvent> g = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      byte[] b = new byte[8];
      new SplittableRandom(i).nextBytes(b);
      g.add(new ReadEvent.Slot(i, new RawSample("shard-0", "k" + i, List.of(new Member("bin", ByteString.fromArray(b))))));
    }
    return g;
  }

  static Supplier<AuthorSteps> steps(Supplier<SampleMap> make) {
    return () -> AuthorSteps.from(1, List.of(new AuthorSteps.Map(STAGE, make.get(), false)));
  }

  /** What the stage makes of {@code events}, fused: one instance, in one thread, in order. */
  static List<ReadEvent> reference(List<ReadEvent> events) throws Exception {
    AuthorSteps fused = AuthorSteps.from(1, List.of(new AuthorSteps.Map(STAGE, new Captioner(0), false)));
    List<ReadEvent> out = new ArrayList<>();
    for (ReadEvent e : events) {
      ReadEvent.Slot s = (ReadEvent.Slot) e;
      out.add(new ReadEvent.Slot(s.position(), fused.apply(SEED, 0, s.record())));
    }
    return out;
  }

  /** {@code events} through {@code stage} in groups of {@code n}, all sent at once; the answers in order. */
  static List<ReadEvent> through(SampleStage stage, List<ReadEvent> events, int n) throws Exception {
    List<CompletableFuture<List<ReadEvent>>> answers = new ArrayList<>();
    for (int i = 0; i < events.size(); i += n) {
      answers.add(stage.apply(0, events.subList(i, Math.min(events.size(), i + n))).toCompletableFuture());
    }
    List<ReadEvent> out = new ArrayList<>();
    for (CompletableFuture<List<ReadEvent>> a : answers) {
      out.addAll(a.get(60, TimeUnit.SECONDS));
    }
    return out;
  }

  ActorRef<ActorPool.Command> pool(PoolSettings.Pool p, PoolSettings.Autoscale a, int limit, Supplier<SampleMap> make,
                                   PoolStats stats) {
    return kit.spawn(ActorPool.create(p, a, limit, SEED, steps(make), stats));
  }

  static final PoolSettings.Autoscale STEADY = new PoolSettings.Autoscale(Duration.ofHours(1), Duration.ofHours(1), 3);

  @Test
  void eachActorMakesItsInstanceOnceAndAnswersKeepPlanOrderThoughActorsFinishOutOfTurn() throws Exception {
    PoolStats stats = new PoolStats(STAGE);
    int before = Captioner.MADE.get();
    SampleStage stage = ActorPool.stage(pool(new PoolSettings.Pool(STAGE, Resources.cpus(1), 3, 3), STEADY, 3,
        () -> new Captioner(5), stats));
    List<CompletableFuture<List<ReadEvent>>> answers = new ArrayList<>();
    List<Integer> finished = Collections.synchronizedList(new ArrayList<>());
    List<ReadEvent> all = new ArrayList<>();
    for (int g = 0; g < 30; g++) {
      List<ReadEvent> group = group(g * 3, 3);
      all.addAll(group);
      int n = g;
      answers.add(stage.apply(0, group).toCompletableFuture().whenComplete((r, e) -> finished.add(n)));
    }
    List<ReadEvent> out = new ArrayList<>();
    for (CompletableFuture<List<ReadEvent>> a : answers) {
      out.addAll(a.get(60, TimeUnit.SECONDS));
    }
    int made = Captioner.MADE.get() - before;
    assertThat(out).isEqualTo(reference(all));
    assertThat(finished).as("groups finished out of turn (the test's premise)").isNotEqualTo(
        finished.stream().sorted().toList());
    assertThat(stats.constructions()).isEqualTo(3);
    assertThat(made).as("instances made: one per actor").isEqualTo(3);
    assertThat(stats.samples()).isEqualTo(90);
  }

  @Test
  void aPoolGrowsUnderLoadToItsLimitNeverBeyondAndShrinksToItsMinWhenIdle() throws Exception {
    PoolStats stats = new PoolStats(STAGE);
    // concurrency (1, 8), but the node holds 3 actors' worth
    PoolSettings.Autoscale quick = new PoolSettings.Autoscale(Duration.ofMillis(100), Duration.ofMillis(600), 3);
    SampleStage stage = ActorPool.stage(pool(new PoolSettings.Pool(STAGE, Resources.cpus(1), 1, 8), quick, 3,
        () -> new Captioner(20), stats));
    List<Integer> sizes = new java.util.concurrent.CopyOnWriteArrayList<>();
    var sampler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    sampler.scheduleAtFixedRate(() -> sizes.add(stats.actors()), 0, 20, TimeUnit.MILLISECONDS);
    try {
      long start = System.nanoTime();
      List<CompletableFuture<List<ReadEvent>>> answers = new ArrayList<>();
      for (int g = 0; g < 60; g++) {
        answers.add(stage.apply(0, group(g * 4, 4)).toCompletableFuture());
      }
      long reachedMillis = -1;
      while (reachedMillis < 0 && System.nanoTime() - start < 10_000_000_000L) {
        if (stats.actors() == 3) {
          reachedMillis = (System.nanoTime() - start) / 1_000_000;
        }
        Thread.sleep(5);
      }
      assertThat(reachedMillis).as("ms to reach the limit under load").isBetween(0L, 10_000L);
      System.out.println("ActorPoolTest: from 1 actor to the limit of 3 in " + reachedMillis + " ms (grow-after 100 ms)");
      for (CompletableFuture<List<ReadEvent>> a : answers) {
        a.get(60, TimeUnit.SECONDS);
      }
      long idle = System.nanoTime();
      while (stats.actors() > 1 && System.nanoTime() - idle < 10_000_000_000L) {
        Thread.sleep(20);
      }
      assertThat(stats.actors()).as("shrunk to min when idle").isEqualTo(1);
      Thread.sleep(100);
    } finally {
      sampler.shutdownNow();
    }
    assertThat(sizes).as("sizes over time").contains(1, 2, 3).allMatch(n -> n <= 3);
    assertThat(stats.grown()).isEqualTo(2);
    assertThat(stats.shrunk()).isEqualTo(2);
    assertThat(stats.decisions()).extracting(PoolStats.Decision::actors).containsExactly(1, 2, 3, 2, 1);
    assertThat(stats.decisions().get(1).why()).contains("waited").contains("queued");
  }

  /** Throws the first time any actor sees one of the keys in {@link #FAIL_ONCE}; always on {@link #ALWAYS}. */
  static final class Flaky implements SampleMap {
    static final Set<String> FAIL_ONCE = ConcurrentHashMap.newKeySet();
    static final String ALWAYS = "k13";
    private final Captioner inner = new Captioner(1);

    @Override
    public RawSample apply(RawSample s, SplittableRandom random) throws Exception {
      if (FAIL_ONCE.remove(s.key()) || s.key().equals(ALWAYS)) {
        throw new IllegalStateException("flaky on " + s.key());
      }
      return inner.apply(s, random);
    }
  }

  @Test
  void aSampleWhoseActorThrewIsRetriedOnceAndDeliveredAndOneThatFailsTwiceIsADeadLetterNamingTheStage()
      throws Exception {
    PoolStats stats = new PoolStats(STAGE);
    Flaky.FAIL_ONCE.addAll(List.of("k5", "k22"));
    SampleStage stage = ActorPool.stage(pool(new PoolSettings.Pool(STAGE, Resources.cpus(1), 2, 2), STEADY, 2,
        Flaky::new, stats));
    List<ReadEvent> all = group(0, 32);
    List<ReadEvent> out = through(stage, all, 4);
    List<ReadEvent> expected = reference(all);
    for (int i = 0; i < out.size(); i++) {
      ReadEvent.Slot s = (ReadEvent.Slot) out.get(i);
      if (i == 13) {
        assertThat(s.record()).isInstanceOf(DeadLetter.class);
        assertThat(((DeadLetter) s.record()).reason()).contains(STAGE).contains("twice").contains("flaky on k13");
      } else {
        assertThat(s).as("sample " + i).isEqualTo(expected.get(i));
      }
    }
    assertThat(stats.restarts()).isEqualTo(4); // k5, k22 once; k13 twice
    assertThat(stats.retried()).isEqualTo(3);
    assertThat(stats.deadLetters()).isEqualTo(1);
    assertThat(stats.constructions()).as("2 actors, made again after each of 4 failures").isEqualTo(2 + 4);
  }

  /** Dies (an Error, not a stage's exception: its actor stops rather than restarts) the first time it sees k9. */
  static final class Dies implements SampleMap {
    static final java.util.concurrent.atomic.AtomicBoolean DIED = new java.util.concurrent.atomic.AtomicBoolean();
    private final Captioner inner = new Captioner(1);

    @Override
    public RawSample apply(RawSample s, SplittableRandom random) throws Exception {
      if (s.key().equals("k9") && DIED.compareAndSet(false, true)) {
        throw new AssertionError("the actor died holding " + s.key());
      }
      return inner.apply(s, random);
    }
  }

  @Test
  void anActorThatDiesMidGroupIsReplacedAndItsWholeGroupIsRunAgainOnAnother() throws Exception {
    PoolStats stats = new PoolStats(STAGE);
    SampleStage stage = ActorPool.stage(pool(new PoolSettings.Pool(STAGE, Resources.cpus(1), 2, 2), STEADY, 2,
        Dies::new, stats));
    List<ReadEvent> all = group(0, 24);
    List<ReadEvent> out = through(stage, all, 4);
    assertThat(Dies.DIED).as("the test's premise").isTrue();
    assertThat(out).as("every sample delivered as an undisturbed run delivers it").isEqualTo(reference(all));
    assertThat(stats.constructions()).as("2 actors and the one made in place of the dead").isEqualTo(3);
    assertThat(stats.actors()).isEqualTo(2);
  }

  /** Hangs (3 s) every time it sees k6; quick otherwise. */
  static final class Hangs implements SampleMap {
    private final Captioner inner = new Captioner(1);

    @Override
    public RawSample apply(RawSample s, SplittableRandom random) throws Exception {
      if (s.key().equals("k6")) {
        Thread.sleep(3000);
      }
      return inner.apply(s, random);
    }
  }

  @Test
  void anActorHoldingAGroupPastTheSampleTimeoutIsReplacedAndTheGroupTriedOnceMoreThenDeadLettered() throws Exception {
    PoolStats stats = new PoolStats(STAGE);
    PoolSettings.Autoscale impatient = new PoolSettings.Autoscale(Duration.ofHours(1), Duration.ofHours(1), 3,
        Duration.ofMillis(100));
    SampleStage stage = ActorPool.stage(pool(new PoolSettings.Pool(STAGE, Resources.cpus(1), 2, 2), impatient, 2,
        Hangs::new, stats));
    List<ReadEvent> all = group(0, 16);
    long start = System.nanoTime();
    List<ReadEvent> out = through(stage, all, 4);
    long millis = (System.nanoTime() - start) / 1_000_000;
    List<ReadEvent> expected = reference(all);
    for (int i = 0; i < out.size(); i++) {
      ReadEvent.Slot s = (ReadEvent.Slot) out.get(i);
      if (i >= 4 && i < 8) {
        assertThat(s.record()).as("the group holding k6").isInstanceOf(DeadLetter.class);
        assertThat(((DeadLetter) s.record()).reason()).contains(STAGE).contains("past sample-timeout").contains("twice");
      } else {
        assertThat(s).as("sample " + i).isEqualTo(expected.get(i));
      }
    }
    assertThat(millis).as("nobody waited for the hung stage").isLessThan(2500);
    assertThat(stats.deadLetters()).isEqualTo(4);
    assertThat(stats.actors()).as("replaced, not lost").isEqualTo(2);
  }

  @Test
  void aConstructorThatKeepsFailingBreaksThePoolAndItsSamplesNameTheStage() throws Exception {
    PoolStats stats = new PoolStats(STAGE);
    SampleStage stage = ActorPool.stage(pool(new PoolSettings.Pool(STAGE, Resources.cpus(1), 1, 1), STEADY, 1,
        () -> {
          throw new IllegalStateException("no model file");
        }, stats));
    List<ReadEvent> out = stage.apply(0, group(0, 3)).toCompletableFuture().get(60, TimeUnit.SECONDS);
    assertThat(out).hasSize(3).allSatisfy(e -> {
      assertThat(((ReadEvent.Slot) e).record()).isInstanceOf(DeadLetter.class);
      assertThat(((DeadLetter) ((ReadEvent.Slot) e).record()).reason()).contains(STAGE)
          .contains("constructor failed 3 times").contains("no model file");
    });
    assertThat(stats.constructions()).isZero();
  }
}
