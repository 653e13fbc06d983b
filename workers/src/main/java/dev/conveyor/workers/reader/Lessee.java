package dev.conveyor.workers.reader;

import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.plan.WindowSlice;
import dev.conveyor.workers.reader.ShardReader.SliceElement;
import dev.conveyor.workers.reader.ShardReader.SliceEnd;
import dev.conveyor.workers.reader.ShardReader.SliceEvents;
import dev.conveyor.workers.reader.ShardReader.SliceHandedBack;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.japi.pf.PFBuilder;
import org.apache.pekko.stream.Graph;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.StreamRefAttributes;
import org.apache.pekko.stream.javadsl.Source;
import dev.conveyor.workers.reader.LeasedSlices.Readers;
import dev.conveyor.workers.reader.LeasedSlices.Settings;
import dev.conveyor.workers.reader.LeasedSlices.Stats;

/** One slice's reading, across the attempts it takes. */
final class Lessee {
  private final int epoch;
  private final int rank;
  private final long lease;
  private final int index;
  private final WindowSlice slice;
  private final long firstPosition;
  private final Readers readers;
  private final ActorSystem<?> system;
  private final Settings s;
  private final Stats stats;
  // the ordinal of the next event to deliver: advanced as events leave the slice's stream, never
  // as they arrive — events a failed lease's stream still held are lost with it, and read again
  private final AtomicLong next = new AtomicLong();
  private final AtomicInteger attempts = new AtomicInteger();

  Lessee(int epoch, int rank, long lease, int index, WindowSlice slice, long firstPosition, Readers readers,
         ActorSystem<?> system, Settings s, Stats stats) {
    this.epoch = epoch;
    this.rank = rank;
    this.lease = lease;
    this.index = index;
    this.slice = slice;
    this.firstPosition = firstPosition;
    this.readers = readers;
    this.system = system;
    this.s = s;
    this.stats = stats;
  }

  /**
   * The slice's events across its leases: a failed lease is leased again up to
   * {@code maxAttempts} leases in all; a slice handed back by a leaving reader is leased again
   * whatever the count (that is no failure, and the leaving reader takes no more leases).
   */
  Source<ReadEvent, NotUsed> read() {
    AtomicInteger failures = new AtomicInteger();
    return attempt().recoverWithRetries(-1,
        new PFBuilder<Throwable, Graph<SourceShape<Numbered>, NotUsed>>()
            .match(Throwable.class, t -> t instanceof HandedBack || failures.get() < s.maxAttempts() - 1, t -> {
              if (!(t instanceof HandedBack)) {
                failures.incrementAndGet();
              }
              (t instanceof HandedBack ? stats.handedBack : stats.reassigned).incrementAndGet();
              if (!(t instanceof HandedBack)) {
                system.log().warn("slice {} of epoch {} (rank {}): its lease failed ({}); leasing it again from event {}",
                    index, epoch, rank, t.toString(), next.get());
              }
              return Source.<Numbered>empty().initialDelay(s.retryDelay()).concatLazy(Source.lazySource(this::attempt)
                  .mapMaterializedValue(m -> NotUsed.getInstance()));
            })
            .build())
        .mapError(new PFBuilder<Throwable, Throwable>().match(Throwable.class, t -> !(t instanceof HandedBack),
            t -> new IllegalStateException("slice " + index + " of epoch " + epoch + " (rank " + rank + ") could not be"
                + " read: " + s.maxAttempts() + " leases of it failed, the last with " + t
                + (readers.noneAlive() ? "; no shard reader is left in the cluster (are the workers down?)" : ""), t))
            .build())
        .map(n -> {
          next.set(n.ordinal() + 1);
          return n.event();
        });
  }

  /** Leases the slice to the next reader (from the next ordinal on) and takes its events, numbered. */
  private Source<Numbered, NotUsed> attempt() {
    int fencing = attempts.getAndIncrement();
    // spread over the readers by rank and epoch too: every segment's first slice must not go to the same one
    java.util.concurrent.atomic.AtomicReference<ActorRef<ShardReader.Command>> asked =
        new java.util.concurrent.atomic.AtomicReference<>();
    long from = next.get();
    stats.leases.incrementAndGet();
    if (from > 0) {
      stats.resumedMidSlice.incrementAndGet();
    }
    CompletionStage<Source<SliceElement, NotUsed>> offered = readers.awaitPick(index + rank + epoch, fencing,
            s.offerTimeout(), system)
        .thenCompose(reader -> {
          asked.set(reader);
          return AskPattern.<ShardReader.Command, ShardReader.Offer>ask(reader,
              reply -> new ShardReader.Lease(lease, fencing, epoch, slice, firstPosition, from, reply),
              s.offerTimeout(), system.scheduler());
        })
        .thenApply(o -> {
          if (o.lease() != lease || o.fencing() != fencing) {
            throw new IllegalStateException("offer for lease " + o.lease() + "/" + o.fencing() + ", asked " + lease + "/" + fencing);
          }
          return o.events().getSource().addAttributes(StreamRefAttributes.bufferCapacity(s.buffered()));
        });
    AtomicBoolean ended = new AtomicBoolean();
    AtomicBoolean handedBack = new AtomicBoolean();
    AtomicLong taken = new AtomicLong(from); // the next ordinal this lease's stream is to give
    return Source.completionStageSource(offered)
        .mapMaterializedValue(m -> NotUsed.getInstance())
        .<Numbered>mapConcat(e -> accept(e, taken, ended, handedBack))
        .concatLazy(Source.lazySource(() -> ended.get() ? Source.<Numbered>empty()
                : Source.<Numbered>failed(handedBack.get() ? new HandedBack(index, epoch, taken.get())
                    : new IllegalStateException("slice " + index + " of epoch " + epoch
                        + ": the reader's stream ended without its end marker, after event " + taken.get())))
            .mapMaterializedValue(m -> NotUsed.getInstance()))
        .mapError(new PFBuilder<Throwable, Throwable>().match(Throwable.class, t -> {
          if (asked.get() != null) {
            (t instanceof HandedBack ? readers.leaving : readers.suspects).add(asked.get());
          }
          return t;
        }).build());
  }

  /** The events of {@code e} this lease is to give (numbered), after the {@code taken} it gave so far. */
  private List<Numbered> accept(SliceElement e, AtomicLong taken, AtomicBoolean ended, AtomicBoolean handedBack) {
    if (e instanceof SliceHandedBack) {
      handedBack.set(true); // the stream ends here: lease the rest elsewhere
      return List.of();
    }
    if (e instanceof SliceEvents g) {
      long want = taken.get();
      if (g.end() <= want) {
        stats.duplicatesDropped.addAndGet(g.events().size());
        return List.of(); // already delivered by an earlier lease of this slice
      }
      if (g.first() > want) {
        throw new IllegalStateException("slice " + index + ": event " + g.first() + " arrived, " + want + " expected");
      }
      stats.duplicatesDropped.addAndGet(want - g.first());
      taken.set(g.end());
      List<Numbered> out = new ArrayList<>((int) (g.end() - want));
      for (long o = want; o < g.end(); o++) {
        out.add(new Numbered(o, g.events().get((int) (o - g.first()))));
      }
      return out;
    }
    SliceEnd end = (SliceEnd) e;
    if (end.events() != taken.get()) {
      throw new IllegalStateException("slice " + index + " ended at " + end.events() + " events, " + taken.get() + " delivered");
    }
    ended.set(true);
    return List.of();
  }

  /** A leaving reader handed a slice back after {@code delivered} events: not a failure, but the rest is read elsewhere. */
  static final class HandedBack extends RuntimeException {
    HandedBack(int slice, int epoch, long delivered) {
      super("slice " + slice + " of epoch " + epoch + " handed back after event " + delivered + " (its reader's node is leaving)",
          null, false, false);
    }
  }

  /** An event of a slice with its ordinal in the slice. */
  private record Numbered(long ordinal, ReadEvent event) {}
}
