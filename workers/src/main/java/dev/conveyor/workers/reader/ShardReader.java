package dev.conveyor.workers.reader;

import dev.conveyor.streams.pipeline.RankPipeline;
import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.WindowSlice;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.Expanded;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.workers.wire.WireMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamRefs;

/**
 * A worker node's reader of leased slices. For a {@link Lease} it reads the slice (shards,
 * tar, grouping, window shuffle and the per-sample stage, as one rank would locally) and
 * offers the events to the lease holder as a {@link SourceRef}: in groups of consecutive
 * events (as the stage took them, each within one message), numbered by their ordinals in the
 * slice, from {@code fromOrdinal} on, then a {@link SliceEnd} with the count.
 * The same slice always yields the same events, so a slice leased again to another node after
 * a failure continues exactly where the first stopped. Back-pressure crosses the network: the
 * stream reads only as fast as the lease holder takes.
 *
 * <p>When its node shuts down (SIGTERM: coordinated shutdown, before the node leaves the
 * cluster) the reader hands its leases back: each stream ends with {@link SliceHandedBack}
 * after the events already sent, and leases asked for later get only that; the holders lease
 * the rest of their slices elsewhere, as a planned move rather than a failure.
 */
public final class ShardReader {
  private ShardReader() {}

  /** What a shard reader is asked. */
  public sealed interface Command extends WireMessage permits Lease {}

  /**
   * Read {@code slice} of epoch {@code epoch} (whose first slot is rank position
   * {@code firstPosition}) and offer its events from {@code fromOrdinal} on. {@code lease} and
   * {@code fencing} come back in the offer, so that the holder can tell a stale offer (an
   * earlier attempt's) from the current one.
   */
  public record Lease(long lease, long fencing, int epoch, WindowSlice slice, long firstPosition, long fromOrdinal,
                      ActorRef<Offer> replyTo) implements Command {}

  /** The events of a lease, as a stream reference the holder subscribes to. */
  public record Offer(long lease, long fencing, SourceRef<SliceElement> events) implements WireMessage {}

  /** An element of a leased slice's stream. */
  public sealed interface SliceElement extends WireMessage permits SliceEvents, SliceEnd, SliceHandedBack {}

  /**
   * Consecutive events of the slice, numbered {@code first} on: the events go in groups (the
   * job's hand-off), each within one message's size, so that each element sent is paid once per group.
   */
  public record SliceEvents(long first, List<ReadEvent> events) implements SliceElement {
    public SliceEvents {
      events = List.copyOf(events);
      if (events.isEmpty()) {
        throw new IllegalArgumentException("a slice's group of events is empty");
      }
    }

    /** The ordinal after the last event. */
    public long end() {
      return first + events.size();
    }
  }

  /** The slice had {@code events} events: a stream that ends without this did not end well. */
  public record SliceEnd(long events) implements SliceElement {}

  /** The reader's node is leaving: the events up to here were all; lease the rest elsewhere. */
  public record SliceHandedBack() implements SliceElement {}

  /** What a reader did, for the node's metrics: leases served, events and sample bytes sent, streams open, hand-backs. */
  public static final class Stats {
    private final java.util.concurrent.atomic.AtomicLong leases = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong events = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong open = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong handedBack = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong restarts = new java.util.concurrent.atomic.AtomicLong();

    /** Times the reader was restarted by its supervisor. */
    public long restarts() {
      return restarts.get();
    }

    public long leases() {
      return leases.get();
    }

    /** Events handed to lease streams. */
    public long events() {
      return events.get();
    }

    /** Sample bytes (members and tensors) handed to lease streams. */
    public long bytes() {
      return bytes.get();
    }

    /** Lease streams running now. */
    public long open() {
      return open.get();
    }

    /** Lease streams ended by a hand-back (the node leaving). */
    public long handedBack() {
      return handedBack.get();
    }
  }

  /** {@code e}, or when its sample (members and tensors) is larger than {@code max} bytes, a dead letter in its slot. */
  static ReadEvent fits(ReadEvent e, long max) {
    if (e instanceof ReadEvent.Slot s && (s.record() instanceof RawSample || s.record() instanceof Expanded)) {
      long size = messageBytes(e);
      if (size > max) {
        return new ReadEvent.Slot(s.position(), new DeadLetter(s.record().shard(), key(s.record()),
            "the sample takes " + size + " bytes with its tensors, more than a message between nodes may carry ("
                + max + "): make the crops or clips smaller"));
      }
    }
    return e;
  }

  private static String key(dev.conveyor.streams.sample.ShardRecord r) {
    return r instanceof Expanded x ? x.key() : ((RawSample) r).key();
  }

  /** What an event weighs in a message: its sample's members and tensors (0 for a dead letter or a report). */
  public static long messageBytes(ReadEvent e) {
    if (e instanceof ReadEvent.Slot s && s.record() instanceof Expanded x) {
      return x.bytes();
    }
    return e instanceof ReadEvent.Slot s && s.record() instanceof RawSample r
        ? r.bytes() + r.decoded().map(d -> d.tensorBytes()).orElse(0L) : 0;
  }

  /**
   * A group as the stage answered it, each sample that does not {@link #fits fit} a message made
   * a dead letter, cut into runs that each fit one message of {@code max} bytes.
   */
  public static List<List<ReadEvent>> messages(List<ReadEvent> group, long max) {
    List<List<ReadEvent>> out = new ArrayList<>(1);
    List<ReadEvent> run = new ArrayList<>(group.size());
    long bytes = 0;
    for (ReadEvent raw : group) {
      ReadEvent e = fits(raw, max);
      long size = messageBytes(e);
      if (!run.isEmpty() && bytes + size > max) {
        out.add(run);
        run = new ArrayList<>();
        bytes = 0;
      }
      run.add(e);
      bytes += size;
    }
    if (!run.isEmpty()) {
      out.add(run);
    }
    return out;
  }

  /** How long a leaving node waits for its lease holders to take the hand-back (they may be slow to pull). */
  static final Duration HAND_BACK_WAIT = Duration.ofSeconds(10);

  /** A reader over {@code store} for the job planned by {@code plan}, running the stages of {@code settings}. */
  public static Behavior<Command> create(ShardStore store, DataPlan plan, RankPipeline.Settings settings) {
    return create(store, plan, settings, new Stats(), Long.MAX_VALUE);
  }

  /**
   * The same, counting what it does in {@code stats}, and sending a sample larger than
   * {@code maxSampleBytes} (members and tensors: more than one message between nodes may carry)
   * as a dead letter that says so. A reader that fails (its store throws while a lease's stream
   * is set up) is restarted with backoff, 0.2 s doubling to 5 s; the lease it was handling gets
   * no offer, and its holder leases the slice elsewhere.
   */
  public static Behavior<Command> create(ShardStore store, DataPlan plan, RankPipeline.Settings settings, Stats stats,
                                         long maxSampleBytes) {
    return Behaviors.supervise(reader(store, plan, settings, stats, maxSampleBytes))
        .onFailure(RuntimeException.class, SupervisorStrategy.restartWithBackoff(
            Duration.ofMillis(200), Duration.ofSeconds(5), 0.2));
  }

  private static Behavior<Command> reader(ShardStore store, DataPlan plan, RankPipeline.Settings settings, Stats stats,
                                          long maxSampleBytes) {
    return Behaviors.setup(ctx -> new Reader(ctx, store, plan, settings, stats, maxSampleBytes));
  }

  /**
   * The reader: a stream per lease, offered to its holder as a stream reference. When the node
   * leaves, a hand-back overtakes every lease's events not yet sent and ends its stream; the
   * node's shutdown waits (up to {@link #HAND_BACK_WAIT}) for the holders to take it.
   */
  private static final class Reader extends AbstractBehavior<Command> {
    private final ShardStore store;
    private final DataPlan plan;
    private final RankPipeline.Settings settings;
    private final Stats stats;
    private final long maxSampleBytes;
    private final Materializer mat;
    /** Completed when the node leaves: a hand-back for every lease's stream. */
    private final CompletableFuture<SliceElement> leaving = new CompletableFuture<>();
    /** The lease streams running now, each done when it ends (completed from stream threads). */
    private final Set<CompletionStage<Done>> open = ConcurrentHashMap.newKeySet();
    private final Cancellable handBack;

    Reader(ActorContext<Command> ctx, ShardStore store, DataPlan plan, RankPipeline.Settings settings, Stats stats,
           long maxSampleBytes) {
      super(ctx);
      this.store = store;
      this.plan = plan;
      this.settings = settings;
      this.stats = stats;
      this.maxSampleBytes = maxSampleBytes;
      this.mat = Materializer.createMaterializer(ctx);
      this.handBack = CoordinatedShutdown.get(Adapter.toClassic(ctx.getSystem())).addCancellableTask(
          CoordinatedShutdown.PhaseBeforeClusterShutdown(), "hand-back-leases-" + ctx.getSelf().path().name(),
          this::handBack);
    }

    private CompletionStage<Done> handBack() {
      leaving.complete(new SliceHandedBack());
      List<CompletableFuture<Done>> all = new ArrayList<>();
      open.forEach(c -> all.add(c.toCompletableFuture()));
      return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
          .completeOnTimeout(null, HAND_BACK_WAIT.toMillis(), TimeUnit.MILLISECONDS)
          .handle((x, failure) -> Done.getInstance());
    }

    @Override
    public Receive<Command> createReceive() {
      return newReceiveBuilder()
          .onMessage(Lease.class, this::onLease)
          .onSignal(PostStop.class, this::onPostStop)
          .onSignal(PreRestart.class, this::onPreRestart)
          .build();
    }

    private Behavior<Command> onLease(Lease l) {
      Pair<CompletionStage<Done>, SourceRef<SliceElement>> run = events(l).watchTermination(Keep.right())
          .toMat(StreamRefs.sourceRef(), Keep.both()).run(mat);
      open.add(run.first());
      stats.leases.incrementAndGet();
      stats.open.incrementAndGet();
      run.first().whenComplete((d, failure) -> {
        open.remove(run.first());
        stats.open.decrementAndGet();
      });
      l.replyTo().tell(new Offer(l.lease(), l.fencing(), run.second()));
      return this;
    }

    /** The leased slice's events, numbered, from the holder's first ordinal on, then its end (or a hand-back). */
    private Source<SliceElement, ?> events(Lease l) {
      if (leaving.isDone()) {
        return Source.single(new SliceHandedBack());
      }
      return RankPipeline.sliceGroups(store, plan, l.epoch(), l.slice(), l.firstPosition(), settings)
          .mapConcat(g -> messages(g, maxSampleBytes))
          // number the events; at the end, say how many there were
          .<long[], SliceElement>statefulMap(() -> new long[1], (count, g) -> {
                SliceEvents numbered = new SliceEvents(count[0], g);
                count[0] = numbered.end();
                return Pair.create(count, numbered);
              },
              count -> Optional.of(new SliceEnd(count[0])))
          .mapConcat(e -> from(e, l.fromOrdinal()))
          // a hand-back overtakes the events not yet sent, and ends the stream
          .merge(Source.completionStage(leaving), true)
          .takeWhile(e -> !(e instanceof SliceHandedBack), true)
          .map(e -> {
            if (e instanceof SliceEvents g) {
              stats.events.addAndGet(g.events().size());
              g.events().forEach(ev -> stats.bytes.addAndGet(messageBytes(ev)));
            } else if (e instanceof SliceHandedBack) {
              stats.handedBack.incrementAndGet();
            }
            return e;
          });
    }

    /** {@code e} without the events before ordinal {@code from} (the holder has them from an earlier lease). */
    private static List<SliceElement> from(SliceElement e, long from) {
      if (!(e instanceof SliceEvents g) || g.first() >= from) {
        return List.of(e);
      }
      if (g.end() <= from) {
        return List.of();
      }
      return List.of(new SliceEvents(from, g.events().subList((int) (from - g.first()), g.events().size())));
    }

    private Behavior<Command> onPostStop(PostStop stop) {
      handBack.cancel();
      return this;
    }

    private Behavior<Command> onPreRestart(PreRestart restart) {
      handBack.cancel(); // the restarted reader registers its own
      stats.restarts.incrementAndGet();
      return this;
    }
  }
}
