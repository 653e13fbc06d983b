package dev.conveyor.orchestrator.job;

import dev.conveyor.streams.store.ReaderMetrics;
import dev.conveyor.streams.store.ReaderMetrics.Cause;
import java.util.Locale;

/** What a job did: the figures printed at its end and written by {@code --summary-json}. */
public record JobSummary(
    int ranks,
    int shards,
    long samples,
    long batches,
    long bytes,
    long badSamples,
    long droppedRemainder,
    double seconds,
    String cursor,
    ReaderMetrics.Snapshot reads) {

  public double samplesPerSecond() {
    return seconds > 0 ? samples / seconds : 0;
  }

  public double megabytesPerSecond() {
    return seconds > 0 ? bytes / 1e6 / seconds : 0;
  }

  /** The human summary, a few aligned lines (without the final cursor line). */
  public String text() {
    return String.format(Locale.ROOT,
        "ranks %d, shards %d%n"
            + "  samples %,d   batches %,d   bytes %.1f MB   bad samples %,d   drop-last remainder %,d%n"
            + "  %,.0f samples/s   %.1f MB/s   wall %.2f s%n"
            + "  %s",
        ranks, shards, samples, batches, bytes / 1e6, badSamples, droppedRemainder, samplesPerSecond(), megabytesPerSecond(), seconds,
        reads.line());
  }

  public String json() {
    return String.format(Locale.ROOT,
        "{\"ranks\": %d, \"shards\": %d, \"samples\": %d, \"batches\": %d, \"bytes\": %d, \"bad_samples\": %d, "
            + "\"dropped_remainder\": %d, \"seconds\": %.3f, \"samples_per_s\": %.1f, \"mb_per_s\": %.2f, \"cursor\": \"%s\", "
            + "\"reads\": {\"requests\": %d, \"bytes\": %d, \"retries\": %d, \"retries_throttle\": %d, \"retries_server_error\": %d, "
            + "\"retries_reset\": %d, \"retries_stall\": %d, \"retries_truncated\": %d, \"resumed\": %d, \"failed_reads\": %d, "
            + "\"breaker_opens\": %d, \"breaker_state\": \"%s\", \"concurrency_limit\": %d, \"shards_opened\": %d, "
            + "\"shards_ready_when_opened\": %d, \"read_ahead_peak_bytes\": %d, \"integrity_failures\": %d}}%n",
        ranks, shards, samples, batches, bytes, badSamples, droppedRemainder, seconds, samplesPerSecond(), megabytesPerSecond(), cursor,
        reads.requests(), reads.bytes(), reads.retriesTotal(), retries(Cause.THROTTLE), retries(Cause.SERVER_ERROR),
        retries(Cause.RESET), retries(Cause.STALL), retries(Cause.TRUNCATED), reads.resumes(), reads.failedReads(),
        reads.breakerOpens(), reads.breakerState(), reads.concurrencyLimit(), reads.shardsOpened(), reads.shardsReady(),
        reads.readAheadPeakBytes(), reads.integrityFailures());
  }

  private long retries(Cause c) {
    return reads.retries().getOrDefault(c, 0L);
  }
}
