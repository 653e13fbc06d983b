package dev.conveyor.workers.pool;

import dev.conveyor.config.PoolSettings;
import dev.conveyor.streams.decode.AuthorSteps;
import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.pipeline.SampleStage;
import dev.conveyor.workers.pool.PoolWork.Job;
import dev.conveyor.workers.pool.PoolWork.Request;
import dev.conveyor.workers.pool.PoolWork.Work;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One actor-pool stage on one node (Ray Data's {@code ActorPoolStrategy}): a set of actors, each
 * holding the instance of the author's class its {@code AuthorSteps} made when it started,
 * taking groups of consecutive samples from the pool as it becomes idle (work pulling), so that a
 * slow group never holds up samples another actor could take. The answers complete the futures
 * the rank's stream waits on in plan order, whichever actor finishes first.
 *
 * <p>Autoscaling: the pool starts {@code min} actors, adds one while a group has waited
 * {@code grow-after} for an actor (one at a time: not while another is still being made), up to
 * its limit — its {@code max}, or fewer where the node's resources hold fewer — and stops one
 * idle for {@code shrink-after}, never below {@code min}. Each decision is logged with its
 * figures and kept in {@link PoolStats}.
 *
 * <p>Failure: an actor whose stage throws on a sample reports the samples it finished and is
 * made again (a new instance: its state may be broken); the sample it failed on goes to the
 * front of the queue to be tried once more, by whichever actor is idle first, and is a dead
 * letter naming the stage if it fails again; the rest of its group goes on. An actor whose
 * constructor fails is made again; {@code constructor-failures} failures in a row leave the pool
 * broken: every sample sent to it becomes a dead letter naming the stage and the failure, so the
 * job's bad-sample bound stops the job with that reason.
 */
public final class ActorPool {
  private ActorPool() {}

  /** What the pool is told. Local only: futures cross no network. */
  public sealed interface Command extends NoSerializationVerificationNeeded
      permits Apply, Started, ConstructorFailed, Done, Failed, Tick {}

  /** Run the stage on {@code group} (consecutive events of {@code epoch}); complete {@code answer} with it. */
  public record Apply(int epoch, List<ReadEvent> group, CompletableFuture<List<ReadEvent>> answer) implements Command {}

  record Started(ActorRef<Work> actor) implements Command {}

  record ConstructorFailed(ActorRef<Work> actor, String error) implements Command {}

  record Done(ActorRef<Work> actor, Job job, List<ReadEvent> out) implements Command {}

  /**
   * {@code actor} threw on event {@code failedAt} of the job's events: {@code out} holds the events
   * before it, done; {@code error} says what the stage threw.
   */
  record Failed(ActorRef<Work> actor, Job job, List<ReadEvent> out, int failedAt, String error) implements Command {}

  private enum Tick implements Command { INSTANCE }

  /** A job waiting for an actor since {@code since} (nanos). */
  private record Queued(Job job, long since) {}

  /**
   * The pool for {@code pool} on this node, up to {@code limit} actors, each running what
   * {@code steps} makes (the author's instance, then the stages fused after it), with the
   * recipe's {@code seed}.
   */
  public static Behavior<Command> create(PoolSettings.Pool pool, PoolSettings.Autoscale autoscale, int limit, long seed,
                                         Supplier<AuthorSteps> steps, PoolStats stats) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new Balancer(ctx, timers, pool, autoscale,
        Math.max(pool.min(), Math.min(limit, pool.max())), seed, steps, stats)));
  }

  /** The per-sample stage that hands each group to {@code pool} and waits for its answer. */
  public static SampleStage stage(ActorRef<Command> pool) {
    return (epoch, group) -> {
      if (group.stream().noneMatch(PoolActor::holdsSample)) {
        return CompletableFuture.completedFuture(group);
      }
      CompletableFuture<List<ReadEvent>> answer = new CompletableFuture<>();
      pool.tell(new Apply(epoch, group, answer));
      return answer;
    };
  }

  /** The pool's dispatcher (workers' reference.conf): threads of their own, so a slow constructor holds up no decoder. */
  public static final String DISPATCHER = "conveyor.workers.pool-dispatcher";

  private static final class Balancer extends AbstractBehavior<Command> {
    private final PoolSettings.Pool pool;
    private final PoolSettings.Autoscale autoscale;
    private final int limit;
    private final long seed;
    private final Supplier<AuthorSteps> steps;
    private final PoolStats stats;
    private final ArrayDeque<Queued> waiting = new ArrayDeque<>();
    private final ArrayDeque<ActorRef<Work>> idle = new ArrayDeque<>();
    private final Map<ActorRef<Work>, Long> idleSince = new HashMap<>();
    private final Map<ActorRef<Work>, Job> working = new HashMap<>();
    /** Actors asked to stop (shrinking), whose Terminated is expected. */
    private final java.util.Set<ActorRef<Work>> stopping = new java.util.HashSet<>();
    private int starting;
    private int actors;
    private int spawned;
    private int constructorFailuresInARow;
    private String broken = "";
    /** When the pool last grew (nanos): it grows again only a grow-after later. */
    private long grewAt;

    Balancer(ActorContext<Command> ctx, TimerScheduler<Command> timers, PoolSettings.Pool pool,
             PoolSettings.Autoscale autoscale, int limit, long seed, Supplier<AuthorSteps> steps, PoolStats stats) {
      super(ctx);
      this.pool = pool;
      this.autoscale = autoscale;
      this.limit = limit;
      this.seed = seed;
      this.steps = steps;
      this.stats = stats;
      stats.limit.set(limit);
      for (int i = 0; i < pool.min(); i++) {
        spawn();
      }
      decided("started with " + pool.min() + " (concurrency [" + pool.min() + ", " + pool.max() + "], at most " + limit
          + " on this node for " + pool.ask().describe() + " each)");
      long tick = Math.max(10, Math.min(autoscale.growAfter().toMillis(), autoscale.shrinkAfter().toMillis()) / 4);
      timers.startTimerWithFixedDelay(Tick.INSTANCE, Duration.ofMillis(tick));
    }

    @Override
    public Receive<Command> createReceive() {
      return newReceiveBuilder()
          .onMessage(Apply.class, this::onApply)
          .onMessage(Started.class, this::onStarted)
          .onMessage(ConstructorFailed.class, this::onConstructorFailed)
          .onMessage(Done.class, this::onDone)
          .onMessage(Failed.class, this::onFailed)
          .onMessage(Tick.class, t -> onTick())
          .onSignal(Terminated.class, this::onTerminated)
          .onSignal(PostStop.class, s -> onStop())
          .build();
    }

    private Behavior<Command> onApply(Apply a) {
      Request r = new Request(a);
      enqueue(new Job(r, 0, a.group(), false), false);
      return this;
    }

    private void enqueue(Job job, boolean first) {
      if (!broken.isEmpty()) {
        job.request().fill(job.offset(), PoolActor.deadLetters(job.events(), broken));
        stats.deadLetters.addAndGet(job.events().stream().filter(PoolActor::holdsSample).count());
        return;
      }
      Queued q = new Queued(job, System.nanoTime());
      if (first) {
        waiting.addFirst(q);
      } else {
        waiting.addLast(q);
      }
      dispatch();
    }

    private void dispatch() {
      while (!waiting.isEmpty() && !idle.isEmpty()) {
        ActorRef<Work> actor = idle.poll();
        idleSince.remove(actor);
        Job job = waiting.poll().job();
        working.put(actor, job);
        actor.tell(new Work(job));
      }
      stats.busy.set(working.size());
      stats.queued.set(waiting.size());
    }

    private Behavior<Command> onStarted(Started s) {
      starting--;
      constructorFailuresInARow = 0;
      stats.constructions.incrementAndGet();
      ready(s.actor());
      return this;
    }

    private void ready(ActorRef<Work> actor) {
      idle.add(actor);
      idleSince.put(actor, System.nanoTime());
      dispatch();
    }

    private Behavior<Command> onConstructorFailed(ConstructorFailed f) {
      starting--;
      constructorFailuresInARow++;
      getContext().getLog().warn("pool {}: an actor's constructor failed ({} in a row): {}", pool.stage(),
          constructorFailuresInARow, f.error());
      if (constructorFailuresInARow >= autoscale.constructorFailures()) {
        broken = "the stage " + pool.stage() + " could not be made: its constructor failed " + constructorFailuresInARow
            + " times in a row (the last: " + f.error() + ")";
        getContext().getLog().error("pool {}: {}", pool.stage(), broken);
        List<Job> left = waiting.stream().map(Queued::job).toList();
        waiting.clear();
        left.forEach(j -> enqueue(j, false));
      }
      return this; // the actor stops itself; its Terminated makes another unless the pool is broken
    }

    private Behavior<Command> onDone(Done d) {
      working.remove(d.actor());
      stats.samples.addAndGet(PoolActor.samples(d.out()));
      d.job().request().fill(d.job().offset(), d.out());
      ready(d.actor());
      return this;
    }

    private Behavior<Command> onFailed(Failed f) {
      working.remove(f.actor());
      stats.busy.set(working.size());
      stats.restarts.incrementAndGet();
      starting++; // it is made again: Started or ConstructorFailed follows
      Job job = f.job();
      Request r = job.request();
      r.fill(job.offset(), f.out());
      stats.samples.addAndGet(PoolActor.samples(f.out()));
      int at = job.offset() + f.failedAt();
      List<ReadEvent> rest = job.events().subList(f.failedAt(), job.events().size());
      if (f.failedAt() == 0 && job.retrying()) {
        // the second failure of this sample: it is a dead letter, the rest of the group goes on
        r.fill(at, PoolActor.deadLetters(rest.subList(0, 1), "the stage " + pool.stage() + " failed on it twice, on two"
            + " actors (the last: " + f.error() + ")"));
        stats.deadLetters.incrementAndGet();
        if (rest.size() > 1) {
          enqueue(new Job(r, at + 1, List.copyOf(rest.subList(1, rest.size())), false), true);
        }
      } else {
        stats.retried.incrementAndGet();
        if (rest.size() > 1) {
          enqueue(new Job(r, at + 1, List.copyOf(rest.subList(1, rest.size())), false), true);
        }
        enqueue(new Job(r, at, List.of(rest.get(0)), true), true); // first: the failed sample once more
      }
      getContext().getLog().warn("pool {}: an actor failed ({}); it is made again and its sample retried once",
          pool.stage(), f.error());
      return this; // the actor restarts itself (supervision) and says Started again
    }

    private Behavior<Command> onTerminated(Terminated t) {
      ActorRef<Work> actor = t.getRef().unsafeUpcast();
      actors--;
      stats.actors.set(actors);
      idle.remove(actor);
      idleSince.remove(actor);
      Job lost = working.remove(actor);
      if (lost != null) {
        enqueue(lost, true); // died holding it (not a thrown stage): another takes it whole
      }
      if (!stopping.remove(actor) && broken.isEmpty() && actors < pool.min()) {
        spawn(); // a constructor that failed, or an actor that died: the pool keeps its min
      }
      return this;
    }

    private Behavior<Command> onTick() {
      long now = System.nanoTime();
      long grow = autoscale.growAfter().toNanos();
      long waited = waiting.isEmpty() ? 0 : now - waiting.stream().mapToLong(Queued::since).min().getAsLong();
      if (waited >= grow && now - grewAt >= grow && broken.isEmpty() && starting == 0 && actors < limit) {
        long waitedMs = waited / 1_000_000;
        spawn();
        grewAt = now;
        stats.grown.incrementAndGet();
        decided("grew to " + actors + " (a group waited " + waitedMs + " ms for an actor; " + waiting.size()
            + " queued, " + working.size() + " of " + (actors - 1) + " busy)");
      }
      if (waiting.isEmpty() && actors - stopping.size() > pool.min()) {
        for (Map.Entry<ActorRef<Work>, Long> e : idleSince.entrySet()) {
          if (now - e.getValue() >= autoscale.shrinkAfter().toNanos()) {
            ActorRef<Work> actor = e.getKey();
            idle.remove(actor);
            idleSince.remove(actor);
            stopping.add(actor);
            getContext().stop(actor);
            stats.shrunk.incrementAndGet();
            decided("shrank to " + (actors - stopping.size()) + " (an actor idle " + (now - e.getValue()) / 1_000_000
                + " ms; nothing queued)");
            break; // one at a time
          }
        }
      }
      return this;
    }

    private void spawn() {
      Behavior<Work> actor = PoolActor.create(getContext().getSelf(), pool.stage(), seed, steps);
      getContext().watch(getContext().spawn(actor, "actor-" + spawned++, DispatcherSelector.fromConfig(DISPATCHER)));
      actors++;
      starting++;
      stats.actors.set(actors);
    }

    private void decided(String why) {
      getContext().getLog().info("pool {}: {}", pool.stage(), why);
      stats.decided(actors - stopping.size(), why);
    }

    private Behavior<Command> onStop() {
      // the job is over: a group still waited on is answered, so that nothing waits forever
      String why = "the stage " + pool.stage() + "'s pool stopped before it ran";
      waiting.forEach(q -> q.job().request().fill(q.job().offset(), PoolActor.deadLetters(q.job().events(), why)));
      working.values().forEach(j -> j.request().fill(j.offset(), PoolActor.deadLetters(j.events(), why)));
      stats.actors.set(0);
      stats.busy.set(0);
      stats.queued.set(0);
      return this;
    }
  }
}
