package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.streams.json.Json;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `bench cache --json` in small: the line formats, the plan's lead, and a chart that decodes. */
class CacheBenchCommandTest {
  @TempDir
  Path dir;

  @Test
  void printsOneObjectPerLineAndAChartAndThePlanLeadsLruWithinReachOfTheOptimum() throws Exception {
    Path chart = dir.resolve("cache.png");
    StringWriter out = new StringWriter();
    int code = ConveyorCli.run(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), "bench", "cache",
        "--json", "--cache-ranks", "4", "--cache-jobs", "1", "--nodes", "500", "--keys-per-node", "2000",
        "--chart", chart.toString());
    assertThat(code).isZero();
    List<JsonNode> lines = out.toString().lines().map(Json::parse).toList();
    assertThat(lines).hasSize(3 * 4 + 1);
    Map<String, Double> atHalf = new HashMap<>();
    for (JsonNode l : lines.subList(0, 12)) {
      assertThat(l.properties().stream().map(Map.Entry::getKey).toList())
          .containsExactly("policy", "cache_fraction", "ranks", "jobs", "hit_ratio", "s3_gets");
      if (l.get("cache_fraction").asDouble() == 0.5) {
        atHalf.put(l.get("policy").asText(), l.get("hit_ratio").asDouble());
      }
    }
    assertThat(atHalf.keySet()).containsExactlyInAnyOrder("lru", "fifo", "plan", "optimum");
    assertThat(atHalf.get("plan")).isGreaterThanOrEqualTo(2 * atHalf.get("lru"))
        .isGreaterThanOrEqualTo(0.95 * atHalf.get("optimum"));
    JsonNode ring = lines.get(12);
    assertThat(ring.get("model").asText()).isEqualTo("ring");
    assertThat(ring.get("nodes").asInt()).isEqualTo(500);
    assertThat(ring.get("imbalance").asDouble()).isBetween(1.0, 1.2);
    assertThat(ring.get("moved_per_departure_vs_1_over_n").asDouble()).isBetween(0.8, 1.2);
    assertThat(ring.has("seconds")).isTrue();
    BufferedImage png = ImageIO.read(chart.toFile());
    assertThat(png.getWidth()).isEqualTo(800);
    assertThat(png.getHeight()).isEqualTo(480);
  }
}
