package dev.conveyor.cli.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.cli.CliResult;
import dev.conveyor.cli.Datasets;
import dev.conveyor.streams.json.Json;
import dev.conveyor.tools.datagen.DatasetSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch job ending in a sink: its samples written as a new dataset that a job then reads, the
 * same bytes on every run; a repeated job rewrites nothing; and a job SIGKILLed mid-way and run
 * again leaves exactly the shards of an uninterrupted run, byte for byte, none partial and none
 * twice.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
public class SinkJobTest {
  static final int IMAGES = 48;

  @TempDir
  static Path dir;

  static String shards;

  @BeforeAll
  static void data() throws Exception {
    shards = Datasets.generate(dir, "data", new DatasetSpec(IMAGES, 3, 64 * 1024, 41));
  }

  static CliResult cli(String... args) {
    return CliResult.run(args);
  }

  static String[] job(String pipeline, Path to, String... more) {
    List<String> args = new ArrayList<>(List.of("run", "--pipeline", pipeline, "--shards", shards, "--world", "2",
        "--set", "conveyor.job.sink.to=\"" + to.toUri() + "\""));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  /** The files of a sink's folder (its cursors' folder left out), each with its bytes' hash. */
  public static Map<String, String> files(Path folder) throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> all = Files.list(folder)) {
      for (Path p : all.filter(Files::isRegularFile).toList()) {
        out.put(p.getFileName().toString(), java.util.HexFormat.of().formatHex(
            java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
      }
    }
    return out;
  }

  @Test
  void aSinkWritesADatasetAJobReadsTheSameBytesEveryRunAndARepeatRewritesNothing() throws Exception {
    Path first = dir.resolve("first");
    CliResult r = cli(job(WritesCaptions.class.getName(), first, "--summary-json", dir.resolve("sink.json").toString()));
    assertThat(r.code()).as(r.err() + r.out()).isZero();
    assertThat(r.err()).contains("wrote ").contains("shards.json");
    Map<String, String> written = files(first);
    assertThat(written.keySet()).contains("shards.json")
        .anyMatch(n -> n.matches("part-[0-9a-f]{12}-e000-r00000-000000000\\.tar"))
        .anyMatch(n -> n.matches("part-[0-9a-f]{12}-e000-r00001-\\d{9}\\.tar\\.idx\\.json"))
        .noneMatch(n -> n.endsWith(".part"));
    JsonNode manifest = Json.parse(Files.readString(first.resolve("shards.json")));
    long samples = 0;
    for (JsonNode s : manifest.path("shards")) {
      samples += s.path("samples").asLong();
    }
    assertThat(samples).as("every image, none of the clips").isEqualTo(IMAGES);
    assertThat(manifest.path("shards").size()).as("16 KiB shards").isGreaterThan(4);

    // the new dataset reads like any: every image's key, each with its caption
    Path keys = dir.resolve("read-back-keys.txt");
    CliResult read = cli("run", "--shards", first.resolve("shards.json").toUri().toString(), "--keys-out", keys.toString(),
        "--summary-json", dir.resolve("read-back.json").toString());
    assertThat(read.code()).as(read.err()).isZero();
    assertThat(Files.readAllLines(keys)).hasSize(IMAGES);
    String someShard = written.keySet().stream().filter(n -> n.endsWith(".tar")).findFirst().orElseThrow();
    String tar = new String(Files.readAllBytes(first.resolve(someShard)), java.nio.charset.StandardCharsets.ISO_8859_1);
    // each sample's members as the last stage left them (a decoded picture's bytes are let go) and its caption
    assertThat(tar).contains(".caption.txt").contains(".json");

    // the same recipe into another folder: the same names and bytes
    Path second = dir.resolve("second");
    CliResult again = cli(job(WritesCaptions.class.getName(), second));
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(files(second)).isEqualTo(written);

    // the same job into the first folder again: it goes on from its last cursor, at the end
    Map<String, Long> times = new TreeMap<>();
    for (String n : written.keySet()) {
      times.put(n, Files.getLastModifiedTime(first.resolve(n)).toMillis());
    }
    Thread.sleep(20);
    CliResult repeat = cli(job(WritesCaptions.class.getName(), first, "--summary-json", dir.resolve("repeat.json").toString()));
    assertThat(repeat.code()).as(repeat.err()).isZero();
    assertThat(Json.parse(Files.readString(dir.resolve("repeat.json"))).path("batches").asLong()).isZero();
    for (String n : written.keySet()) {
      if (n.endsWith(".tar")) {
        assertThat(Files.getLastModifiedTime(first.resolve(n)).toMillis()).as(n + " not rewritten")
            .isEqualTo(times.get(n));
      }
    }
    assertThat(files(first)).isEqualTo(written);
  }

  @Test
  void aSinkJobKilledMidWayAndRunAgainLeavesTheShardsOfAnUninterruptedRunNonePartialNoneTwice() throws Exception {
    String slow = WritesCaptions.Slow.class.getName();
    Path reference = dir.resolve("uninterrupted");
    CliResult ref = cli(job(slow, reference));
    assertThat(ref.code()).as(ref.err()).isZero();

    Path killed = dir.resolve("killed");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
        "dev.conveyor.cli.ConveyorCli"));
    command.addAll(List.of(job(slow, killed, "--quiet")));
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve("killed.log").toFile()).start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (committed(killed) < 3) {
        assertThat(p.isAlive()).as("the job runs until it is killed: " + Files.readString(dir.resolve("killed.log")))
            .isTrue();
        assertThat(System.nanoTime()).as("3 shards committed within 90 s").isLessThan(deadline);
        Thread.sleep(5);
      }
    } finally {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    long before = committed(killed);
    assertThat(before).as("killed before the end").isLessThan(committed(reference));

    CliResult resumed = cli(job(slow, killed, "--summary-json", dir.resolve("resumed.json").toString()));
    assertThat(resumed.code()).as(resumed.err()).isZero();
    assertThat(Json.parse(Files.readString(dir.resolve("resumed.json"))).path("batches").asLong())
        .as("the second run wrote only what was left").isPositive();
    assertThat(files(killed)).as("the same files, byte for byte, none partial").isEqualTo(files(reference));
  }

  /** Shards committed in {@code folder} so far (their indexes written). */
  static long committed(Path folder) throws Exception {
    if (!Files.isDirectory(folder)) {
      return 0;
    }
    try (Stream<Path> all = Files.list(folder)) {
      return all.filter(f -> f.getFileName().toString().endsWith(".tar.idx.json")).count();
    }
  }
}
