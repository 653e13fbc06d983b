package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.ShardSet;
import dev.conveyor.streams.plan.ShardTask;
import dev.conveyor.streams.plan.WindowShuffle;
import dev.conveyor.streams.plan.WindowSlice;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.ShardRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.UniformFanInShape;
import org.apache.pekko.stream.javadsl.GraphDSL;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;

/**
 * Reads one window slice: the window's shard pieces are opened at once (each a back-pressured
 * stream, from the shard's first byte or — with a shard index — from the piece's first
 * sample), and one stage runs the window's {@link WindowShuffle} over their samples — pulling
 * from whichever piece the shuffle names, never from whichever arrived first — and emits the
 * slice's positions in plan order. Holds at most the shuffle buffer plus what the pieces'
 * streams buffer.
 *
 * <p>A piece that ends before its planned samples (a truncated or corrupt shard) fills the
 * rest of its positions with dead letters, so positions never shift.
 */
final class WindowReader {
  private WindowReader() {}

  /** Reads {@code slice}; its first position is rank position {@code firstPosition}. */
  static Source<ReadEvent, NotUsed> read(Pieces pieces, DataPlan plan, WindowSlice slice, long firstPosition, long maxMemberBytes) {
    List<ShardTask> tasks = plan.tasks(slice.window());
    List<String> names = new ArrayList<>(tasks.size());
    tasks.forEach(t -> names.add(plan.recipe().shards().name(t.shard())));
    return Source.lazyCompletionStageSource(() -> {
      List<CompletableFuture<Pieces.Piece>> opening = new ArrayList<>(tasks.size());
      for (ShardTask t : tasks) {
        ShardSet shards = plan.recipe().shards();
        opening.add(pieces.open(shards.uri(t.shard()), t.from(), t.to(), shards.held(t.shard()),
            shards.chosen(t.shard()), maxMemberBytes).toCompletableFuture());
      }
      return CompletableFuture.allOf(opening.toArray(CompletableFuture[]::new)).thenApply(v -> {
        List<Pieces.Piece> opened = opening.stream().map(CompletableFuture::join).toList();
        WindowMerge merge = new WindowMerge(plan, slice, tasks, names, opened, firstPosition);
        return Source.fromGraph(GraphDSL.create(b -> {
          UniformFanInShape<ShardRecord, ReadEvent> m = b.add(merge);
          for (int i = 0; i < tasks.size(); i++) {
            b.from(b.add(opened.get(i).records()).out()).toInlet(m.in(i));
          }
          return SourceShape.of(m.out());
        }));
      });
    }).mapMaterializedValue(f -> NotUsed.getInstance());
  }

  /** The stage that interleaves a window's pieces by its shuffle. */
  private static final class WindowMerge extends GraphStage<UniformFanInShape<ShardRecord, ReadEvent>> {
    private final DataPlan plan;
    private final WindowSlice slice;
    private final List<ShardTask> tasks;
    private final List<String> names;
    private final List<Pieces.Piece> opened;
    private final long firstPosition;
    private final UniformFanInShape<ShardRecord, ReadEvent> shape;

    WindowMerge(DataPlan plan, WindowSlice slice, List<ShardTask> tasks, List<String> names, List<Pieces.Piece> opened,
                long firstPosition) {
      this.plan = plan;
      this.slice = slice;
      this.tasks = tasks;
      this.names = names;
      this.opened = opened;
      this.firstPosition = firstPosition;
      List<Inlet<ShardRecord>> ins = new ArrayList<>();
      for (int i = 0; i < tasks.size(); i++) {
        ins.add(Inlet.create("WindowMerge.in" + i));
      }
      this.shape = UniformFanInShape.create(Outlet.<ReadEvent>create("WindowMerge.out"), ins);
    }

    @Override
    public UniformFanInShape<ShardRecord, ReadEvent> shape() {
      return shape;
    }

    @Override
    public GraphStageLogic createLogic(Attributes attrs) {
      return new GraphStageLogic(shape) {
        private final WindowShuffle<ShardRecord> shuffle = plan.shuffle(slice.window(), tasks);
        private final ArrayDeque<ReadEvent> ready = new ArrayDeque<>();
        private final int[] seen = new int[tasks.size()]; // the index in its shard of each piece's next record's sample
        private final int[] readable = new int[tasks.size()];
        private final boolean[] ended = new boolean[tasks.size()];
        private final String[] failed = new String[tasks.size()]; // why a piece's shard stopped being readable
        private int awaiting = -1; // the piece whose next sample the shuffle asked for
        private long emitted; // window positions the shuffle has emitted

        {
          for (int i = 0; i < tasks.size(); i++) {
            seen[i] = opened.get(i).first();
            int t = i;
            setHandler(shape.in(t), new AbstractInHandler() {
              @Override
              public void onPush() {
                accept(t, grab(shape.in(t)));
              }

              @Override
              public void onUpstreamFinish() {
                ended[t] = true;
                readable[t] = seen[t];
                if (awaiting == t) {
                  filled(missing(t));
                }
              }
            });
          }
          setHandler(shape.out(), new AbstractOutHandler() {
            @Override
            public void onPull() {
              drive();
            }
          });
        }

        /** Does what it can towards the next output: asks a piece for input, or emits. */
        private void drive() {
          while (isAvailable(shape.out())) {
            if (!ready.isEmpty()) {
              push(shape.out(), ready.poll());
              continue;
            }
            if (emitted >= slice.to()) {
              completeStage();
              return;
            }
            if (awaiting >= 0) {
              return; // waiting for a piece
            }
            if (shuffle.needsInput()) {
              int t = shuffle.chooseTask();
              if (ended[t]) {
                place(shuffle.offer(missing(t)));
              } else {
                awaiting = t;
                pull(shape.in(t));
                return;
              }
            } else if (!shuffle.isEmpty()) {
              place(shuffle.drainOne());
            } else {
              completeStage();
              return;
            }
          }
        }

        private void accept(int t, ShardRecord r) {
          if (r instanceof RawSample s) {
            if (seen[t]++ < tasks.get(t).from()) {
              pull(shape.in(t)); // before this piece: another rank's samples
              return;
            }
            filled(s);
            return;
          }
          DeadLetter d = (DeadLetter) r;
          if (d.key().equals(DeadLetter.WHOLE_SHARD)) {
            failed[t] = d.reason();
          }
          if (seen[t] >= tasks.get(t).from()) {
            ready.add(new ReadEvent.Report(d));
          }
          pull(shape.in(t));
          drive();
        }

        private void filled(ShardRecord r) {
          awaiting = -1;
          place(shuffle.offer(r));
          drive();
        }

        private void place(ShardRecord e) {
          if (e == null) {
            return;
          }
          if (emitted >= slice.from() && emitted < slice.to()) {
            ready.add(new ReadEvent.Slot(firstPosition + emitted - slice.from(), e));
          }
          emitted++;
        }

        private DeadLetter missing(int t) {
          int index = seen[t]++;
          if (failed[t] != null) {
            return new DeadLetter(names.get(t), "#" + index, "sample " + index + " is missing: the shard failed after "
                + readable[t] + " readable samples: " + failed[t]);
          }
          return new DeadLetter(names.get(t), "#" + index, "sample " + index + " is missing: the shard ended after "
              + readable[t] + " readable samples but the plan counts at least " + tasks.get(t).to()
              + " (shards.json out of date, or the shard is damaged)");
        }
      };
    }
  }
}
