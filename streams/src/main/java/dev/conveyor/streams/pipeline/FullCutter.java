package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.batch.SourceCounts;
import dev.conveyor.streams.plan.MixPositions;
import dev.conveyor.streams.plan.MixedReads;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.Decoded;
import dev.conveyor.streams.sample.Expanded;
import dev.conveyor.streams.sample.Filtered;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.ShardRecord;
import java.util.List;

/**
 * What the cutters of full batches share: the batch being filled and the filtered samples met
 * on the way; a slot's samples (one, or a flatMap's outputs, those a later filter left out counted
 * with the batch its first output goes to); a bad slot reported as a skip; each batch made told to
 * the gate with the rank's position after it, and the part's end; in a mix, what each source gave
 * each batch. How samples fill a batch — one a place, packed tokens, or a pool's buckets — is the
 * subclass's.
 */
abstract class FullCutter implements SlotBatcher.Cutter {
  final RankSegment seg;
  private final FullBatcher.Progress progress;
  private final SlotBatcher batcher;
  long k;
  private int filtered;
  // a mix: each position's source, and what each source gave the batch being filled
  private final MixPositions.Walk walk;
  private long[][] counts; // samples, filtered, bad
  private int source;

  FullCutter(RankSegment seg, FullBatcher.Progress progress, SlotBatcher batcher) {
    this.seg = seg;
    this.progress = progress;
    this.batcher = batcher;
    this.k = seg.firstBatch();
    this.walk = seg.mixed().map(MixedReads::walk).orElse(null);
    this.counts = new long[3][seg.mixed().map(m -> m.sequences().size()).orElse(0)];
  }

  /**
   * The samples of the slot at {@code at}, in order, {@code skip} of their units (samples, or
   * tokens) delivered before this segment: batches made of them go to {@code events}.
   */
  abstract void take(long at, List<RawSample> samples, long skip, List<RankEvent> events);

  @Override
  public final void slot(long at, ShardRecord record, List<RankEvent> events) {
    source = walk == null ? -1 : walk.sourceAt(at);
    before(at, events);
    long skip = seg.bucketing().isPresent() ? 0 : seg.skip(at); // a bucketed segment's skips mark pools
    if (record instanceof RawSample sample) {
      take(at, List.of(sample), skip, events);
    } else if (record instanceof Expanded x) {
      if (skip == 0 && !muted) {
        filtered += x.filtered(); // counted once, with the batch its first output goes to
        count(1, x.filtered());
      }
      take(at, x.outputs(), skip, events);
    } else if (record instanceof Filtered) {
      leftOut();
    } else {
      skip((DeadLetter) record, events);
    }
  }

  /** Before the slot at {@code at} is taken: where a cutter that batches by pools opens and closes them. */
  void before(long at, List<RankEvent> events) {
  }

  /** Every position was read, before the part's end is told: what a cutter still holds goes out. */
  void closing(List<RankEvent> events) {
  }

  /**
   * Whether what is met now was reported before (a pool read again after a resume): its left-out
   * and bad samples are then neither counted nor reported again.
   */
  boolean muted;

  /** A sample left out (a filter's, too long to pack, or left in a bucket): counted with the batch being filled. */
  final void leftOut() {
    if (muted) {
      return;
    }
    filtered++;
    count(1, 1);
  }

  /** {@code s}'s token array {@code field}, or null when it has none (a dead letter, {@link #noTokens}). */
  static int[] tokens(RawSample s, String field) {
    return s.decoded().map(Decoded::tokens).map(m -> m.get(field)).orElse(null);
  }

  /** A sample without the token field {@code field} that the batches are made of, reported. */
  final void noTokens(RawSample s, String field, String use, List<RankEvent> events) {
    skip(new DeadLetter(s.shard(), s.key(), "no token field " + field + " to " + use
        + " (a tokenizing stage sets it: Decoded.withTokens)"), events);
  }

  /** A sample of the slot put in the batch being filled (its first unit, when packed): counted for its source. */
  final void took() {
    count(0, 1);
  }

  /** {@code d} reported as a skip of the batch being filled. */
  final void skip(DeadLetter d, List<RankEvent> events) {
    if (muted) {
      return;
    }
    events.add(batcher.skipped(d, k));
    count(2, 1);
  }

  private void count(int kind, long n) {
    if (source >= 0) {
      counts[kind][source] += n;
    }
  }

  /** Batch {@code k} of {@code samples}, the rank's position after it {@code end} (and {@code offset} units of it), out. */
  final void emit(List<RawSample> samples, long end, long offset, List<RankEvent> events) {
    SourceCounts sources = walk == null ? SourceCounts.NONE : new SourceCounts(counts[0], counts[1], counts[2]);
    events.add(new RawBatch(seg.epoch(), seg.rank(), seg.stepBase() + k, k, samples, filtered, sources, end,
        offset, new long[0], new long[0]));
    progress.made(k, end, offset);
    filtered = 0;
    counts = new long[3][counts[0].length];
    k++;
  }

  @Override
  public final long batch() {
    return k;
  }

  @Override
  public final void finish(List<RankEvent> events) {
    closing(events);
    progress.ranOut(k);
  }
}
