package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.ShardTask;
import dev.conveyor.streams.plan.WindowShuffle;
import dev.conveyor.streams.plan.WindowSlice;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.ShardRecord;
import dev.conveyor.streams.sample.ShardSamples;
import dev.conveyor.streams.store.ShardStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.SinkQueueWithCancel;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Reads one window slice: opens the window's shard pieces at once (each a back-pressured
 * stream), runs the window's {@link WindowShuffle} over their samples — pulling from whichever
 * piece the shuffle names, never from whichever arrived first — and emits the slice's
 * positions in plan order. Holds at most the shuffle buffer plus one sample per piece.
 *
 * <p>A piece that ends before its planned samples (a truncated or corrupt shard) fills the
 * rest of its positions with dead letters, so positions never shift.
 */
final class WindowReader {
  private WindowReader() {}

  /** Reads {@code slice}; its first position is rank position {@code firstPosition}. */
  static Source<ReadEvent, NotUsed> read(ShardStore store, DataPlan plan, WindowSlice slice, long firstPosition, long maxMemberBytes) {
    return Source.<ReadEvent, NotUsed>fromMaterializer((mat, attrs) -> Source
            .unfoldResourceAsync(
                () -> CompletableFuture.completedFuture(new State(store, plan, slice, firstPosition, maxMemberBytes, mat)),
                State::next,
                State::close)
            .mapConcat(list -> list))
        .mapMaterializedValue(f -> NotUsed.getInstance());
  }

  /** One window's read in progress: the shuffle machine and a pull queue per shard piece. */
  private static final class State {
    private final WindowSlice slice;
    private final long firstPosition;
    private final List<ShardTask> tasks;
    private final WindowShuffle<ShardRecord> shuffle;
    private final List<SinkQueueWithCancel<ShardRecord>> queues = new ArrayList<>();
    private final int[] seen; // samples of each piece's shard read so far, in shard order
    private final boolean[] ended;
    private final int[] readable; // samples a piece's shard held, once it ended
    private final String[] shardNames;
    private long emitted; // window positions emitted by the shuffle so far

    State(ShardStore store, DataPlan plan, WindowSlice slice, long firstPosition, long maxMemberBytes, Materializer mat) {
      this.slice = slice;
      this.firstPosition = firstPosition;
      this.tasks = plan.tasks(slice.window());
      this.shuffle = plan.shuffle(slice.window(), tasks);
      this.seen = new int[tasks.size()];
      this.ended = new boolean[tasks.size()];
      this.readable = new int[tasks.size()];
      this.shardNames = new String[tasks.size()];
      for (int i = 0; i < tasks.size(); i++) {
        var uri = plan.recipe().shards().uri(tasks.get(i).shard());
        shardNames[i] = uri.toString();
        queues.add(ShardSamples.read(store, uri, OptionalLong.empty(), maxMemberBytes).runWith(Sink.queue(), mat));
      }
    }

    /** The next events, or empty when the slice is done. */
    CompletionStage<Optional<List<ReadEvent>>> next() {
      List<ReadEvent> out = new ArrayList<>(2);
      if (emitted >= slice.to()) {
        return CompletableFuture.completedFuture(Optional.empty());
      }
      if (shuffle.needsInput()) {
        int t = shuffle.chooseTask();
        return slot(t, out).thenApply(record -> {
          ShardRecord e = shuffle.offer(record);
          if (e != null) {
            emit(e, out);
          }
          return Optional.of(out);
        });
      }
      if (!shuffle.isEmpty()) {
        emit(shuffle.drainOne(), out);
        return CompletableFuture.completedFuture(Optional.of(out));
      }
      return CompletableFuture.completedFuture(Optional.empty());
    }

    private void emit(ShardRecord e, List<ReadEvent> out) {
      if (emitted >= slice.from() && emitted < slice.to()) {
        out.add(new ReadEvent.Slot(firstPosition + emitted - slice.from(), e));
      }
      emitted++;
    }

    /** The next planned sample of piece {@code t}, collecting the piece's reports on the way. */
    private CompletionStage<ShardRecord> slot(int t, List<ReadEvent> reports) {
      CompletableFuture<ShardRecord> result = new CompletableFuture<>();
      pull(t, reports, result);
      return result;
    }

    /** Pulls until {@code result} is complete; loops while pulls complete at once, so long skips use no stack. */
    private void pull(int t, List<ReadEvent> reports, CompletableFuture<ShardRecord> result) {
      while (true) {
        if (ended[t]) {
          result.complete(missing(t));
          return;
        }
        CompletableFuture<Optional<ShardRecord>> f = queues.get(t).pull().toCompletableFuture();
        if (!f.isDone()) {
          f.whenComplete((v, e) -> {
            if (e != null) {
              result.completeExceptionally(e);
            } else if (!accept(t, v, reports, result)) {
              pull(t, reports, result);
            }
          });
          return;
        }
        if (accept(t, f.join(), reports, result)) {
          return;
        }
      }
    }

    /** Handles one pulled record; true when it completed {@code result}. */
    private boolean accept(int t, Optional<ShardRecord> next, List<ReadEvent> reports, CompletableFuture<ShardRecord> result) {
      if (next.isEmpty()) {
        ended[t] = true;
        readable[t] = seen[t];
        result.complete(missing(t));
        return true;
      }
      ShardRecord r = next.get();
      if (r instanceof RawSample s) {
        if (seen[t]++ < tasks.get(t).from()) {
          return false; // before this piece: another rank's samples
        }
        result.complete(s);
        return true;
      }
      if (seen[t] >= tasks.get(t).from()) {
        reports.add(new ReadEvent.Report((DeadLetter) r));
      }
      return false;
    }

    private DeadLetter missing(int t) {
      int index = seen[t]++;
      return new DeadLetter(shardNames[t], "#" + index, "sample " + index + " is missing: the shard ended after "
          + readable[t] + " readable samples but the plan counts at least " + tasks.get(t).to()
          + " (shards.json out of date, or the shard is damaged)");
    }

    CompletionStage<Done> close() {
      queues.forEach(SinkQueueWithCancel::cancel);
      return CompletableFuture.completedFuture(Done.getInstance());
    }
  }
}
