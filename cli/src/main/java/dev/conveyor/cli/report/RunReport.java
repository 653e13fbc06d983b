package dev.conveyor.cli.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.streams.json.Json;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.Plot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * {@code conveyor report DIR}: draws a run's {@value RunRecording#FILE} as {@code report.html}
 * with five PNG charts beside it — throughput over time, the trainers' stall over time, S3
 * request latency, bad samples by reason and each rank's progress. A chart with nothing to show
 * says why on the page and in its picture.
 */
public final class RunReport {
  public static final String PAGE = "report.html";
  static final int WIDTH = 900;
  static final int HEIGHT = 380;

  /** The charts, in the page's order: file name and caption. */
  public static final Map<String, String> CHARTS = charts();

  private static Map<String, String> charts() {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    m.put("throughput.png", "Samples and megabytes delivered per second");
    m.put("stall.png", "Share of each trainer's time spent waiting for a batch");
    m.put("s3-latency.png", "S3 requests by time to their response");
    m.put("bad-samples.png", "Bad samples by reason");
    m.put("ranks.png", "Batches delivered per rank");
    return m;
  }

  private RunReport() {}

  /** One line of the recording. */
  private record Point(double t, long samples, long bytes, Map<Integer, long[]> batches, Map<Integer, Double> stall) {}

  /** Draws the report of the run recorded in {@code dir}; returns the page. Throws IOException naming what is missing. */
  public static Path render(Path dir) throws IOException {
    Path file = dir.resolve(RunRecording.FILE);
    if (!Files.isRegularFile(file)) {
      throw new IOException(dir + " holds no " + RunRecording.FILE + ": record a run with run --report " + dir);
    }
    System.setProperty("java.awt.headless", "true");
    List<Point> points = new ArrayList<>();
    points.add(new Point(0, 0, 0, Map.of(), Map.of())); // the job's submission: nothing delivered yet
    JsonNode end = Json.object();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      JsonNode j = Json.parseOrMissing(line);
      if (j.path("end").asBoolean(false)) {
        end = j;
      } else if (j.has("t")) {
        points.add(point(j));
      }
    }
    List<String> notes = new ArrayList<>();
    save(dir, "throughput.png", throughput(points), notes, points.size() < 2 ? "nothing was delivered" : null);
    save(dir, "stall.png", stall(points), notes, points.size() < 2 ? "nothing was delivered" : null);
    JsonNode latency = end.path("s3_latency_ms");
    long requests = 0;
    for (JsonNode n : latency.path("counts")) {
      requests += n.asLong();
    }
    save(dir, "s3-latency.png", latency(latency), notes, latency.isMissingNode()
        ? "no S3 reads recorded here: they are the nodes' in a --cluster run (see their /metrics)"
        : requests == 0 ? "no S3 requests: the shards came from a file system" : null);
    JsonNode reasons = end.path("bad_by_reason");
    save(dir, "bad-samples.png", bad(reasons), notes, reasons.size() == 0 ? "no bad samples" : null);
    save(dir, "ranks.png", ranks(points), notes, points.size() < 2 ? "no batch delivered" : null);
    Path page = dir.resolve(PAGE);
    Files.writeString(page, RunPage.html(end, points.get(points.size() - 1).t(), notes),
        StandardCharsets.UTF_8);
    return page;
  }

  private static Point point(JsonNode j) {
    Map<Integer, long[]> batches = new TreeMap<>();
    Map<Integer, Double> stall = new TreeMap<>();
    j.path("ranks").fields().forEachRemaining(e -> {
      int r = Integer.parseInt(e.getKey());
      batches.put(r, new long[] {e.getValue().path("batches").asLong()});
      stall.put(r, e.getValue().path("stall_s").asDouble());
    });
    return new Point(j.path("t").asDouble(), j.path("samples").asLong(), j.path("bytes").asLong(), batches, stall);
  }

  private static JFreeChart throughput(List<Point> points) {
    XYSeries samples = new XYSeries("samples / s");
    XYSeries mb = new XYSeries("MB / s");
    for (int i = 1; i < points.size(); i++) {
      Point a = points.get(i - 1);
      Point b = points.get(i);
      double dt = b.t() - a.t();
      if (dt > 0) {
        samples.add(b.t(), (b.samples() - a.samples()) / dt);
        mb.add(b.t(), (b.bytes() - a.bytes()) / 1e6 / dt);
      }
    }
    return lines("Throughput", "samples or MB per second", List.of(samples, mb));
  }

  private static JFreeChart stall(List<Point> points) {
    Map<Integer, XYSeries> series = new TreeMap<>();
    for (int i = 1; i < points.size(); i++) {
      Point a = points.get(i - 1);
      Point b = points.get(i);
      double dt = b.t() - a.t();
      for (Map.Entry<Integer, Double> e : b.stall().entrySet()) {
        double before = a.stall().getOrDefault(e.getKey(), 0.0);
        if (dt > 0) {
          series.computeIfAbsent(e.getKey(), r -> new XYSeries("rank " + r))
              .add(b.t(), Math.max(0, Math.min(100, 100 * (e.getValue() - before) / dt)));
        }
      }
    }
    JFreeChart c = lines("Trainer stall", "% of the interval waiting", new ArrayList<>(series.values()));
    c.getXYPlot().getRangeAxis().setRange(0, 100);
    return c;
  }

  private static JFreeChart ranks(List<Point> points) {
    Map<Integer, XYSeries> series = new TreeMap<>();
    for (Point p : points) {
      p.batches().forEach((r, n) -> series.computeIfAbsent(r, k -> new XYSeries("rank " + k)).add(p.t(), n[0]));
    }
    return lines("Per-rank progress", "batches delivered", new ArrayList<>(series.values()));
  }

  private static JFreeChart latency(JsonNode l) {
    DefaultCategoryDataset d = new DefaultCategoryDataset();
    JsonNode bounds = l.path("bounds");
    JsonNode counts = l.path("counts");
    for (int i = 0; i < counts.size(); i++) {
      String label = i == 0 ? "<" + ms(bounds.get(0).asLong()) : i < bounds.size()
          ? ms(bounds.get(i - 1).asLong()) + "-" + ms(bounds.get(i).asLong()) : ">=" + ms(bounds.get(i - 1).asLong());
      d.addValue(counts.get(i).asLong(), "requests", label);
    }
    JFreeChart c = ChartFactory.createBarChart("S3 request latency", "time to the response's headers (ms; s where marked)",
        "requests", d, PlotOrientation.VERTICAL, false, false, false);
    style(c.getCategoryPlot());
    c.getCategoryPlot().getDomainAxis().setMaximumCategoryLabelWidthRatio(1.6f); // "200-500" whole, not "2..."
    return c;
  }

  /** A bucket bound, short enough for a bar's label: milliseconds, or seconds from 1 s on. */
  private static String ms(long millis) {
    return millis < 1000 ? Long.toString(millis) : millis % 1000 == 0 ? millis / 1000 + "s" : millis / 1000.0 + "s";
  }

  private static JFreeChart bad(JsonNode reasons) {
    DefaultCategoryDataset d = new DefaultCategoryDataset();
    reasons.fields().forEachRemaining(e -> d.addValue(e.getValue().asLong(), "bad samples", e.getKey()));
    JFreeChart c = ChartFactory.createBarChart("Bad samples by reason", "", "samples", d, PlotOrientation.HORIZONTAL,
        false, false, false);
    style(c.getCategoryPlot());
    return c;
  }

  private static JFreeChart lines(String title, String yLabel, List<XYSeries> series) {
    XYSeriesCollection data = new XYSeriesCollection();
    series.forEach(data::addSeries);
    JFreeChart c = ChartFactory.createXYLineChart(title, "seconds since the run began", yLabel, data,
        PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = c.getXYPlot();
    style(plot);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.getDomainAxis().setLowerBound(0);
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, series.stream().allMatch(s -> s.getItemCount() < 30));
    for (int i = 0; i < series.size(); i++) {
      r.setSeriesStroke(i, new BasicStroke(2f));
    }
    plot.setRenderer(r);
    return c;
  }

  private static void style(Plot plot) {
    plot.setBackgroundPaint(Color.WHITE);
    if (plot instanceof CategoryPlot p) {
      p.setRangeGridlinePaint(Color.LIGHT_GRAY);
    } else if (plot instanceof XYPlot p) {
      p.setRangeGridlinePaint(Color.LIGHT_GRAY);
    }
  }

  private static void save(Path dir, String name, JFreeChart chart, List<String> notes, String empty) throws IOException {
    if (empty != null) {
      chart.getPlot().setNoDataMessage(empty);
      notes.add(name + ": " + empty);
    }
    ChartUtils.saveChartAsPNG(dir.resolve(name).toFile(), chart, WIDTH, HEIGHT);
  }

  static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  static String fmt(String pattern, Object... args) {
    return String.format(Locale.ROOT, pattern, args);
  }
}
