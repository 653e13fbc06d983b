package dev.conveyor.cli.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.cli.CliResult;
import dev.conveyor.cli.Datasets;
import dev.conveyor.cli.Examples;
import dev.conveyor.streams.json.Json;
import dev.conveyor.tools.datagen.DatasetSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recaptioning example end to end in one process: every clip of a corpus captioned by the
 * Captioner pool and written as a new dataset, which a training job then mixes in with the
 * pictures of another. (On the 3-node cluster: ClusterPoolsTest.)
 */
public class RecaptionExampleTest {
  static final int CLIPS = 10;

  @TempDir
  Path dir;


  /** The example over {@code shards}, written to {@code to}: small frames, so that it runs in seconds. */
  public static String[] recaption(String shards, Path to, String... more) {
    return Stream.concat(Stream.of("run", "--pipeline", "dev.conveyor.examples.Recaption", "--classpath",
        Examples.jar().toString(), "--shards", shards, "--world", "2",
        "--set", "conveyor.decode.video={frames=4,short-side=32,crop-height=32,crop-width=32,stride=2}",
        "--set", "conveyor.job.sink.to=\"" + to.toUri() + "\"", "--set", "conveyor.job.sink.shard-size=4KiB"),
        Stream.of(more)).toArray(String[]::new);
  }

  @Test
  void everyClipGetsACaptionInANewDatasetThatAMixReads() throws Exception {
    String videos = Datasets.generate(dir, "videos", new DatasetSpec(6, CLIPS, 64 * 1024, 3));
    Path captions = dir.resolve("captions");
    CliResult r = CliResult.run(recaption(videos, captions));
    assertThat(r.code()).as(r.err() + r.out()).isZero();
    JsonNode manifest = Json.parse(Files.readString(captions.resolve("shards.json")));
    long samples = 0;
    StringBuilder all = new StringBuilder();
    for (JsonNode s : manifest.path("shards")) {
      samples += s.path("samples").asLong();
      all.append(new String(Files.readAllBytes(captions.resolve(s.path("name").asText())), StandardCharsets.ISO_8859_1));
    }
    assertThat(samples).as("every clip, no picture").isEqualTo(CLIPS);
    assertThat(all.toString().split("\\.caption\\.txt", -1)).as("a caption per clip").hasSize(CLIPS + 1);

    // a training job mixes the captions in with another dataset's pictures
    String pictures = Datasets.generate(dir, "pictures", new DatasetSpec(30, 0, 64 * 1024, 4));
    Path summary = dir.resolve("mix-summary.json");
    CliResult mix = CliResult.run("run", "--set", "conveyor.job.sources=[{shards = \"" + captions.resolve("shards.json")
        .toUri() + "\", weight = 0.25, name = captions}, {shards = \"" + pictures + "\", weight = 0.75, name = pictures}]",
        "--batch-size", "4", "--summary-json", summary.toString());
    assertThat(mix.code()).as(mix.err()).isZero();
    JsonNode sources = Json.parse(Files.readString(summary)).path("sources");
    assertThat(sources.get(0).path("name").asText()).isEqualTo("captions");
    assertThat(sources.get(0).path("samples").asLong()).as("the mix delivers captioned clips").isPositive();
    assertThat(List.of(r.err())).allMatch(e -> e.contains("wrote "));
  }
}
