package dev.conveyor.orchestrator.delivery;

import static java.util.Objects.requireNonNull;

import dev.conveyor.orchestrator.delivery.RankReport.BatchDone;
import dev.conveyor.orchestrator.delivery.RankReport.SkipDone;
import dev.conveyor.streams.batch.SourceCounts;
import dev.conveyor.streams.sample.DeadLetter;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * A job's delivery accounting, the one every runtime uses. Ranks report what their trainers
 * took ({@link RankReport}), each rank in its own order and the ranks interleaved as they
 * happen to run. This puts the reports in lockstep order — by epoch, step and rank, a step's
 * skips before its batch, as a lockstep trainer would take them — holding back only what a
 * slower rank has not reached yet, and in that order writes the record files, counts samples,
 * batches, bytes and bad samples, applies the bad-sample policy, and reports progress. So the
 * files, the counts and the point where a job fails for bad data are the same whatever the
 * timing and whichever nodes ran the ranks. Single-threaded.
 */
public final class Delivery {
  /** Lockstep order of reports; a step's skips precede its batch. */
  static final Comparator<RankReport> LOCKSTEP = Comparator.comparingInt(Delivery::epoch)
      .thenComparingLong(Delivery::step)
      .thenComparingInt(Delivery::rank)
      .thenComparingInt(r -> r instanceof SkipDone ? 0 : 1);

  /** How often a long run reports progress. */
  static final long PROGRESS_INTERVAL_NANOS = 5_000_000_000L;

  /**
   * What bad samples a job tolerates: with {@code failOnBad} none; else dead letters up to
   * {@code maxBadFraction} of the samples consumed (checked from 100 samples on, and at the end).
   */
  public record Policy(boolean failOnBad, double maxBadFraction) {}

  /** The counts so far: {@code filtered} samples were left out by the pipeline's filters (not bad, not delivered). */
  public record Counts(long samples, long batches, long bytes, long bad, long filtered) {}

  private final Policy policy;
  private final JobOutputs outputs;
  private final Consumer<String> progress;
  /** Reports not yet accounted, per rank that has not ended or still has some. */
  private final Map<Integer, ArrayDeque<RankReport>> waiting = new TreeMap<>();
  /** Ranks whose last report has arrived. */
  private final java.util.Set<Integer> ended = new java.util.HashSet<>();
  private final long t0;
  private long nextReport;
  private long samples;
  private long batches;
  private long bytes;
  private long bad;
  private long filtered;
  private SourceCounts sources = SourceCounts.NONE;
  private DeadLetter last;

  /** Accounting for {@code ranks}, writing {@code outputs}, {@code progress} told every few seconds. */
  public Delivery(Collection<Integer> ranks, Policy policy, JobOutputs outputs, Consumer<String> progress) {
    this.policy = requireNonNull(policy, "policy is null");
    this.outputs = requireNonNull(outputs, "outputs is null");
    this.progress = requireNonNull(progress, "progress is null");
    ranks.forEach(r -> waiting.put(r, new ArrayDeque<>()));
    this.t0 = System.nanoTime();
    this.nextReport = t0 + PROGRESS_INTERVAL_NANOS;
  }

  /**
   * A problem found before any rank ran (while counting shards): a dead letter like any other.
   * Throws {@link BadSampleException} when the policy says the job must stop.
   */
  public void problem(DeadLetter d) {
    skipped(d);
  }

  /**
   * A rank's report of a batch or a skip; accounted once every rank has reached it. Throws
   * {@link BadSampleException} when the policy says the job must stop.
   */
  public void report(RankReport r) {
    if (r instanceof BatchDone || r instanceof SkipDone) {
      ArrayDeque<RankReport> q = waiting.get(rank(r));
      if (q == null) {
        throw new IllegalStateException("a report of rank " + rank(r) + ", which is not served or has ended: " + r);
      }
      q.add(r);
      drain();
    }
  }

  /** Rank {@code rank} has sent its last report. */
  public void rankEnded(int rank) {
    ended.add(rank);
    drain();
  }

  /**
   * The end of the job: every report accounted; throws {@link BadSampleException} when the bad
   * samples are over the bound.
   */
  public Counts finish() {
    if (!waiting.isEmpty()) {
      throw new IllegalStateException("ranks " + waiting.keySet() + " have not ended");
    }
    checkBound(true);
    return counts();
  }

  /** What each source of a mix gave so far (none for a job that mixes nothing). */
  public SourceCounts sources() {
    return sources;
  }

  public Counts counts() {
    return new Counts(samples, batches, bytes, bad, filtered);
  }

  /** Accounts reports in lockstep order while every rank that has not ended has one waiting. */
  private void drain() {
    while (true) {
      waiting.entrySet().removeIf(e -> e.getValue().isEmpty() && ended.contains(e.getKey()));
      Map.Entry<Integer, ArrayDeque<RankReport>> next = null;
      for (Map.Entry<Integer, ArrayDeque<RankReport>> e : waiting.entrySet()) {
        RankReport head = e.getValue().peek();
        if (head == null) {
          return; // this rank may still report something earlier than any waiting
        }
        if (next == null || LOCKSTEP.compare(head, next.getValue().peek()) < 0) {
          next = e;
        }
      }
      if (next == null) {
        return;
      }
      account(next.getValue().poll());
    }
  }

  private void account(RankReport r) {
    if (r instanceof SkipDone s) {
      skipped(s.deadLetter());
    } else if (r instanceof BatchDone b) {
      batches++;
      samples += b.samples();
      filtered += b.filtered();
      sources = sources.plus(b.sources());
      bytes += b.bytes();
      outputs.batch(b);
      progress();
    }
  }

  private void skipped(DeadLetter d) {
    bad++;
    last = d;
    outputs.deadLetter(d);
    if (policy.failOnBad()) {
      throw new BadSampleException(d);
    }
    checkBound(false);
  }

  /** Fails the run when dead letters pass max-bad-fraction: from 100 samples consumed on, or at the end. */
  private void checkBound(boolean atEnd) {
    long consumed = samples + bad;
    if (bad > 0 && (atEnd || consumed >= 100) && bad > policy.maxBadFraction() * consumed) {
      throw new BadSampleException(bad, consumed, policy.maxBadFraction(), last);
    }
  }

  private void progress() {
    long now = System.nanoTime();
    if (now >= nextReport) {
      nextReport = now + PROGRESS_INTERVAL_NANOS;
      double s = (now - t0) / 1e9;
      progress.accept(String.format(Locale.ROOT, "%,d samples, %,d batches, %.1f MB, %,d bad, %,.0f samples/s after %.0f s",
          samples, batches, bytes / 1e6, bad, samples / s, s));
    }
  }

  private static int epoch(RankReport r) {
    return r instanceof BatchDone b ? b.epoch() : ((SkipDone) r).epoch();
  }

  private static long step(RankReport r) {
    return r instanceof BatchDone b ? b.step() : ((SkipDone) r).step();
  }

  private static int rank(RankReport r) {
    if (r instanceof BatchDone b) {
      return b.rank();
    }
    if (r instanceof SkipDone s) {
      return s.rank();
    }
    return r instanceof RankReport.RankDone d ? d.rank() : ((RankReport.RankFailed) r).rank();
  }
}
