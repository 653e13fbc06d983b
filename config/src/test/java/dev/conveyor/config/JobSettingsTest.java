package dev.conveyor.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class JobSettingsTest {
  static Config with(String hocon) {
    return ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference()).resolve();
  }

  @Test
  void defaultsAreThoseOfReferenceConf() {
    JobSettings j = JobSettings.fromConfig(with("conveyor.job.shards = \"file:///d/x.tar\""));
    assertThat(j).isEqualTo(new JobSettings("file:///d/x.tar", "auto", 32, false, new JobSettings.Shuffle(true, 8, 1000),
        1, 0, 1, OptionalInt.empty(), JobSettings.Decode.NONE, JobSettings.OnBadSample.SKIP, 0.1, 0, "", 100, 3, 2,
        Runtime.getRuntime().availableProcessors(), 256L * 1024 * 1024, 256L * 1024 * 1024, "default", ""));
  }

  @Test
  void everyKeyMapsToItsField() {
    JobSettings j = JobSettings.fromConfig(with("""
        conveyor.job {
          shards = "s3://b/p-{0..3}.tar"
          manifest = none
          batch-size = 8
          drop-last = true
          shuffle { enabled = false, window-shards = 2, buffer = 10 }
          epochs = 3
          seed = -5
          world-size = 4
          rank = 2
          decode = none
          on-bad-sample = fail
          max-bad-fraction = 0.5
          max-steps = 10
          checkpoint-dir = /tmp/ck
          checkpoint-every = 7
          checkpoint-keep = 5
          reader-parallelism = 3
          stage-parallelism = 6
          max-member-size = 1MiB
          read-ahead = 0
          tenant = vision-team
        }"""));
    assertThat(j).isEqualTo(new JobSettings("s3://b/p-{0..3}.tar", "none", 8, true, new JobSettings.Shuffle(false, 2, 10),
        3, -5, 4, OptionalInt.of(2), JobSettings.Decode.NONE, JobSettings.OnBadSample.FAIL, 0.5, 10, "/tmp/ck", 7, 5, 3, 6, 1024 * 1024, 0, "vision-team", ""));
  }

  @Test
  void resumeIsAStartATokenLatestOrAutoAndTheNamedOnesNeedACheckpointDirectory() {
    String shards = "conveyor.job.shards = \"file:///d/x.tar\"\n";
    assertThat(JobSettings.fromConfig(with(shards + "conveyor.job { resume = auto, checkpoint-dir = /ck }")).resume())
        .isEqualTo("auto");
    assertThat(JobSettings.fromConfig(with(shards + "conveyor.job.resume = \"cv1.abc.00\"")).resume()).isEqualTo("cv1.abc.00");
    assertThatThrownBy(() -> JobSettings.fromConfig(with(shards + "conveyor.job.resume = newest")))
        .isInstanceOf(SettingsException.class).hasMessageStartingWith("conveyor.job.resume: is \"\" (start), a cursor token")
        .hasMessageContaining("got \"newest\"");
    assertThatThrownBy(() -> JobSettings.fromConfig(with(shards + "conveyor.job.resume = auto")))
        .isInstanceOf(SettingsException.class).hasMessageStartingWith("conveyor.job.resume: \"auto\" reads the cursors")
        .hasMessageContaining("--checkpoint-dir");
  }

  @Test
  void invalidValuesFailNamingTheKeyAndTheFix() {
    assertThatThrownBy(() -> JobSettings.fromConfig(with("")))
        .isInstanceOf(SettingsException.class).hasMessageStartingWith("conveyor.job.shards: is required");
    assertThatThrownBy(() -> JobSettings.fromConfig(with("conveyor.job { shards = x, batch-size = 0 }")))
        .hasMessage("conveyor.job.batch-size: must be at least 1, got 0");
    assertThatThrownBy(() -> JobSettings.fromConfig(with("conveyor.job { shards = x, world-size = 2, rank = 2 }")))
        .hasMessageStartingWith("conveyor.job.rank: must be below world-size 2");
    assertThatThrownBy(() -> JobSettings.fromConfig(with("conveyor.job { shards = x, tenant = \"a b\" }")))
        .hasMessage("conveyor.job.tenant: is letters, digits, - and _, got \"a b\"");
    assertThatThrownBy(() -> JobSettings.fromConfig(with("conveyor.job { shards = x, on-bad-sample = ignore }")))
        .hasMessage("conveyor.job.on-bad-sample: must be one of skip | fail, got \"ignore\"");
    assertThatThrownBy(() -> JobSettings.fromConfig(with("conveyor.job { shards = x, decode = gpu }")))
        .hasMessage("conveyor.job.decode: must be one of none | auto, got \"gpu\"");
    assertThatThrownBy(() -> JobSettings.fromConfig(with("conveyor.job { shards = x, epochs = many }")))
        .isInstanceOf(SettingsException.class).hasMessageStartingWith("conveyor.job.epochs: has the wrong type");
  }
}
