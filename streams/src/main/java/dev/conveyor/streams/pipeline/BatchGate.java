package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.plan.RankSegment;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Where the ranks of a job of full batches agree how many batches an epoch has: every rank must
 * step the same number of times (a data-parallel trainer hangs otherwise), but how many full
 * batches a rank's part gives is known only once its filters have run. Batch {@code k} of an
 * epoch is delivered on any rank only once every rank has made its batch {@code k}; the first
 * rank whose part runs out after {@code n} batches ends the epoch at {@code n} for all of them,
 * and what every rank holds after its {@code n}-th batch is left over (reported, like the
 * drop-last remainder). A batch released carries every rank's position after it, the cursor's
 * record of it.
 *
 * <p>One gate serves the ranks of a job that run in this process; ranks read ahead of the gate
 * by {@code ahead} batches. When the job's ranks run in several processes (trainer hosts), each
 * has a gate: what happens to its own ranks it publishes as {@link News}, and it is given the
 * others' news ({@link #news}). Every gate decides from the same facts — which batches each rank
 * made, where each ran out — so all decide alike, with no one in charge. Thread-safe.
 */
public final class BatchGate {
  private final int world;
  private final int local;
  private final int ahead;
  private final Consumer<News> publish;
  private final Map<Integer, Epoch> epochs = new HashMap<>();
  /** Epochs every rank here has ended: news of them that comes late is dropped. */
  private final java.util.Set<Integer> over = new java.util.HashSet<>();

  /** What happened to a rank, for the gates of the job's other processes. */
  public sealed interface News {
    int epoch();

    int rank();
  }

  /** The rank starts the epoch at batch {@code firstBatch} (later than 0 after a resume). */
  public record Started(int epoch, int rank, long firstBatch) implements News {}

  /** The rank made batch {@code index}; its position after it is {@code end}, with {@code offset} outputs of it. */
  public record Made(int epoch, int rank, long index, long end, long offset) implements News {}

  /** The rank's part ran out after {@code batches} batches. */
  public record RanOut(int epoch, int rank, long batches) implements News {}

  /** The rank failed: the others stop waiting for it. */
  public record Failed(int epoch, int rank, String reason) implements News {}

  /** A gate for all {@code world} ranks of a job, each reading up to {@code ahead} batches beyond what was released. */
  public BatchGate(int world, int ahead) {
    this(world, world, ahead, n -> { });
  }

  /**
   * A gate for the {@code local} of the job's {@code world} ranks that run here, telling
   * {@code publish} what happens to them (for the gates of the others).
   */
  public BatchGate(int world, int local, int ahead, Consumer<News> publish) {
    if (world < 1 || ahead < 1 || local < 0 || local > world) {
      throw new IllegalArgumentException("a gate needs at least one rank, at most all of them here, and one batch"
          + " ahead");
    }
    this.world = world;
    this.local = local;
    this.ahead = ahead;
    this.publish = publish;
  }

  /** What happened to a rank of another process. */
  public void news(News n) {
    if (n.rank() < 0 || n.rank() >= world) {
      throw new IllegalArgumentException("news of rank " + n.rank() + " at a gate of " + world + " ranks");
    }
    apply(n);
  }

  /** What happened to a rank here: applied, and told to the other processes. */
  private void happened(News n) {
    apply(n);
    publish.accept(n);
  }

  private void apply(News n) {
    update(n.epoch(), e -> {
      if (n instanceof Started s) {
        e.started(s.rank(), s.firstBatch());
      } else if (n instanceof Made m) {
        e.made(m.rank(), m.index(), m.end(), m.offset());
      } else if (n instanceof RanOut r) {
        e.ranOut(r.rank(), r.batches());
      } else {
        e.fail(new IllegalStateException("rank " + n.rank() + " failed: " + ((Failed) n).reason()));
      }
    });
  }

  /**
   * The released batches of {@code seg}, from its plan-ordered slots, and the skips met up to the
   * epoch's end (each as it comes: it waits for no batch); when the epoch ends for it,
   * {@code leftOver} is told the positions of its part it did not deliver.
   */
  public Flow<ReadEvent, RankEvent, NotUsed> batches(RankSegment seg, LongConsumer leftOver) {
    if (seg.world() != world) {
      throw new IllegalArgumentException("rank " + seg.rank() + " of a world of " + seg.world() + " at a gate of "
          + world + " ranks");
    }
    int epoch = seg.epoch();
    int rank = seg.rank();
    return Flow.<ReadEvent, RankEvent, NotUsed>fromMaterializer((mat, attrs) -> {
      synchronized (this) {
        epoch(epoch).here(rank, seg.firstBatch());
      }
      happened(new Started(epoch, rank, seg.firstBatch()));
      long[] lastEnd = {seg.firstPosition()};
      FullBatcher.Progress progress = new FullBatcher.Progress() {
        @Override
        public void made(long index, long end, long offset) {
          happened(new Made(epoch, rank, index, end, offset));
        }

        @Override
        public void ranOut(long batches) {
          happened(new RanOut(epoch, rank, batches));
        }
      };
      return Flow.fromGraph(new FullBatcher(seg, progress))
          .watchTermination((m, done) -> {
            done.whenComplete((ok, failure) -> {
              if (failure != null) {
                happened(new Failed(epoch, rank, String.valueOf(failure.getMessage())));
              }
            });
            return m;
          })
          .buffer(ahead, OverflowStrategy.backpressure())
          // a skip waits for nothing: its batch may be one this rank cannot make before the skips ahead of it
          // are taken (a run of bad samples longer than the buffer), and a bad sample is reported wherever it is
          .<Object>mapAsync(1, ev -> !(ev instanceof RawBatch b) ? CompletableFuture.completedFuture(ev)
              : release(epoch, rank, b.index()).thenApply(ends -> {
                if (ends.isEmpty()) {
                  return End.INSTANCE;
                }
                lastEnd[0] = b.end();
                return b.withEnds(ends.get()[0], ends.get()[1]);
              }))
          .concat(Source.lazySingle(() -> End.INSTANCE))
          .takeWhile(ev -> {
            if (ev == End.INSTANCE) {
              leftOver.accept(seg.size() - lastEnd[0]);
              update(epoch, e -> e.ended(rank));
              return false;
            }
            return true;
          })
          .map(ev -> (RankEvent) ev);
    }).mapMaterializedValue(f -> NotUsed.getInstance());
  }

  /** The end of a rank's epoch, inside the flow. */
  private enum End { INSTANCE }

  private synchronized Epoch epoch(int epoch) {
    return epochs.computeIfAbsent(epoch, e -> new Epoch());
  }

  private synchronized void update(int epoch, Consumer<Epoch> change) {
    if (over.contains(epoch)) {
      return; // late news of an epoch every rank here has ended
    }
    Epoch e = epoch(epoch);
    change.accept(e);
    e.decide();
    if (e.endedRanks == local) {
      epochs.remove(epoch);
      over.add(epoch);
    }
  }

  /**
   * Every rank's position and offset after batch {@code k} ({@code [ends, offsets]}) once all made
   * it; empty once the epoch ends before it.
   */
  private synchronized CompletionStage<Optional<long[][]>> release(int epoch, int rank, long k) {
    Epoch e = epoch(epoch);
    e.awaiting[rank] = k;
    CompletableFuture<Optional<long[][]>> f = e.waiting.computeIfAbsent(k, i -> new CompletableFuture<>());
    e.decide();
    return f;
  }

  /** One epoch's agreement. */
  private final class Epoch {
    /** The ranks whose start is known (here or in news), and those that run here. */
    final boolean[] registered = new boolean[world];
    final boolean[] here = new boolean[world];
    /** Batches each rank has made, counted from the epoch's first (a resumed rank's earlier ones count). */
    final long[] made = new long[world];
    /** The count each rank's part ran out at, or -1. */
    final long[] ranOut = filled(-1);
    /** Each rank's lowest batch still awaited: ends below every rank's are no longer needed. */
    final long[] awaiting = new long[world];
    /** Per batch, each rank's position and offset after it: {@code [ends, offsets]}. */
    final TreeMap<Long, long[][]> ends = new TreeMap<>();
    final TreeMap<Long, CompletableFuture<Optional<long[][]>>> waiting = new TreeMap<>();
    Throwable failed;
    int endedRanks;

    void here(int rank, long firstBatch) {
      here[rank] = true;
      awaiting[rank] = firstBatch;
    }

    void started(int rank, long firstBatch) {
      registered[rank] = true;
      made[rank] = Math.max(made[rank], firstBatch);
    }

    void made(int rank, long index, long end, long offset) {
      registered[rank] = true;
      made[rank] = Math.max(made[rank], index + 1);
      long[][] at = ends.computeIfAbsent(index, i -> new long[][] {filled(-1), filled(0)});
      at[0][rank] = end;
      at[1][rank] = offset;
    }

    void ranOut(int rank, long batches) {
      registered[rank] = true;
      ranOut[rank] = batches;
      made[rank] = Math.max(made[rank], batches);
    }

    void fail(Throwable t) {
      failed = failed == null ? t : failed;
    }

    void ended(int rank) {
      endedRanks++;
    }

    /** Completes every awaited batch that can be decided now. */
    void decide() {
      var it = waiting.entrySet().iterator();
      while (it.hasNext()) {
        var w = it.next();
        long k = w.getKey();
        if (failed != null) {
          w.getValue().completeExceptionally(failed);
        } else if (Arrays.stream(ranOut).anyMatch(n -> n >= 0 && n <= k)) {
          w.getValue().complete(Optional.empty());
        } else if (allMade(k)) {
          long[][] at = ends.getOrDefault(k, new long[][] {filled(-1), filled(0)});
          w.getValue().complete(Optional.of(new long[][] {at[0].clone(), at[1].clone()}));
        } else {
          continue;
        }
        it.remove();
      }
      // the ends of batches every rank here has had are no longer needed
      long lowest = Long.MAX_VALUE;
      for (int r = 0; r < world; r++) {
        lowest = here[r] ? Math.min(lowest, awaiting[r]) : lowest;
      }
      ends.headMap(lowest == Long.MAX_VALUE ? 0 : lowest).clear();
    }

    private boolean allMade(long k) {
      for (int r = 0; r < world; r++) {
        if (!registered[r] || made[r] <= k) {
          return false;
        }
      }
      return true;
    }
  }

  private long[] filled(long v) {
    long[] a = new long[world];
    Arrays.fill(a, v);
    return a;
  }
}
