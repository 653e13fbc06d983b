package dev.conveyor.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.SeriesRenderingOrder;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** {@code bench cache}'s picture: hit ratio against cache size, one line per policy. */
public final class CacheChart {
  private CacheChart() {}

  /** Draws the replays of {@code ranks} ranks and {@code jobs} jobs into {@code png}. */
  public static void write(List<CacheBench.Replay> replays, int ranks, int jobs, Path png) throws IOException {
    XYSeriesCollection data = new XYSeriesCollection();
    for (String policy : List.of("lru", "fifo", "plan", "optimum")) {
      XYSeries s = new XYSeries(policy);
      replays.stream().filter(r -> r.policy().equals(policy) && r.ranks() == ranks && r.jobs() == jobs)
          .forEach(r -> s.add(r.cacheFraction() * 100, r.hitRatio()));
      data.addSeries(s);
    }
    JFreeChart chart = ChartFactory.createXYLineChart(
        "Shard cache hit ratio, " + CacheBench.EPOCHS + " shuffled epochs, " + ranks + (ranks == 1 ? " rank, " : " ranks, ")
            + jobs + (jobs == 1 ? " job" : " jobs"),
        "cache size (% of the dataset)", "hit ratio", data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, true);
    Color[] colors = {new Color(0xd62728), new Color(0xff7f0e), new Color(0x1f77b4), new Color(0x7f7f7f)};
    for (int i = 0; i < colors.length; i++) {
      lines.setSeriesPaint(i, colors[i]);
      lines.setSeriesStroke(i, new BasicStroke(i == 3 ? 1.5f : 2.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f,
          i == 3 ? new float[] {6f, 4f} : null, 0f));
    }
    plot.setRenderer(lines);
    plot.setSeriesRenderingOrder(SeriesRenderingOrder.FORWARD); // the optimum's dashes over the plan's line
    ChartUtils.saveChartAsPNG(png.toFile(), chart, 800, 480);
  }
}
