package dev.conveyor.cli.report;

import static dev.conveyor.cli.report.RunReport.esc;
import static dev.conveyor.cli.report.RunReport.fmt;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/** The report's HTML page: the run's figures, then the charts with their captions. */
final class RunPage {
  private RunPage() {}

  static String html(JsonNode end, double lastT, List<String> notes) {
    JsonNode s = end.path("summary");
    StringBuilder b = new StringBuilder();
    b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Conveyor run report</title>\n")
        .append("<style>body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#1f2328}")
        .append("table{border-collapse:collapse}td,th{padding:.25em .8em;text-align:left;border-bottom:1px solid #ddd}")
        .append("img{max-width:100%;border:1px solid #ddd}.failed{color:#cf222e}.note{color:#57606a}</style></head><body>\n")
        .append("<h1>Conveyor run report</h1>\n");
    if (end.has("failure")) {
      b.append("<p class=\"failed\"><b>The run failed:</b> ").append(esc(end.path("failure").asText())).append("</p>\n");
    } else if (!end.has("end")) {
      b.append("<p class=\"failed\">The recording has no end line: the run was stopped before it finished"
          + fmt(" (%.1f s recorded).", lastT)).append("</p>\n");
    }
    if (s.isObject()) {
      b.append("<table>\n");
      row(b, "ranks, shards", s.path("ranks").asText() + ", " + s.path("shards").asText());
      row(b, "samples delivered", fmt("%,d", s.path("samples").asLong()));
      row(b, "batches", fmt("%,d", s.path("batches").asLong()));
      row(b, "bytes", fmt("%.1f MB", s.path("bytes").asLong() / 1e6));
      row(b, "bad samples", fmt("%,d", s.path("bad_samples").asLong()));
      row(b, "filtered by the pipeline", fmt("%,d", s.path("filtered").asLong()));
      row(b, "throughput", fmt("%,.0f samples/s, %.1f MB/s", s.path("samples_per_s").asDouble(),
          s.path("mb_per_s").asDouble()));
      row(b, "trainer stall", fmt("%.1f %%", 100 * s.path("stall").asDouble()));
      row(b, "wall time", fmt("%.2f s", s.path("seconds").asDouble()));
      row(b, "cursor", "<code>" + esc(s.path("cursor").asText()) + "</code>");
      b.append("</table>\n");
    }
    for (Map.Entry<String, String> c : RunReport.CHARTS.entrySet()) {
      b.append("<h2>").append(esc(c.getValue())).append("</h2>\n");
      notes.stream().filter(n -> n.startsWith(c.getKey() + ": ")).forEach(n -> b.append("<p class=\"note\">")
          .append(esc(n.substring(c.getKey().length() + 2))).append("</p>\n"));
      b.append("<img src=\"").append(c.getKey()).append("\" alt=\"").append(esc(c.getValue())).append("\">\n");
    }
    return b.append("</body></html>\n").toString();
  }

  private static void row(StringBuilder b, String name, String valueHtml) {
    b.append("<tr><th>").append(esc(name)).append("</th><td>").append(valueHtml).append("</td></tr>\n");
  }
}
