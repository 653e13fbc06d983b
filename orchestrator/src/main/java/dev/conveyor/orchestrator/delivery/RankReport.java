package dev.conveyor.orchestrator.delivery;

import dev.conveyor.streams.batch.SourceCounts;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.workers.wire.WireMessage;
import java.util.List;

/**
 * What a rank reports to the job's client as its trainer takes batches: every runtime's ranks
 * send these, in order per rank, and {@link Delivery} accounts for them once.
 */
public sealed interface RankReport extends ClientEvent, WireMessage
    permits RankReport.BatchDone, RankReport.SkipDone, RankReport.RankDone, RankReport.RankFailed {

  /**
   * A batch was delivered (taken by the trainer): its place and digests, as {@code --digest-out}
   * prints them (empty when the job records none), its samples and bytes (tensor bytes when
   * decoded), its keys when the job asks for them, how many of its positions the pipeline's
   * filters left out, and how long the rank's trainer had waited for batches when it took this one.
   */
  record BatchDone(int epoch, long step, int rank, long index, String bytesSha256, String keysSha256, int samples,
                   long bytes, List<String> keys, int filtered, double stallSeconds, SourceCounts sources)
      implements RankReport {
    /** A batch of a job that mixes nothing. */
    public BatchDone(int epoch, long step, int rank, long index, String bytesSha256, String keysSha256, int samples,
                     long bytes, List<String> keys, int filtered, double stallSeconds) {
      this(epoch, step, rank, index, bytesSha256, keysSha256, samples, bytes, keys, filtered, stallSeconds,
          SourceCounts.NONE);
    }
  }

  /** A sample was skipped while the rank formed batch {@code step}. */
  record SkipDone(int epoch, long step, int rank, DeadLetter deadLetter) implements RankReport {}

  /**
   * A rank has delivered all its batches. How leasing went (leases, leased again after a failure,
   * handed back by a leaving node), how long its trainer waited for batches: in seconds, and as
   * a share of its wall time, and — with full batches — the plan positions its epochs left over.
   */
  record RankDone(int rank, long leases, long reassigned, long handedBack, double stallSeconds, double stall,
                  long leftOver) implements RankReport {}

  /** A rank could not go on. */
  record RankFailed(int rank, String reason) implements RankReport {}
}
