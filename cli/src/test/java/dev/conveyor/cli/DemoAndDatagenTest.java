package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.ConveyorSettings;
import dev.conveyor.streams.manifest.Manifest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoAndDatagenTest {
  @TempDir
  Path dir;

  @Test
  void theDemoGeneratesReadsAndSummarizesWithinAMinuteAndExits0() {
    long t0 = System.nanoTime();
    CliResult r = CliResult.run("demo");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat((System.nanoTime() - t0) / 1e9).isLessThan(60);
    assertThat(r.out()).contains("demo: generated 220 samples").contains("samples 220").contains("bad samples 0");
    assertThat(r.lastLine()).startsWith("cursor: cv1.");
  }

  @Test
  void datagenToAFolderWritesShardsAndAManifestAndTheSameSeedRepeatsItself() throws Exception {
    for (String sub : new String[] {"a", "b"}) {
      CliResult r = CliResult.run("datagen", "--out", dir.resolve(sub).toUri().toString().replaceAll("/$", ""),
          "--images", "6", "--videos", "1", "--shard-size", "20KB", "--seed", "5");
      assertThat(r.code()).as(r.err()).isZero();
      assertThat(r.out()).contains("datagen: 7 samples in");
      assertThat(r.err()).as("stdout is no terminal here: no bar, no carriage return").doesNotContain("\r")
          .doesNotContain("datagen  ");
    }
    CliResult bar = CliResult.run("datagen", "--out", dir.resolve("c").toUri().toString().replaceAll("/$", ""),
        "--images", "6", "--videos", "1", "--shard-size", "20KB", "--seed", "5", "--progress", "bar");
    assertThat(bar.err()).as("--progress bar draws it anyway").contains("\r").contains("7/7 samples");
    Manifest a = Manifest.parse(Files.readString(dir.resolve("a/shards.json")));
    assertThat(a.samples()).isEqualTo(7);
    assertThat(a).isEqualTo(Manifest.parse(Files.readString(dir.resolve("b/shards.json"))));
  }

  @Test
  void datagenRefusesBadArgumentsWithExitCode2() {
    assertThat(CliResult.run("datagen", "--out", "relative/dir").code()).isEqualTo(2);
    assertThat(CliResult.run("datagen", "--out", "file:///tmp/x", "--shard-size", "lots").err()).contains("--shard-size");
    assertThat(CliResult.run("datagen", "--out", "file:///tmp/x", "--images", "0", "--videos", "0").code()).isEqualTo(2);
  }

  @Test
  void everySubcommandHasHelp() {
    for (String cmd : new String[] {"demo", "datagen", "index", "run", "serve-s3", "bench"}) {
      CliResult r = CliResult.run(cmd, "--help");
      assertThat(r.code()).isZero();
      assertThat(r.out()).contains("Usage: conveyor " + cmd);
    }
  }

  @Test
  void theExampleJobFileIsValid() {
    var config = ConfigFactory.parseFile(Path.of("../config/example-job.conf").toFile()).withFallback(ConfigFactory.defaultReference()).resolve();
    ConveyorSettings s = ConveyorSettings.fromConfig(config);
    assertThat(s.job().shards()).startsWith("s3://");
  }
}
