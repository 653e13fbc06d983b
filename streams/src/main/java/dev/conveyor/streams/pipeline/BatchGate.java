package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.batch.Skipped;
import dev.conveyor.streams.plan.RankSegment;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
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
 * <p>One gate serves all the ranks of a job, which must all run in this process; ranks read
 * ahead of the gate by {@code ahead} batches. Thread-safe.
 */
public final class BatchGate {
  private final int world;
  private final int ahead;
  private final Map<Integer, Epoch> epochs = new HashMap<>();

  /** A gate for the {@code world} ranks of a job, each reading up to {@code ahead} batches beyond what was released. */
  public BatchGate(int world, int ahead) {
    if (world < 1 || ahead < 1) {
      throw new IllegalArgumentException("a gate needs at least one rank and one batch ahead");
    }
    this.world = world;
    this.ahead = ahead;
  }

  /**
   * The released batches (and their skips) of {@code seg}, from its plan-ordered slots; when the
   * epoch ends for it, {@code leftOver} is told the positions of its part it did not deliver.
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
        epoch(epoch).register(seg);
      }
      long[] lastEnd = {seg.firstPosition()};
      FullBatcher.Progress progress = new FullBatcher.Progress() {
        @Override
        public void made(long index, long end, long offset) {
          update(epoch, e -> e.made(rank, index, end, offset));
        }

        @Override
        public void ranOut(long batches) {
          update(epoch, e -> e.ranOut(rank, batches));
        }
      };
      return Flow.fromGraph(new FullBatcher(seg, progress))
          .watchTermination((m, done) -> {
            done.whenComplete((ok, failure) -> {
              if (failure != null) {
                update(epoch, e -> e.fail(new IllegalStateException("rank " + rank + " failed: " + failure.getMessage(),
                    failure)));
              }
            });
            return m;
          })
          .buffer(ahead, OverflowStrategy.backpressure())
          .<Object>mapAsync(1, ev -> release(epoch, rank, ev instanceof RawBatch b ? b.index()
              : ((Skipped) ev).step() - seg.stepBase()).thenApply(ends -> {
                if (ends.isEmpty()) {
                  return End.INSTANCE;
                }
                if (ev instanceof RawBatch b) {
                  lastEnd[0] = b.end();
                  return b.withEnds(ends.get()[0], ends.get()[1]);
                }
                return ev;
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

  private synchronized void update(int epoch, java.util.function.Consumer<Epoch> change) {
    Epoch e = epoch(epoch);
    change.accept(e);
    e.decide();
    if (e.endedRanks == world) {
      epochs.remove(epoch);
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
    final boolean[] registered = new boolean[world];
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

    void register(RankSegment seg) {
      registered[seg.rank()] = true;
      made[seg.rank()] = seg.firstBatch();
      awaiting[seg.rank()] = seg.firstBatch();
    }

    void made(int rank, long index, long end, long offset) {
      made[rank] = index + 1;
      long[][] at = ends.computeIfAbsent(index, i -> new long[][] {filled(-1), filled(0)});
      at[0][rank] = end;
      at[1][rank] = offset;
    }

    void ranOut(int rank, long batches) {
      ranOut[rank] = batches;
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
      long lowest = Arrays.stream(awaiting).min().orElse(0);
      ends.headMap(lowest).clear();
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
