package dev.conveyor.workers.pool;

import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.pipeline.SampleStage;
import dev.conveyor.workers.reader.ShardReader;
import dev.conveyor.workers.wire.WireMessage;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * How a worker that cannot host a job's actor pools still reads for it: each group its decoders
 * answered goes, cut into parts that each fit one message, to the {@link PoolFront}s of the
 * workers that host the pools (found through the receptionist), round-robin; the answers are put
 * back together in the group's order. The rank's stream waits on the group as on a local pool,
 * so back-pressure holds across the nodes: no more groups are out than the stream lets be.
 *
 * <p>A front that goes away (its node lost or leaving) is watched: the parts it held go to
 * another front, whole. While there is no front, groups wait; a group that waited
 * {@code wait} with no front to take it is answered as dead letters naming the stages, so the
 * job's bad-sample bound decides whether the job goes on.
 */
public final class PoolRouter {
  private PoolRouter() {}

  /** What a router is told. */
  public sealed interface Command extends WireMessage permits Ran, Route, Listed, FrontGone, Tick {}

  /** Part of the answer to {@link PoolFront.Run} {@code id}: {@code events}, and whether it is the last part. */
  public record Ran(long id, List<ReadEvent> events, boolean last) implements Command {
    public Ran {
      events = List.copyOf(events);
    }
  }

  /** Send {@code group} (of {@code epoch}) to the pools; complete {@code answer} with what they made of it. Local. */
  record Route(int epoch, List<ReadEvent> group, CompletableFuture<List<ReadEvent>> answer)
      implements Command, NoSerializationVerificationNeeded {}

  record Listed(Set<ActorRef<PoolFront.Command>> fronts) implements Command, NoSerializationVerificationNeeded {}

  record FrontGone(ActorRef<PoolFront.Command> front) implements Command, NoSerializationVerificationNeeded {}

  enum Tick implements Command, NoSerializationVerificationNeeded { INSTANCE }

  /** What a router did, for {@code /status} and {@code /metrics}: read from other threads. */
  public static final class Stats {
    private final List<String> stages;
    private volatile int fronts;
    private volatile int waiting;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong resent = new AtomicLong();
    private final AtomicLong deadLetters = new AtomicLong();

    public Stats(List<String> stages) {
      this.stages = List.copyOf(stages);
    }

    /** The pool stages whose samples this router sends. */
    public List<String> stages() {
      return stages;
    }

    /** The fronts (other workers hosting the pools) it knows now. */
    public int fronts() {
      return fronts;
    }

    /** Parts of groups waiting for a front now. */
    public int waiting() {
      return waiting;
    }

    /** Samples sent to other workers' pools (again when a front went away). */
    public long samplesSent() {
      return sent.get();
    }

    /** Parts sent again because the front that held them went away. */
    public long partsResent() {
      return resent.get();
    }

    /** Samples answered as dead letters because no front took them in time. */
    public long deadLetters() {
      return deadLetters.get();
    }
  }

  /**
   * The router of job {@code jobId}'s groups to its pools of {@code stages} on other workers,
   * sending parts of at most {@code maxBytes}, failing a group that waited {@code wait} for a
   * front, counting in {@code stats}.
   */
  public static Behavior<Command> create(String jobId, Duration wait, long maxBytes, Stats stats) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Tick.INSTANCE, Duration.ofSeconds(1));
      ctx.getSystem().receptionist().tell(Receptionist.subscribe(PoolFront.key(jobId),
          ctx.messageAdapter(Receptionist.Listing.class, l -> new Listed(l.getServiceInstances(PoolFront.key(jobId))))));
      return new Router(ctx, jobId, wait, maxBytes, stats);
    }));
  }

  /** The per-sample stage that hands each group holding samples to {@code router} and waits for its answer. */
  public static SampleStage stage(ActorRef<Command> router) {
    return PoolActor.handing((epoch, group, answer) -> router.tell(new Route(epoch, group, answer)));
  }

  /** A group on its way: its answer, once each of its parts came back. */
  private static final class Group {
    final CompletableFuture<List<ReadEvent>> answer;
    final List<List<ReadEvent>> parts;
    int missing;

    Group(CompletableFuture<List<ReadEvent>> answer, int parts) {
      this.answer = answer;
      this.parts = new ArrayList<>(java.util.Collections.nCopies(parts, null));
      this.missing = parts;
    }

    void done(int index, List<ReadEvent> events) {
      parts.set(index, events);
      if (--missing == 0) {
        List<ReadEvent> all = new ArrayList<>();
        parts.forEach(all::addAll);
        answer.complete(all);
      }
    }
  }

  /** Part {@code index} of {@code group}: sent to {@code front} (null while waiting since {@code since}, nanos). */
  private static final class Part {
    final Group group;
    final int index;
    final int epoch;
    final List<ReadEvent> events;
    final List<ReadEvent> received = new ArrayList<>();
    ActorRef<PoolFront.Command> front;
    long since = System.nanoTime();

    Part(Group group, int index, int epoch, List<ReadEvent> events) {
      this.group = group;
      this.index = index;
      this.epoch = epoch;
      this.events = events;
    }
  }

  private static final class Router extends AbstractBehavior<Command> {
    private final String jobId;
    private final Duration wait;
    private final long maxBytes;
    private final Stats stats;
    private List<ActorRef<PoolFront.Command>> fronts = List.of();
    private final Set<ActorRef<PoolFront.Command>> watched = new HashSet<>();
    private final Map<Long, Part> sent = new HashMap<>();
    private final ArrayDeque<Part> waiting = new ArrayDeque<>();
    private long nextId;
    private int next;

    Router(ActorContext<Command> ctx, String jobId, Duration wait, long maxBytes, Stats stats) {
      super(ctx);
      this.jobId = jobId;
      this.wait = wait;
      this.maxBytes = maxBytes;
      this.stats = stats;
    }

    @Override
    public Receive<Command> createReceive() {
      return newReceiveBuilder()
          .onMessage(Route.class, this::onRoute)
          .onMessage(Ran.class, this::onRan)
          .onMessage(Listed.class, this::onListed)
          .onMessage(FrontGone.class, g -> {
            gone(g.front());
            return this;
          })
          .onMessage(Tick.class, t -> onTick())
          .build();
    }

    private Behavior<Command> onRoute(Route r) {
      List<List<ReadEvent>> parts = ShardReader.messages(r.group(), maxBytes);
      Group group = new Group(r.answer(), parts.size());
      for (int i = 0; i < parts.size(); i++) {
        send(new Part(group, i, r.epoch(), parts.get(i)));
      }
      return this;
    }

    private void send(Part p) {
      if (fronts.isEmpty()) {
        p.front = null;
        p.since = System.nanoTime();
        waiting.add(p);
        stats.waiting = waiting.size();
        return;
      }
      stats.sent.addAndGet(PoolActor.samples(p.events));
      p.front = fronts.get(next++ % fronts.size());
      p.received.clear();
      long id = nextId++;
      sent.put(id, p);
      p.front.tell(new PoolFront.Run(id, p.epoch, p.events, getContext().getSelf()));
    }

    private Behavior<Command> onRan(Ran r) {
      Part p = sent.get(r.id());
      if (p == null) {
        return this; // a part already sent again elsewhere
      }
      p.received.addAll(r.events());
      if (r.last()) {
        sent.remove(r.id());
        p.group.done(p.index, List.copyOf(p.received));
      }
      return this;
    }

    private Behavior<Command> onListed(Listed l) {
      List<ActorRef<PoolFront.Command>> now = l.fronts().stream()
          .sorted(Comparator.comparing(f -> f.path().toString())).toList();
      for (ActorRef<PoolFront.Command> f : now) {
        if (watched.add(f)) {
          getContext().watchWith(f, new FrontGone(f));
        }
      }
      List<ActorRef<PoolFront.Command>> before = fronts;
      fronts = now;
      stats.fronts = now.size();
      if (!now.equals(before)) {
        getContext().getLog().info("job {}: the pools of {} run on {} other worker(s): this worker's samples go there",
            jobId, stats.stages(), now.size());
      }
      before.stream().filter(f -> !now.contains(f)).forEach(this::gone);
      while (!fronts.isEmpty() && !waiting.isEmpty()) {
        send(waiting.poll());
      }
      stats.waiting = waiting.size();
      return this;
    }

    /** {@code front} is gone: the parts it held go to another front (or wait for one). */
    private void gone(ActorRef<PoolFront.Command> front) {
      fronts = fronts.stream().filter(f -> !f.equals(front)).toList();
      stats.fronts = fronts.size();
      List<Part> held = new ArrayList<>();
      for (Iterator<Part> it = sent.values().iterator(); it.hasNext(); ) {
        Part p = it.next();
        if (front.equals(p.front)) {
          held.add(p);
          it.remove();
        }
      }
      if (!held.isEmpty()) {
        getContext().getLog().warn("job {}: the pools at {} are gone: the {} group part(s) they held go to {}", jobId,
            front.path().address(), held.size(), fronts.isEmpty() ? "the next worker that hosts them" : "another");
      }
      stats.resent.addAndGet(held.size());
      held.forEach(this::send);
    }

    private Behavior<Command> onTick() {
      long now = System.nanoTime();
      List<Part> expired = new ArrayList<>();
      while (!waiting.isEmpty() && now - waiting.peek().since > wait.toNanos()) {
        expired.add(waiting.poll());
      }
      stats.waiting = waiting.size(); // counted before the answers go: whoever they wake sees the figures
      for (Part p : expired) {
        stats.deadLetters.addAndGet(PoolActor.samples(p.events));
        p.group.done(p.index, PoolActor.deadLetters(p.events, "no worker that hosts the pools of " + stats.stages()
            + " was reachable for " + wait.toSeconds() + " s"));
      }
      return this;
    }
  }
}
