package dev.conveyor.workers.pool;

import dev.conveyor.config.PoolSettings;
import dev.conveyor.streams.decode.AuthorSteps;
import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.workers.pool.ActorPool.Apply;
import dev.conveyor.workers.pool.ActorPool.Command;
import dev.conveyor.workers.pool.ActorPool.ConstructorFailed;
import dev.conveyor.workers.pool.ActorPool.Done;
import dev.conveyor.workers.pool.ActorPool.Failed;
import dev.conveyor.workers.pool.ActorPool.Started;
import dev.conveyor.workers.pool.ActorPool.Tick;
import dev.conveyor.workers.pool.PoolWork.Job;
import dev.conveyor.workers.pool.PoolWork.Request;
import dev.conveyor.workers.pool.PoolWork.Work;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * An {@link ActorPool}'s own actor: it hands groups to idle actors in the order they came, grows
 * and shrinks the pool, retries what a failed, dead or overrunning actor held, and answers every
 * group it was given (see {@link ActorPool} for the rules).
 */
final class PoolBalancer extends AbstractBehavior<ActorPool.Command> {
  /** A job waiting for an actor since {@code since} (nanos). */
  private record Queued(Job job, long since) {}

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
  /** Since when (nanos) each working actor has held its job. */
  private final Map<ActorRef<Work>, Long> workingSince = new HashMap<>();
  /** Actors given up on (held a job past the sample timeout): stopped, their late answers ignored. */
  private final java.util.Set<ActorRef<Work>> abandoned = new java.util.HashSet<>();
  /** Actors asked to stop (shrinking), whose Terminated is expected. */
  private final java.util.Set<ActorRef<Work>> stopping = new java.util.HashSet<>();
  private int starting;
  private int actors;
  private int spawned;
  private int constructorFailuresInARow;
  private String broken = "";
  /** When the pool last grew (nanos): it grows again only a grow-after later. */
  private long grewAt;

  PoolBalancer(ActorContext<Command> ctx, TimerScheduler<Command> timers, PoolSettings.Pool pool,
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
    long tick = Math.max(10, Math.min(Math.min(autoscale.growAfter().toMillis(), autoscale.shrinkAfter().toMillis()),
        autoscale.sampleTimeout().toMillis()) / 4);
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
      workingSince.put(actor, System.nanoTime());
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
    if (abandoned.contains(d.actor())) {
      return this; // its job went to another actor, or became dead letters
    }
    working.remove(d.actor());
    workingSince.remove(d.actor());
    stats.samples.addAndGet(PoolActor.samples(d.out()));
    d.job().request().fill(d.job().offset(), d.out());
    ready(d.actor());
    return this;
  }

  private Behavior<Command> onFailed(Failed f) {
    if (abandoned.contains(f.actor())) {
      return this;
    }
    working.remove(f.actor());
    workingSince.remove(f.actor());
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
    if (abandoned.remove(actor)) {
      return this; // counted out when it was given up on
    }
    actors--;
    workingSince.remove(actor);
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
    for (Map.Entry<ActorRef<Work>, Long> e : new ArrayList<>(workingSince.entrySet())) {
      Job job = working.get(e.getKey());
      if (now - e.getValue() > autoscale.sampleTimeout().toNanos() * Math.max(1, PoolActor.samples(job.events()))) {
        overran(e.getKey(), job, (now - e.getValue()) / 1_000_000);
      }
    }
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

  /**
   * {@code actor} has held {@code job} for {@code millis}, past the sample timeout: it is stopped
   * (its thread may still be in the stage; whatever it answers is ignored) and another made in
   * its place; the job is tried once more, then its samples are dead letters naming the stage.
   */
  private void overran(ActorRef<Work> actor, Job job, long millis) {
    working.remove(actor);
    workingSince.remove(actor);
    abandoned.add(actor);
    getContext().stop(actor);
    actors--;
    stats.restarts.incrementAndGet();
    String why = "the stage " + pool.stage() + " held a group of " + job.events().size() + " for " + millis
        + " ms, past sample-timeout (" + autoscale.sampleTimeout().toMillis() + " ms a sample)";
    getContext().getLog().warn("pool {}: {}; its actor is replaced", pool.stage(), why);
    if (broken.isEmpty()) {
      spawn();
    }
    if (job.overran()) {
      job.request().fill(job.offset(), PoolActor.deadLetters(job.events(), why + ", twice"));
      stats.deadLetters.addAndGet(PoolActor.samples(job.events()));
    } else {
      stats.retried.addAndGet(PoolActor.samples(job.events()));
      enqueue(new Job(job.request(), job.offset(), job.events(), job.retrying(), true), true);
    }
    stats.busy.set(working.size());
  }

  private void spawn() {
    Behavior<Work> actor = PoolActor.create(getContext().getSelf(), pool.stage(), seed, steps);
    getContext().watch(getContext().spawn(actor, "actor-" + spawned++, DispatcherSelector.fromConfig(ActorPool.DISPATCHER)));
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
