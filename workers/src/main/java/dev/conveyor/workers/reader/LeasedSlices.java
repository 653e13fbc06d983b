package dev.conveyor.workers.reader;

import dev.conveyor.streams.pipeline.RankPipeline;
import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.plan.WindowSlice;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A rank's events read by other nodes: each window slice of the rank's segment is leased to a
 * {@link ShardReader}, up to {@code slicesInFlight} at once, and their streams are taken in
 * slice order. When a reader's stream fails — its node died, it stalled past the stream
 * reference's timeout, it ended without its end marker — the slice is leased again, to the
 * next reader not suspected, from the ordinal after the last event passed on (events a failed
 * stream still held are lost with it, so they are read again): events the new reader repeats
 * are dropped, a gap fails the stream. So the rank's sequence of events is the
 * same as a local read's, whatever fails.
 */
public final class LeasedSlices {
  private LeasedSlices() {}

  /**
   * @param offerTimeout   how long a reader may take to offer a lease's stream
   * @param maxAttempts    leases of one slice that may fail before the rank's stream fails (a hand-back is no failure)
   * @param retryDelay     wait before leasing a failed slice again
   * @param slicesInFlight slices read at once (their streams are buffered by back-pressure only)
   * @param buffered       elements (groups of events) a slice's stream holds on the rank's side
   */
  public record Settings(Duration offerTimeout, int maxAttempts, Duration retryDelay, int slicesInFlight, int buffered) {
    /** Samples a slice's stream holds on the rank's side: what Pekko's stream references hold of single elements. */
    public static final int BUFFERED_SAMPLES = 32;

    public Settings {
      if (buffered < 1) {
        throw new IllegalArgumentException("a slice's stream must hold at least one element, got " + buffered);
      }
    }

    /** Elements of one event each: {@link #BUFFERED_SAMPLES} of them. */
    public Settings(Duration offerTimeout, int maxAttempts, Duration retryDelay, int slicesInFlight) {
      this(offerTimeout, maxAttempts, retryDelay, slicesInFlight, BUFFERED_SAMPLES);
    }

    /**
     * These settings for elements of up to {@code samples} events: the stream holds about
     * {@link #BUFFERED_SAMPLES} samples still (at least two elements), not that many groups —
     * decoded samples are large, and a rank has several slices' streams open.
     */
    public Settings grouped(int samples) {
      return new Settings(offerTimeout, maxAttempts, retryDelay, slicesInFlight,
          Math.max(2, (BUFFERED_SAMPLES + samples - 1) / samples));
    }
  }

  /** What leasing did, for the summary: leases granted, and slices leased again after a failure. */
  public static final class Stats {
    final AtomicLong leases = new AtomicLong();
    final AtomicLong reassigned = new AtomicLong();
    final AtomicLong duplicatesDropped = new AtomicLong();
    final AtomicLong resumedMidSlice = new AtomicLong();
    final AtomicLong handedBack = new AtomicLong();

    public long leases() {
      return leases.get();
    }

    public long reassigned() {
      return reassigned.get();
    }

    public long duplicatesDropped() {
      return duplicatesDropped.get();
    }

    /** Slices a leaving reader handed back, leased elsewhere for the rest (not failures: not in {@link #reassigned}). */
    public long handedBack() {
      return handedBack.get();
    }

    /** Leases again that started after the slice's first event (the events before came from the failed reader). */
    public long resumedMidSlice() {
      return resumedMidSlice.get();
    }
  }

  /**
   * The readers a rank leases to, shared by all its segments (epochs): which ones failed a
   * lease (suspects), and which ones are still alive (e.g. their node is up in the cluster).
   * A lease goes to a reader that is alive and not suspected while there is one. A reader may
   * be listed more than once: it then gets that many shares of the slices (weighted by the
   * resources of its node).
   */
  public static final class Readers {
    private final List<ActorRef<ShardReader.Command>> refs;
    private final Predicate<ActorRef<ShardReader.Command>> alive;
    final Set<ActorRef<ShardReader.Command>> suspects = ConcurrentHashMap.newKeySet();
    /** Readers that handed a slice back: their node is leaving, and they take no more leases. */
    final Set<ActorRef<ShardReader.Command>> leaving = ConcurrentHashMap.newKeySet();

    /** {@code refs} may be empty until readers are {@link #add added}; a rank's segment needs one to lease to. */
    public Readers(List<ActorRef<ShardReader.Command>> refs, Predicate<ActorRef<ShardReader.Command>> alive) {
      this.refs = new java.util.concurrent.CopyOnWriteArrayList<>(refs);
      this.alive = alive;
    }

    /**
     * Readers that joined since (a node that joined the cluster while the job runs, e.g. one
     * restarted by a rolling upgrade), each listed as often as in {@code more} (its shares);
     * one already here is not added again. Returns how many readers were new.
     */
    public synchronized int add(List<ActorRef<ShardReader.Command>> more) {
      int added = 0;
      for (ActorRef<ShardReader.Command> r : new java.util.LinkedHashSet<>(more)) {
        if (!refs.contains(r)) {
          refs.addAll(more.stream().filter(r::equals).toList());
          added++;
        }
      }
      return added;
    }

    /** Attempt {@code k} of slice {@code index}, round-robin: a live reader not suspected, else a live suspect, else the slice's own. */
    int pick(int index, int k) {
      int r = pickAlive(index, k, false);
      r = r >= 0 ? r : pickAlive(index, k, true);
      return r >= 0 ? r : (index + k) % refs.size();
    }

    /** Whether no reader's node is up (and not leaving): every worker gone. */
    boolean noneAlive() {
      return refs.stream().noneMatch(this::live);
    }

    private boolean live(ActorRef<ShardReader.Command> r) {
      return !leaving.contains(r) && alive.test(r);
    }

    /** The first live reader round-robin from the slice's own (not suspected, unless {@code suspectsToo}), else -1. */
    private int pickAlive(int index, int k, boolean suspectsToo) {
      int n = refs.size();
      for (int step = 0; step < n; step++) {
        int r = (index + k + step) % n;
        if ((suspectsToo || !suspects.contains(refs.get(r))) && live(refs.get(r))) {
          return r;
        }
      }
      return -1;
    }

    /**
     * {@link #pick}'s reader; but when no reader's node is up, the first one that comes up,
     * looking again every {@link #LOOK_AGAIN} for up to {@code patience} (a node joining the job,
     * e.g. one restarted by a rolling upgrade, brings its reader): when every reader's node left,
     * waiting for the next beats asking a gone one. After {@code patience}, {@link #pick}'s choice.
     */
    CompletionStage<ActorRef<ShardReader.Command>> awaitPick(int index, int k, Duration patience, ActorSystem<?> system) {
      long deadline = System.nanoTime() + patience.toNanos();
      return awaitPick(index, k, deadline, system);
    }

    private CompletionStage<ActorRef<ShardReader.Command>> awaitPick(int index, int k, long deadline, ActorSystem<?> system) {
      // a live reader is asked at once, a suspect if need be; only when no reader's node is up, wait
      if (pickAlive(index, k, true) >= 0 || System.nanoTime() > deadline) {
        return java.util.concurrent.CompletableFuture.completedFuture(refs.get(pick(index, k)));
      }
      return org.apache.pekko.pattern.Patterns.after(LOOK_AGAIN, system.classicSystem().scheduler(),
          system.executionContext(), () -> awaitPick(index, k, deadline, system));
    }

    private static final Duration LOOK_AGAIN = Duration.ofMillis(200);
  }

  /** The events of {@code seg}, read by {@code readers} (all taken to be alive). */
  public static Source<ReadEvent, NotUsed> events(RankSegment seg, List<ActorRef<ShardReader.Command>> readers,
                                                  ActorSystem<?> system, Settings s, Stats stats) {
    return events(seg, new Readers(readers, r -> true), system, s, stats);
  }

  /** The events of {@code seg}, read by {@code readers}. */
  public static Source<ReadEvent, NotUsed> events(RankSegment seg, Readers readers, ActorSystem<?> system, Settings s,
                                                  Stats stats) {
    if (readers.refs.isEmpty()) {
      throw new IllegalArgumentException("no shard readers to lease slices to");
    }
    if (seg.mixed().isPresent()) {
      // a mix: each source's slices leased as a stream of their own, cut into each batch's shares
      List<Source<ReadEvent, NotUsed>> sources = new ArrayList<>();
      int first = 0;
      for (List<Pair<WindowSlice, Long>> slices : RankPipeline.sourceSlices(seg)) {
        sources.add(leased(seg, slices, first, readers, system, s, stats));
        first += slices.size();
      }
      return RankPipeline.mixed(seg, sources);
    }
    return leased(seg, RankPipeline.slices(seg), 0, readers, system, s, stats);
  }

  /** {@code slices} of {@code seg} leased in order, numbered from {@code first} among the segment's. */
  private static Source<ReadEvent, NotUsed> leased(RankSegment seg, List<Pair<WindowSlice, Long>> slices, int first,
                                                   Readers readers, ActorSystem<?> system, Settings s, Stats stats) {
    List<Integer> indices = new ArrayList<>();
    for (int i = 0; i < slices.size(); i++) {
      indices.add(i);
    }
    return Source.from(indices).flatMapConcat(s.slicesInFlight(), i -> {
      Pair<WindowSlice, Long> p = slices.get(i);
      Lessee l = new Lessee(seg.epoch(), seg.rank(), leaseId(seg, first + i), first + i, p.first(), p.second(), readers,
          system, s, stats);
      return Source.lazySource(l::read).mapMaterializedValue(m -> NotUsed.getInstance());
    });
  }

  /** A lease id unique within a job: epoch, rank and slice. */
  static long leaseId(RankSegment seg, int slice) {
    return ((long) seg.epoch() << 48) | ((long) seg.rank() << 24) | slice;
  }
}
