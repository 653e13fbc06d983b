package dev.conveyor.cli.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.orchestrator.delivery.JobSummary;
import dev.conveyor.orchestrator.delivery.RankReport.BatchDone;
import dev.conveyor.orchestrator.delivery.RunObserver;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.store.ReaderMetrics;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What {@code run --report DIR} records while a job runs, for {@link RunReport}: {@value #FILE}
 * in DIR, one JSON line at most every {@value #INTERVAL_MILLIS} ms (seconds since the job was
 * submitted;
 * samples, batches, bytes, bad and filtered so far; per rank its batches and its trainer's
 * waiting so far), then one end line (the summary or the failure, bad samples by reason, the
 * S3 request latency histogram when this process read the shards). Lines are flushed as written,
 * so a report can be drawn from a run that was killed.
 */
public final class RunRecording implements RunObserver, AutoCloseable {
  public static final String FILE = "run.jsonl";
  static final long INTERVAL_MILLIS = 500;

  private final BufferedWriter out;
  private long t0 = System.nanoTime();
  private long lastLine;
  private boolean any;
  private long samples;
  private long batches;
  private long bytes;
  private long bad;
  private long filtered;
  private final Map<Integer, long[]> rankBatches = new TreeMap<>();
  private final Map<Integer, Double> rankStall = new TreeMap<>();
  private final Map<String, Long> badByReason = new TreeMap<>();

  public RunRecording(Path dir) throws IOException {
    Files.createDirectories(dir);
    this.out = Files.newBufferedWriter(dir.resolve(FILE), StandardCharsets.UTF_8);
  }

  /** The job is about to be submitted: the clock starts here (not at the node's start before it). */
  @Override
  public synchronized void planned(long batches) {
    if (!any) {
      t0 = System.nanoTime();
    }
  }

  @Override
  public synchronized void batch(BatchDone b) {
    samples += b.samples();
    batches++;
    bytes += b.bytes();
    filtered += b.filtered();
    rankBatches.computeIfAbsent(b.rank(), r -> new long[1])[0]++;
    rankStall.put(b.rank(), b.stallSeconds());
    maybeLine();
  }

  @Override
  public synchronized void deadLetter(DeadLetter d) {
    bad++;
    badByReason.merge(reason(d.reason()), 1L, Long::sum);
    maybeLine();
  }

  /** A dead letter's reason without what names this sample: its kind, to count by. */
  static String reason(String reason) {
    String r = reason.replaceAll("\\(.*", "").replaceAll("[0-9]+", "N").replaceAll("\\s+", " ").trim();
    int colon = r.indexOf(": ");
    if (colon > 0) {
      r = r.substring(0, colon);
    }
    if (r.endsWith(";") || r.endsWith(",") || r.endsWith(":")) {
      r = r.substring(0, r.length() - 1);
    }
    return r.length() > 70 ? r.substring(0, 67) + "..." : r.isEmpty() ? "(no reason given)" : r;
  }

  /** The end line: the run's summary, or why it failed; then the file is closed. */
  public synchronized void finish(Optional<JobSummary> summary, Optional<String> failure) {
    line(); // where the counts ended
    ObjectNode end = Json.object().put("end", true).put("t", Json.fixed(seconds(), 3));
    summary.ifPresent(s -> end.set("summary", Json.parse(s.json())));
    failure.ifPresent(f -> end.put("failure", f));
    ObjectNode reasons = end.putObject("bad_by_reason");
    badByReason.forEach(reasons::put);
    summary.flatMap(JobSummary::reads).ifPresent(r -> end.set("s3_latency_ms", latency(r)));
    write(end);
    close();
  }

  private static JsonNode latency(ReaderMetrics.Snapshot r) {
    ObjectNode l = Json.object();
    ArrayNode bounds = l.putArray("bounds");
    for (long b : ReaderMetrics.LATENCY_BOUNDS_MILLIS) {
      bounds.add(b);
    }
    ArrayNode counts = l.putArray("counts");
    for (long c : r.latencyMillis()) {
      counts.add(c);
    }
    return l;
  }

  private void maybeLine() {
    long now = System.nanoTime();
    if (!any || now - lastLine >= INTERVAL_MILLIS * 1_000_000L) {
      any = true;
      lastLine = now;
      line();
    }
  }

  private void line() {
    ObjectNode j = Json.object().put("t", Json.fixed(seconds(), 3)).put("samples", samples).put("batches", batches)
        .put("bytes", bytes).put("bad", bad).put("filtered", filtered);
    ObjectNode ranks = j.putObject("ranks");
    rankBatches.forEach((r, n) -> ranks.putObject(Integer.toString(r)).put("batches", n[0])
        .put("stall_s", Json.fixed(rankStall.getOrDefault(r, 0.0), 3)));
    write(j);
  }

  private double seconds() {
    return (System.nanoTime() - t0) / 1e9;
  }

  private void write(ObjectNode j) {
    try {
      out.write(Json.compact(j));
      out.write('\n');
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the run's recording: " + e.getMessage(), e);
    }
  }

  @Override
  public synchronized void close() {
    try {
      out.close();
    } catch (IOException e) {
      // the lines written were flushed; nothing more to keep
    }
  }
}
