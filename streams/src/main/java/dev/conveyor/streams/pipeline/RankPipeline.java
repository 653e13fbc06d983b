package dev.conveyor.streams.pipeline;

import dev.conveyor.config.StageSettings.HandOff;
import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.plan.ShardSet;
import dev.conveyor.streams.plan.ShardTask;
import dev.conveyor.streams.plan.WindowSlice;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.store.ShardCheck;
import dev.conveyor.streams.store.ShardStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The stream graph of one rank for one plan segment: its window slices read (several at once,
 * concatenated in order), its slots passed through the per-sample stage in groups of
 * consecutive events, {@code stageParallelism} groups in flight (order kept: ordered
 * {@code mapAsync}), then
 * checked against plan order and cut into batches. Pure: nothing runs until materialized.
 */
public final class RankPipeline {
  private RankPipeline() {}

  /**
   * @param readerParallelism windows read at the same time (each opens its shard pieces)
   * @param stageParallelism  groups of samples in the per-sample stage at the same time
   * @param stage             the per-sample stage, given the epoch: decoding, or identity for raw bytes
   * @param handOff           how consecutive events are grouped for the stage (and, on a worker, for the rank)
   */
  public record Settings(int readerParallelism, int stageParallelism, long maxMemberBytes, SampleStage stage,
                         long readAheadBytes, Map<String, ShardCheck> checks, HandOff handOff) {
    public Settings {
      if (readerParallelism < 1 || stageParallelism < 1) {
        throw new IllegalArgumentException("parallelism must be at least 1");
      }
      checks = Map.copyOf(checks);
    }

    /** Samples handed over in reference.conf's groups. */
    public Settings(int readerParallelism, int stageParallelism, long maxMemberBytes, SampleStage stage,
                    long readAheadBytes, Map<String, ShardCheck> checks) {
      this(readerParallelism, stageParallelism, maxMemberBytes, stage, readAheadBytes, checks, HandOff.DEFAULT);
    }

    /** No read-ahead and no manifest checks; samples handed over in reference.conf's groups. */
    public Settings(int readerParallelism, int stageParallelism, long maxMemberBytes, SampleStage stage) {
      this(readerParallelism, stageParallelism, maxMemberBytes, stage, 0, Map.of());
    }
  }

  /** A per-sample stage that passes every event through unchanged (raw bytes). */
  public static CompletionStage<List<ReadEvent>> identity(int epoch, List<ReadEvent> group) {
    return SampleStage.IDENTITY.apply(epoch, group);
  }

  /**
   * The events of {@code seg}: its batches from {@code seg.firstBatch()} on, with skips in place.
   * With {@code readAheadBytes > 0} the segment's shards are fetched ahead in plan order, and
   * with manifest checks every shard is checked ({@link ReadAhead}, one per materialization,
   * closed with the stream).
   */
  public static Source<RankEvent, NotUsed> events(ShardStore store, DataPlan plan, RankSegment seg, Settings s) {
    return checked(store, plan, seg.toRead(), s, pieces -> read(pieces, plan, seg, s, batches(seg)));
  }

  /** The same, full batches agreed through {@code gate}, which the job's other ranks pass theirs through. */
  public static Source<RankEvent, NotUsed> events(ShardStore store, DataPlan plan, RankSegment seg, Settings s,
                                                  BatchGate gate) {
    return checked(store, plan, seg.toRead(), s, pieces -> read(pieces, plan, seg, s, batches(seg, gate, n -> { })));
  }

  /**
   * {@code read} over {@code store}'s whole shards, or — with {@code readAheadBytes > 0} or
   * manifest checks — over a {@link ReadAhead} that fetches the pieces of {@code windows} ahead
   * in plan order (only their samples' bytes, for indexed shards) and checks every one; one per
   * materialization, closed with the stream.
   */
  private static <T> Source<T, NotUsed> checked(ShardStore store, DataPlan plan, List<WindowSlice> windows, Settings s,
                                                java.util.function.Function<Pieces, Source<T, NotUsed>> read) {
    if (s.readAheadBytes() <= 0 && s.checks().isEmpty()) {
      return read.apply(Pieces.whole(store));
    }
    return Source.<T, NotUsed>fromMaterializer((mat, attrs) -> {
      // with no budget nothing is fetched ahead: pieces stream, checked against the manifest as they do
      ReadAhead ahead = ReadAhead.pieces(store, s.readAheadBytes() > 0 ? pieceOrder(plan, windows) : List.of(), s.checks(),
          s.readAheadBytes(), mat);
      return read.apply(ahead).watchTermination((m, done) -> {
        done.whenComplete((ok, e) -> ahead.close());
        return m;
      });
    }).mapMaterializedValue(f -> NotUsed.getInstance());
  }

  /** The shard pieces {@code windows} read, in the order they open them. */
  private static List<ReadAhead.PlannedPiece> pieceOrder(DataPlan plan, List<WindowSlice> windows) {
    List<ReadAhead.PlannedPiece> order = new ArrayList<>();
    for (WindowSlice w : windows) {
      for (ShardTask t : plan.tasks(w.window())) {
        ShardSet shards = plan.recipe().shards();
        order.add(new ReadAhead.PlannedPiece(shards.uri(t.shard()), t.from(), t.to(), shards.held(t.shard()),
            shards.chosen(t.shard())));
      }
    }
    return order;
  }

  private static Source<RankEvent, NotUsed> read(Pieces pieces, DataPlan plan, RankSegment seg, Settings s,
                                                 Flow<ReadEvent, RankEvent, NotUsed> batcher) {
    if (seg.mixed().isPresent()) {
      List<Source<ReadEvent, NotUsed>> sources = new ArrayList<>();
      for (List<Pair<WindowSlice, Long>> slices : sourceSlices(seg)) {
        sources.add(staged(Source.from(slices).flatMapConcat(s.readerParallelism(),
            p -> WindowReader.read(pieces, plan, p.first(), p.second(), s.maxMemberBytes())), seg.epoch(), s)
            .mapConcat(g -> g));
      }
      return MixMerge.merge(seg, sources).via(batcher);
    }
    Source<ReadEvent, NotUsed> events = Source.from(slices(seg)).flatMapConcat(s.readerParallelism(),
        p -> WindowReader.read(pieces, plan, p.first(), p.second(), s.maxMemberBytes()));
    return staged(events, seg.epoch(), s).mapConcat(g -> g).via(batcher);
  }

  /**
   * A mixed segment's window slices still to read, per source, each with the position of its
   * first slot in the source's sequence: what each source's stream reads (or leases).
   */
  public static List<List<Pair<WindowSlice, Long>>> sourceSlices(RankSegment seg) {
    dev.conveyor.streams.plan.MixedReads m = seg.mixed().orElseThrow();
    List<List<Pair<WindowSlice, Long>>> out = new ArrayList<>();
    for (int source = 0; source < m.sequences().size(); source++) {
      List<Pair<WindowSlice, Long>> slices = new ArrayList<>();
      long position = m.firstPosition(source);
      for (WindowSlice w : m.toRead(source)) {
        slices.add(Pair.create(w, position));
        position += w.size();
      }
      out.add(slices);
    }
    return out;
  }

  /** A mixed segment's events from its sources' events (one stream per source, numbered in the source's sequence). */
  public static Source<ReadEvent, NotUsed> mixed(RankSegment seg, List<Source<ReadEvent, NotUsed>> sources) {
    return MixMerge.merge(seg, sources);
  }

  /**
   * {@code events} in groups of consecutive events ({@code s.handOff()}), each group passed
   * through the per-sample stage, {@code s.stageParallelism()} groups at once, in order.
   */
  private static Source<List<ReadEvent>, NotUsed> staged(Source<ReadEvent, NotUsed> events, int epoch, Settings s) {
    HandOff h = s.handOff();
    Source<List<ReadEvent>, NotUsed> groups = h.samples() == 1 ? events.map(List::of)
        : events.groupedWeightedWithin(h.bytes(), h.samples(), RankPipeline::readBytes, h.linger());
    return groups.mapAsync(s.stageParallelism(), g -> s.stage().apply(epoch, g));
  }

  /** The bytes of the sample an event holds, as read (0 for a dead letter or a report); a flatMap's outputs' all. */
  public static long readBytes(ReadEvent e) {
    if (e instanceof ReadEvent.Slot slot && slot.record() instanceof dev.conveyor.streams.sample.Expanded x) {
      return x.outputs().stream().mapToLong(RawSample::bytes).sum();
    }
    return e instanceof ReadEvent.Slot slot && slot.record() instanceof RawSample r ? r.bytes() : 0;
  }

  /**
   * The window slices {@code seg} still has to read, each with the rank position of its first
   * slot: the units a rank's reading can be split into and handed to other nodes (leases).
   */
  public static List<Pair<WindowSlice, Long>> slices(RankSegment seg) {
    List<Pair<WindowSlice, Long>> slices = new ArrayList<>();
    long position = seg.firstPosition();
    for (WindowSlice w : seg.toRead()) {
      slices.add(Pair.create(w, position));
      position += w.size();
    }
    return slices;
  }

  /**
   * One slice's events, read and passed through the per-sample stage, in plan order and in the
   * groups the stage took them in: what a worker node produces for a lease. The same slice
   * always yields the same events. Its shards are fetched ahead within {@code readAheadBytes}
   * and checked against the manifest, as a segment's are.
   */
  public static Source<List<ReadEvent>, NotUsed> sliceGroups(ShardStore store, DataPlan plan, int epoch,
                                                             WindowSlice slice, long firstPosition, Settings s) {
    return checked(store, plan, List.of(slice), s,
        pieces -> staged(WindowReader.read(pieces, plan, slice, firstPosition, s.maxMemberBytes()), epoch, s));
  }

  /** {@link #sliceGroups}'s events one by one. */
  public static Source<ReadEvent, NotUsed> slice(ShardStore store, DataPlan plan, int epoch, WindowSlice slice,
                                                 long firstPosition, Settings s) {
    return sliceGroups(store, plan, epoch, slice, firstPosition, s).mapConcat(g -> g);
  }

  /**
   * The batches (and skips) of {@code seg} from its slices' events, in order: the rank's side of
   * the hand-off. Full batches of a world of one rank agree with no one; of several ranks they
   * need the gate the ranks share ({@link #batches(RankSegment, BatchGate, LongConsumer)}).
   */
  public static Flow<ReadEvent, RankEvent, NotUsed> batches(RankSegment seg) {
    if (seg.full()) {
      if (seg.world() > 1) {
        throw new IllegalArgumentException("full batches of " + seg.world() + " ranks need the BatchGate they share");
      }
      return new BatchGate(1, 1).batches(seg, n -> { });
    }
    return PlanBatcher.flow(seg);
  }

  /**
   * The same, full batches agreed through {@code gate} (every rank of the job passes its
   * segments through it) and the positions each epoch leaves over told to {@code leftOver}.
   */
  public static Flow<ReadEvent, RankEvent, NotUsed> batches(RankSegment seg, BatchGate gate,
                                                           java.util.function.LongConsumer leftOver) {
    return seg.full() ? gate.batches(seg, leftOver) : PlanBatcher.flow(seg);
  }

  /**
   * Ends the stream once {@code maxBatches} batches have passed; 0 means no limit. Events after
   * the last batch (skips the next batch would have covered) are not delivered.
   */
  public static Flow<RankEvent, RankEvent, NotUsed> limitBatches(long maxBatches) {
    if (maxBatches <= 0) {
      return Flow.create();
    }
    // the counter is made per materialization, so the flow can be reused
    return Flow.<RankEvent, RankEvent, NotUsed>fromMaterializer((mat, attrs) -> {
      long[] delivered = {0};
      return Flow.<RankEvent>create().takeWhile(e -> {
        if (delivered[0] >= maxBatches) {
          return false;
        }
        if (e instanceof RawBatch) {
          delivered[0]++;
        }
        return true;
      });
    }).mapMaterializedValue(f -> NotUsed.getInstance());
  }
}
