package dev.conveyor.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.bench.ClusterBench;
import dev.conveyor.cli.ConveyorCli;
import dev.conveyor.config.NodeSettings;
import dev.conveyor.config.S3Settings;
import dev.conveyor.orchestrator.node.ClusterNode;
import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench cluster}, small: three real node processes on 127.0.0.1 and the same job in this
 * process deliver every image of the shards, the figures are measured (not zero), and the
 * nodes are gone afterwards. The full benchmark is {@code bin/conveyor bench cluster}.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ClusterBenchSmokeTest {
  @TempDir
  Path dir;

  @Test
  void threeNodeProcessesAndOneProcessBothDeliverTheImagesAndAreMeasured() throws Exception {
    Path data = dir.resolve("data");
    var m = new DatasetGenerator(new FileShardStore(), dir.resolve("scratch"), 2)
        .generate(new DatasetSpec(96, 0, 400 * 1024, 3), data.toUri(), n -> { });
    List<URI> images = new ArrayList<>();
    for (var s : m.shards()) { // the benchmark takes the reference corpus's names
      Path img = data.resolve(s.name().replace("part-", "img-"));
      Files.move(data.resolve(s.name()), img);
      images.add(img.toUri());
    }
    assertThat(images).hasSizeGreaterThanOrEqualTo(2);
    Config base = ConfigFactory.parseString("conveyor.node { cpus = 2, http.port = -1, port = 0 }")
        .withFallback(ConfigFactory.load());
    var local = ClusterNode.startAlone(NodeSettings.fromConfig(base), S3Settings.fromConfig(base), base);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> node = List.of(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
        ConveyorCli.class.getName(), "node");
    try (FileShardStore store = new FileShardStore()) {
      ClusterNode.awaitUp(local, "127.0.0.1 (this process)", Duration.ofSeconds(60));
      // no untimed jobs first: the figures are only checked to be there
      ClusterBench.Result r = ClusterBench.run(local, images, 2, 2, 8, 0, 1, base, store, node, dir, false, line -> { });
      assertThat(r.samples()).isEqualTo(96);
      assertThat(r.onePerS()).isPositive();
      assertThat(r.clusterPerS()).isPositive();
      assertThat(r.clusterMbPerS()).isPositive();
      assertThat(r.batchMb()).isGreaterThan(8 * 256 * 256 * 3 / 1e6); // eight decoded 256x256 pictures, and their envelope
      assertThat(r.serializeMs()).isPositive();
      assertThat(r.text()).contains("ratio");
    } finally {
      local.terminate();
      local.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive).count()).as("node processes left").isZero();
  }
}
