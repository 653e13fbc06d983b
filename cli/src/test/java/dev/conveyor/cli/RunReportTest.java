package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.cli.pipeline.ThrowsOnSome;
import dev.conveyor.cli.report.RunRecording;
import dev.conveyor.cli.report.RunReport;
import dev.conveyor.streams.json.Json;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code run --report DIR} and {@code report DIR}: a real run's page and charts, each PNG decoded. */
class RunReportTest {
  @TempDir
  Path dir;

  @Test
  void aRunsReportHasItsFiguresAndFiveChartsThatDecodeAndShowWhatHappened() throws Exception {
    Path report = dir.resolve("report");
    try (S3Dataset data = new S3Dataset(dir, 46, 0, 64 * 1024)) {
      // a pipeline whose stage throws on every 20th sample: bad samples to show, the run goes on
      CliResult r = data.run("--pipeline", ThrowsOnSome.class.getName(), "--world", "2",
          "--batch-size", "4", "--epochs", "2", "--report", report.toString(), "--progress", "json");
      assertThat(r.code()).as(r.err()).isZero();
      assertThat(r.err()).contains("run: report in " + report.resolve(RunReport.PAGE).toAbsolutePath());
      assertThat(r.err().lines().filter(l -> l.startsWith("{\"task\":\"run\"")).toList())
          .as("--progress json: JSON lines, the last one finished").isNotEmpty()
          .last().asString().contains("\"done\":24").contains("\"total\":24").contains("\"finished\":true");
      assertThat(r.err()).doesNotContain("\r");
    }
    List<String> lines = Files.readAllLines(report.resolve(RunRecording.FILE));
    JsonNode end = Json.parse(lines.get(lines.size() - 1));
    JsonNode summary = end.path("summary");
    assertThat(summary.path("bad_samples").asLong()).isEqualTo(6);
    assertThat(end.path("bad_by_reason").toString()).isEqualTo("{\"the stage labeller#N failed\":6}");
    long requests = 0;
    for (JsonNode n : end.path("s3_latency_ms").path("counts")) {
      requests += n.asLong();
    }
    assertThat(requests).as("every S3 GET's latency counted").isEqualTo(summary.path("reads").path("requests").asLong())
        .isPositive();
    JsonNode last = Json.parse(lines.get(lines.size() - 2));
    assertThat(last.path("samples").asLong()).isEqualTo(summary.path("samples").asLong());
    assertThat(last.path("ranks").path("1").path("batches").asLong()).isEqualTo(12);

    String page = Files.readString(report.resolve(RunReport.PAGE));
    assertThat(page).contains("<td>86</td>").contains(summary.path("cursor").asText());
    for (String png : RunReport.CHARTS.keySet()) {
      assertThat(page).contains("<img src=\"" + png + "\"");
      BufferedImage img = ImageIO.read(report.resolve(png).toFile());
      assertThat(img).as(png + " decodes").isNotNull();
      assertThat(img.getWidth()).isEqualTo(900);
      assertThat(img.getHeight()).isEqualTo(380);
      assertThat(colours(img)).as(png + " draws more than a frame and a title").isGreaterThan(8);
    }
    assertThat(page).doesNotContain("class=\"note\"").as("every chart had something to show");

    // drawn again from the recording alone, the same page
    Files.delete(report.resolve(RunReport.PAGE));
    CliResult again = CliResult.run("report", report.toString());
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(Files.readString(report.resolve(RunReport.PAGE))).isEqualTo(page);
    CliResult none = CliResult.run("report", dir.toString());
    assertThat(none.code()).isEqualTo(ConveyorCli.EXIT_USAGE);
    assertThat(none.err()).contains("holds no run.jsonl").contains("run --report");
  }

  static int colours(BufferedImage img) {
    Set<Integer> c = new HashSet<>();
    for (int y = 0; y < img.getHeight(); y += 2) {
      for (int x = 0; x < img.getWidth(); x += 2) {
        c.add(img.getRGB(x, y));
      }
    }
    return c.size();
  }
}
