package dev.conveyor.orchestrator.delivery;

import dev.conveyor.streams.store.ReaderMetrics;
import dev.conveyor.streams.store.ReaderMetrics.Cause;
import dev.conveyor.streams.synth.Json;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What a job did: the figures printed at its end and written by {@code --summary-json}, the
 * same for a run in one process and on a cluster. {@code stall} is the trainers' mean share of
 * their wall time spent waiting for a batch. {@code reads} are the store's figures when this
 * process read the shards; {@code cluster} how the job ran on a cluster it joined.
 */
public record JobSummary(
    int ranks,
    int shards,
    long samples,
    long batches,
    long bytes,
    long badSamples,
    long droppedRemainder,
    double seconds,
    double stall,
    String cursor,
    Optional<ReaderMetrics.Snapshot> reads,
    Optional<ClusterFigures> cluster) {

  /**
   * How a job ran on a cluster: where, how its slices were leased (again after a failure,
   * handed back by a leaving node), how often its coordinator was taken over, the cursor it
   * started from, and whether the final one is saved.
   */
  public record ClusterFigures(String seed, List<String> trainerHosts, int readers, List<String> shares, long leases,
                               long leasedAgain, long handedBack, int takeovers, String resumedFrom, boolean cursorSaved) {}

  public double samplesPerSecond() {
    return seconds > 0 ? samples / seconds : 0;
  }

  public double megabytesPerSecond() {
    return seconds > 0 ? bytes / 1e6 / seconds : 0;
  }

  /** The human summary, a few aligned lines (without the final cursor line). */
  public String text() {
    String head = cluster.map(c -> String.format(Locale.ROOT, "cluster %s: ranks %d on %s, %d shard reader(s), shards %d",
        c.seed(), ranks, c.trainerHosts(), c.readers(), shards)).orElse(String.format(Locale.ROOT, "ranks %d, shards %d",
        ranks, shards));
    String tail = cluster.map(c -> String.format(Locale.ROOT, "%n  slices leased %d, leased again %d, handed back %d"
            + "   coordinator taken over %d time(s)", c.leases(), c.leasedAgain(), c.handedBack(), c.takeovers()))
        .orElse("") + reads.map(r -> "%n  ".formatted() + r.line()).orElse("");
    return String.format(Locale.ROOT,
        "%s%n"
            + "  samples %,d   batches %,d   bytes %.1f MB   bad samples %,d   drop-last remainder %,d%n"
            + "  %,.0f samples/s   %.1f MB/s   stall %.1f%%   wall %.2f s%s",
        head, samples, batches, bytes / 1e6, badSamples, droppedRemainder, samplesPerSecond(), megabytesPerSecond(),
        100 * stall, seconds, tail);
  }

  public String json() {
    String core = String.format(Locale.ROOT,
        "{\"ranks\": %d, \"shards\": %d, \"samples\": %d, \"batches\": %d, \"bytes\": %d, \"bad_samples\": %d, "
            + "\"dropped_remainder\": %d, \"seconds\": %.3f, \"samples_per_s\": %.1f, \"mb_per_s\": %.2f, "
            + "\"stall\": %.5f, \"cursor\": \"%s\"",
        ranks, shards, samples, batches, bytes, badSamples, droppedRemainder, seconds, samplesPerSecond(),
        megabytesPerSecond(), stall, cursor);
    return core + reads.map(JobSummary::readsJson).orElse("") + cluster.map(JobSummary::clusterJson).orElse("") + "}\n";
  }

  private static String readsJson(ReaderMetrics.Snapshot reads) {
    return String.format(Locale.ROOT,
        ", \"reads\": {\"requests\": %d, \"bytes\": %d, \"retries\": %d, \"retries_throttle\": %d, "
            + "\"retries_server_error\": %d, \"retries_reset\": %d, \"retries_stall\": %d, \"retries_truncated\": %d, "
            + "\"resumed\": %d, \"failed_reads\": %d, \"breaker_opens\": %d, \"breaker_state\": \"%s\", "
            + "\"concurrency_limit\": %d, \"shards_opened\": %d, \"shards_ready_when_opened\": %d, "
            + "\"read_ahead_peak_bytes\": %d, \"integrity_failures\": %d}",
        reads.requests(), reads.bytes(), reads.retriesTotal(), retries(reads, Cause.THROTTLE),
        retries(reads, Cause.SERVER_ERROR), retries(reads, Cause.RESET), retries(reads, Cause.STALL),
        retries(reads, Cause.TRUNCATED), reads.resumes(), reads.failedReads(), reads.breakerOpens(), reads.breakerState(),
        reads.concurrencyLimit(), reads.shardsOpened(), reads.shardsReady(), reads.readAheadPeakBytes(),
        reads.integrityFailures());
  }

  private static String clusterJson(ClusterFigures c) {
    return String.format(Locale.ROOT, ", \"cluster\": {\"cursor_saved\": %s, \"resumed_from\": %s, "
            + "\"trainer_hosts\": %s, \"readers\": %d, \"shares\": %s, \"leases\": %d, \"leased_again\": %d, "
            + "\"handed_back\": %d, \"coordinator_takeovers\": %d}",
        c.cursorSaved(), Json.quote(c.resumedFrom()), list(c.trainerHosts()), c.readers(), list(c.shares()), c.leases(),
        c.leasedAgain(), c.handedBack(), c.takeovers());
  }

  private static String list(List<String> items) {
    return items.stream().map(Json::quote).collect(Collectors.joining(", ", "[", "]"));
  }

  private static long retries(ReaderMetrics.Snapshot reads, Cause c) {
    return reads.retries().getOrDefault(c, 0L);
  }
}
