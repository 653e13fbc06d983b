package dev.conveyor.sim.report;

import dev.conveyor.sim.check.Verdict;
import dev.conveyor.sim.history.Event;
import dev.conveyor.sim.history.History;
import dev.conveyor.sim.scenario.Scenario;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * A simulation's page for people: the verdict, the faults with their times, the runs of the job,
 * the violations, and {@code timeline.png} — samples per second through each node over time,
 * with each fault marked where it struck.
 */
public final class Report {
  /** The timeline's name in the output folder. */
  public static final String TIMELINE = "timeline.png";
  /** Readings further apart than this (they come every 250 ms) leave a gap in the node's line. */
  static final long GAP_MS = 1_500;

  private Report() {}

  /** Writes {@code report.html} and {@link #TIMELINE} into {@code out}. */
  public static void write(Path out, Scenario scenario, History history, History reference, Verdict verdict, double seconds)
      throws IOException {
    timeline(history, scenario, out.resolve(TIMELINE));
    StringBuilder h = new StringBuilder();
    h.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>conveyor sim ").append(esc(scenario.name()))
        .append("</title><style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
            + "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:14px}"
            + ".ok{color:#1a7f37}.bad{color:#cf222e}code{font-size:13px}</style></head><body>");
    h.append("<h1>conveyor sim: ").append(esc(scenario.name())).append("</h1>");
    if (!scenario.description().isEmpty()) {
      h.append("<p>").append(esc(scenario.description())).append("</p>");
    }
    h.append(String.format(Locale.ROOT, "<h2 class=\"%s\">verdict: %s</h2><p>%d violation(s); %d fault(s) applied, %d not"
            + " applied; %d node(s); %.1f s in all.</p>", verdict.ok() ? "ok" : "bad", verdict.ok() ? "ok" : "FAILED",
        verdict.violations().size(), verdict.faultsApplied().size(), verdict.faultsNotApplied().size(), scenario.nodes(),
        seconds));
    h.append("<img src=\"").append(TIMELINE).append("\" alt=\"samples per second per node, faults marked\" width=\"1000\">");
    if (!verdict.ok()) {
      h.append("<h2>Violations</h2><table><tr><th>kind</th><th>what</th></tr>");
      verdict.violations().forEach(v -> h.append("<tr><td>").append(esc(v.kind())).append("</td><td>")
          .append(esc(v.message())).append("</td></tr>"));
      h.append("</table>");
    }
    h.append("<h2>Faults</h2><table><tr><th>time</th><th>fault</th><th>applied</th><th>detail</th></tr>");
    for (Event.Fault f : history.of(Event.Fault.class)) {
      h.append(String.format(Locale.ROOT, "<tr><td>%.1f s</td><td>%s</td><td class=\"%s\">%s</td><td>%s</td></tr>",
          f.t() / 1000.0, esc(f.fault()), f.applied() ? "ok" : "bad", f.applied() ? "yes" : "NO", esc(f.detail())));
    }
    h.append("</table><h2>Runs of the job</h2><table><tr><th>run</th><th>began</th><th>resume</th><th>exit</th>"
        + "<th>batches</th><th>cursor at the end</th></tr>");
    for (Event.Attempt a : history.of(Event.Attempt.class)) {
      long batches = history.of(Event.Batch.class).stream().filter(b -> b.attempt() == a.attempt()).count();
      h.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%.1f s</td><td>%s</td><td>%d</td><td>%d</td><td><code>%s"
              + "</code></td></tr>", a.attempt(), a.t() / 1000.0,
          esc(a.resume().isEmpty() ? "-" : a.resume() + (a.fellBack().isEmpty() ? "" : ": " + a.fellBack())), a.exit(),
          batches, esc(a.cursor())));
    }
    h.append(String.format(Locale.ROOT, "</table><p>Reference (one process, no faults): %d batches, cursor <code>%s</code>."
            + " Cursors saved during the job: %d. Files: <a href=\"history.jsonl\">history.jsonl</a>, <a href=\"reference.jsonl\">"
            + "reference.jsonl</a>, <a href=\"verdict.json\">verdict.json</a>.</p></body></html>\n",
        reference.of(Event.Batch.class).size(), esc(reference.of(Event.Attempt.class).stream().map(Event.Attempt::cursor)
            .findFirst().orElse("")), history.of(Event.Checkpoint.class).size()));
    Files.writeString(out.resolve("report.html"), h, StandardCharsets.UTF_8);
  }

  /** Samples per second through each node (delivered by the trainer host, sent by each worker), faults marked. */
  static void timeline(History history, Scenario scenario, Path png) throws IOException {
    System.setProperty("java.awt.headless", "true");
    Map<Integer, XYSeries> series = new TreeMap<>();
    Map<Integer, Event.Progress> previous = new TreeMap<>();
    for (Event.Progress p : history.of(Event.Progress.class)) {
      XYSeries s = series.computeIfAbsent(p.node(), n -> new XYSeries("node " + n + (n == 1 ? " (trainer host, delivered)"
          : " (worker, sent)")));
      Event.Progress before = previous.put(p.node(), p);
      if (before != null && p.t() - before.t() > GAP_MS) {
        s.add(before.t() / 1000.0 + 0.001, null); // the node did not answer meanwhile (down, paused, cut off): a gap
      }
      if (before != null && p.t() > before.t()) {
        // a restarted node counts from 0 again: its first reading after the restart is its rate
        double done = p.samples() >= before.samples() ? p.samples() - before.samples() : p.samples();
        s.add(p.t() / 1000.0, done * 1000.0 / (p.t() - before.t()));
      }
    }
    XYSeriesCollection data = new XYSeriesCollection();
    series.values().forEach(data::addSeries);
    JFreeChart chart = ChartFactory.createXYLineChart("conveyor sim " + scenario.name() + ": samples per second per node",
        "seconds since the job began", "samples / s", data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, false);
    for (int i = 0; i < series.size(); i++) {
      lines.setSeriesStroke(i, new BasicStroke(i == 0 ? 2.5f : 1.8f));
    }
    plot.setRenderer(lines);
    List<Event.Fault> faults = history.of(Event.Fault.class);
    for (int i = 0; i < faults.size(); i++) {
      Event.Fault f = faults.get(i);
      ValueMarker m = new ValueMarker(f.t() / 1000.0, f.applied() ? new Color(0xcf222e) : Color.GRAY,
          new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, f.applied() ? null : new float[] {4f, 4f},
              0f));
      m.setLabel(f.action() + (f.node() > 0 ? " n" + f.node() : "") + (f.applied() ? "" : " (not applied)"));
      m.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
      m.setLabelAnchor(i % 2 == 0 ? RectangleAnchor.TOP_RIGHT : RectangleAnchor.BOTTOM_RIGHT);
      m.setLabelTextAnchor(i % 2 == 0 ? TextAnchor.TOP_LEFT : TextAnchor.BOTTOM_LEFT);
      plot.addDomainMarker(m);
    }
    ChartUtils.saveChartAsPNG(png.toFile(), chart, 1000, 440);
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
