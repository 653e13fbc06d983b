package dev.conveyor.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The stage graph's resources: defaults, decoders per node from CPU slots, hand-off groups, bad values named by key. */
class StageSettingsTest {
  static StageSettings parse(String hocon) {
    return StageSettings.fromConfig(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference()));
  }

  @Test
  void byDefaultOneDecoderPerCpuSlotAndNoMapStage() {
    assertThat(parse("")).isEqualTo(StageSettings.defaults());
    assertThat(StageSettings.defaults().decodersFor(8)).isEqualTo(8);
  }

  @Test
  void aDecoderWithItsMapTakesTheirSlotsTogetherAndAFixedPoolWins() {
    StageSettings s = parse("conveyor.job { decoders.cpus = 1, map { class = \"a.B\", cpus = 0.5 } }");
    assertThat(s.mapClass()).isEqualTo(Optional.of("a.B"));
    assertThat(s.decodersFor(6)).as("6 slots / 1.5 per decoder").isEqualTo(4);
    assertThat(s.decodersFor(1)).as("at least one").isEqualTo(1);
    assertThat(parse("conveyor.job.decoders.pool = 3").decodersFor(64)).isEqualTo(3);
  }

  @Test
  void samplesAreHandedOverInGroupsAsConfiguredAndTheDefaultIsReferenceConfs() {
    assertThat(parse("").handOff()).as("reference.conf").isEqualTo(StageSettings.HandOff.DEFAULT);
    assertThat(parse("conveyor.job.hand-off { samples = 1, bytes = 64k, linger = 2ms }").handOff())
        .isEqualTo(new StageSettings.HandOff(1, 64 * 1024, java.time.Duration.ofMillis(2)));
  }

  @Test
  void badValuesFailNamingTheKey() {
    assertThatThrownBy(() -> parse("conveyor.job.hand-off.samples = 0")).hasMessageStartingWith("conveyor.job.hand-off.samples:");
    assertThatThrownBy(() -> parse("conveyor.job.hand-off.bytes = 0")).hasMessageStartingWith("conveyor.job.hand-off.bytes:");
    assertThatThrownBy(() -> parse("conveyor.job.hand-off.linger = 0ms")).hasMessageStartingWith("conveyor.job.hand-off.linger:");
    assertThatThrownBy(() -> parse("conveyor.job.decoders.cpus = 0")).hasMessageStartingWith("conveyor.job.decoders.cpus:");
    assertThatThrownBy(() -> parse("conveyor.job.decoders.pool = -1")).hasMessageStartingWith("conveyor.job.decoders.pool:");
    assertThatThrownBy(() -> parse("conveyor.job.map.cpus = -2")).hasMessageStartingWith("conveyor.job.map.cpus:");
  }
}
