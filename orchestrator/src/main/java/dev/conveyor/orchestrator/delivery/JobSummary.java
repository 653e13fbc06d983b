package dev.conveyor.orchestrator.delivery;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.streams.batch.SourceCounts;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.store.ReaderMetrics.Cause;
import dev.conveyor.streams.store.ReaderMetrics;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What a job did: the figures printed at its end and written by {@code --summary-json}, the
 * same for a run in one process and on a cluster. {@code stall} is the trainers' mean share of
 * their wall time spent waiting for a batch; {@code filtered} the samples the pipeline's filters
 * left out; {@code recipe} the recipe's id. {@code reads} are the store's figures when this
 * process read the shards; {@code cluster} how the job ran on a cluster it joined.
 */
public record JobSummary(
    String recipe,
    int ranks,
    int shards,
    long samples,
    long batches,
    long bytes,
    long badSamples,
    long filtered,
    long droppedRemainder,
    double seconds,
    double stall,
    String cursor,
    Optional<ReaderMetrics.Snapshot> reads,
    Optional<ClusterFigures> cluster,
    List<SourceFigures> sources) {

  /** What one source of a mix gave the job: samples delivered, skipped as bad, left out by a filter. */
  public record SourceFigures(String name, long samples, long bad, long filtered) {}

  /** Each source of {@code mix} with its {@code counts} (none when the job mixes nothing). */
  public static List<SourceFigures> sources(List<String> names, SourceCounts counts) {
    List<SourceFigures> out = new java.util.ArrayList<>();
    for (int s = 0; s < counts.sources(); s++) {
      out.add(new SourceFigures(names.get(s), counts.samples()[s], counts.bad()[s], counts.filtered()[s]));
    }
    return out;
  }

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
        ranks, shards)) + ", recipe " + recipe;
    String tail = cluster.map(c -> String.format(Locale.ROOT, "%n  slices leased %d, leased again %d, handed back %d"
            + "   coordinator taken over %d time(s)", c.leases(), c.leasedAgain(), c.handedBack(), c.takeovers()))
        .orElse("") + reads.map(r -> "%n  ".formatted() + r.line()).orElse("") + sourcesLine();
    return String.format(Locale.ROOT,
        "%s%n"
            + "  samples %,d   batches %,d   bytes %.1f MB   bad samples %,d%s   drop-last remainder %,d%n"
            + "  %,.0f samples/s   %.1f MB/s   stall %.1f%%   wall %.2f s%s",
        head, samples, batches, bytes / 1e6, badSamples,
        filtered > 0 ? String.format(Locale.ROOT, "   filtered %,d", filtered) : "", droppedRemainder, samplesPerSecond(), megabytesPerSecond(),
        100 * stall, seconds, tail);
  }

  /** {@code sources: web 7,000 (bad 0, filtered 0), books 3,000 (...)}, on a line of its own; "" without a mix. */
  private String sourcesLine() {
    if (sources.isEmpty()) {
      return "";
    }
    StringBuilder b = new StringBuilder("%n  sources:".formatted());
    for (SourceFigures s : sources) {
      b.append(String.format(Locale.ROOT, " %s %,d samples (bad %,d, filtered %,d)%s", s.name(), s.samples(), s.bad(),
          s.filtered(), s == sources.get(sources.size() - 1) ? "" : ","));
    }
    return b.toString();
  }

  /** The summary as {@code --summary-json} writes it. */
  public String json() {
    ObjectNode j = Json.object().put("recipe", recipe).put("ranks", ranks).put("shards", shards).put("samples", samples).put("batches", batches)
        .put("bytes", bytes).put("bad_samples", badSamples).put("filtered", filtered).put("dropped_remainder", droppedRemainder)
        .put("seconds", Json.fixed(seconds, 3)).put("samples_per_s", Json.fixed(samplesPerSecond(), 1))
        .put("mb_per_s", Json.fixed(megabytesPerSecond(), 2)).put("stall", Json.fixed(stall, 5))
        .put("cursor", cursor);
    reads.ifPresent(r -> j.set("reads", readsJson(r)));
    cluster.ifPresent(c -> j.set("cluster", clusterJson(c)));
    if (!sources.isEmpty()) {
      com.fasterxml.jackson.databind.node.ArrayNode a = j.putArray("sources");
      sources.forEach(s -> a.add(Json.object().put("name", s.name()).put("samples", s.samples()).put("bad", s.bad())
          .put("filtered", s.filtered())));
    }
    return Json.pretty(j);
  }

  private static ObjectNode readsJson(ReaderMetrics.Snapshot reads) {
    return Json.object().put("requests", reads.requests()).put("bytes", reads.bytes())
        .put("retries", reads.retriesTotal()).put("retries_throttle", retries(reads, Cause.THROTTLE))
        .put("retries_server_error", retries(reads, Cause.SERVER_ERROR)).put("retries_reset", retries(reads, Cause.RESET))
        .put("retries_stall", retries(reads, Cause.STALL)).put("retries_truncated", retries(reads, Cause.TRUNCATED))
        .put("retries_corrupt", retries(reads, Cause.CORRUPT))
        .put("resumed", reads.resumes()).put("failed_reads", reads.failedReads()).put("breaker_opens", reads.breakerOpens())
        .put("breaker_state", String.valueOf(reads.breakerState())).put("concurrency_limit", reads.concurrencyLimit())
        .put("shards_opened", reads.shardsOpened()).put("shards_ready_when_opened", reads.shardsReady())
        .put("read_ahead_peak_bytes", reads.readAheadPeakBytes()).put("integrity_failures", reads.integrityFailures());
  }

  private static ObjectNode clusterJson(ClusterFigures c) {
    ObjectNode j = Json.object().put("cursor_saved", c.cursorSaved()).put("resumed_from", c.resumedFrom());
    j.set("trainer_hosts", Json.strings(c.trainerHosts()));
    j.put("readers", c.readers());
    j.set("shares", Json.strings(c.shares()));
    return j.put("leases", c.leases()).put("leased_again", c.leasedAgain()).put("handed_back", c.handedBack())
        .put("coordinator_takeovers", c.takeovers());
  }

  private static long retries(ReaderMetrics.Snapshot reads, Cause c) {
    return reads.retries().getOrDefault(c, 0L);
  }
}
