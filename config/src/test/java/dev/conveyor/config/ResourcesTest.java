package dev.conveyor.config;

import static dev.conveyor.config.Resources.cpus;
import static dev.conveyor.config.Resources.custom;
import static dev.conveyor.config.Resources.gpus;
import static dev.conveyor.config.Resources.memory;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Resources asked and offered, and the pool settings a pipeline writes and a job file may change. */
class ResourcesTest {
  @Test
  void partsAddUpAndAnOfferHoldsAsManyInstancesAsItsScarcestPartAllows() {
    Resources ask = cpus(1).plus(gpus(0.5)).plus(memory("2GiB")).plus(custom("tpu", 1));
    assertThat(ask.describe()).isEqualTo("cpus=1, gpus=0.5, memory=2GiB, tpu=1");
    Resources offer = new Resources(8, 2, 16L << 30, Map.of("tpu", 3.0));
    assertThat(ask.fitsIn(offer)).isTrue();
    assertThat(ask.instancesIn(offer)).as("gpus: 2 / 0.5 = 4, tpu: 3").isEqualTo(3);
    assertThat(ask.times(3).fitsIn(offer)).isTrue();
    assertThat(ask.times(4).fitsIn(offer)).isFalse();
    assertThat(gpus(1).fitsIn(cpus(64))).isFalse();
    assertThat(custom("tpu", 1).instancesIn(cpus(4))).isZero();
    assertThat(Resources.NONE.instancesIn(Resources.NONE)).isEqualTo(Integer.MAX_VALUE);
    assertThat(offer.minus(ask.times(2))).isEqualTo(new Resources(6, 1, 12L << 30, Map.of("tpu", 1.0)));
  }

  @Test
  void badAmountsAndSizesAreRefusedWithTheValue() {
    assertThatThrownBy(() -> cpus(-1)).hasMessageContaining("-1");
    assertThatThrownBy(() -> memory("lots")).hasMessageContaining("\"lots\"");
    assertThatThrownBy(() -> custom("a b", 1)).hasMessageContaining("a b");
  }

  @Test
  void poolsReadFromTheJobFileWithErrorsNamingTheKey() {
    var config = ConfigFactory.parseString("""
        conveyor.job.pipeline = "x.Y"
        conveyor.job.pools = [ { stage = "caption#2", resources { cpus = 1, gpus = 1, memory = 2GiB,
          custom { tpu = 1 } }, concurrency = [1, 4] } ]
        conveyor.job.autoscale.grow-after = 2s
        """).withFallback(ConfigFactory.defaultReference()).resolve();
    PoolSettings p = StageSettings.fromConfig(config).pools();
    assertThat(p.pools()).containsExactly(new PoolSettings.Pool("caption#2",
        cpus(1).plus(gpus(1)).plus(memory("2GiB")).plus(custom("tpu", 1)), 1, 4));
    assertThat(p.autoscale().growAfter().toMillis()).isEqualTo(2000);
    assertThat(p.autoscale().shrinkAfter().toMillis()).isEqualTo(5000);

    var backwards = ConfigFactory.parseString("conveyor.job.pipeline = \"x.Y\"\n"
        + "conveyor.job.pools = [ { stage = a, concurrency = [4, 1] } ]").withFallback(ConfigFactory.defaultReference());
    assertThatThrownBy(() -> StageSettings.fromConfig(backwards)).isInstanceOf(SettingsException.class)
        .hasMessageContaining("conveyor.job.pools[a].concurrency").hasMessageContaining("[4, 1]");
    var noPipeline = ConfigFactory.parseString("conveyor.job.pools = [ { stage = a, concurrency = [1, 1] } ]")
        .withFallback(ConfigFactory.defaultReference());
    assertThatThrownBy(() -> StageSettings.fromConfig(noPipeline)).hasMessageContaining("conveyor.job.pipeline");
    var badCustom = ConfigFactory.parseString("conveyor.node.resources.custom.tpu = many")
        .withFallback(ConfigFactory.defaultReference());
    assertThatThrownBy(() -> NodeSettings.fromConfig(badCustom)).isInstanceOf(SettingsException.class)
        .hasMessageContaining("conveyor.node.resources.custom.tpu");
  }

  @Test
  void aNodeOffersItsCpuSlotsAndTheMachinesMemoryUnlessToldAndGpusOnlyWhereConfigured() {
    NodeSettings plain = NodeSettings.fromConfig(ConfigFactory.parseString("conveyor.node.cpus = 3")
        .withFallback(ConfigFactory.defaultReference()));
    assertThat(plain.resources().cpus()).isEqualTo(3);
    assertThat(plain.resources().gpus()).isZero();
    assertThat(plain.resources().memory()).isPositive();
    NodeSettings gpu = NodeSettings.fromConfig(ConfigFactory.parseString(
        "conveyor.node.resources { cpus = 6, gpus = 2, memory = 8GiB, custom { tpu = 4 } }")
        .withFallback(ConfigFactory.defaultReference()));
    assertThat(gpu.resources()).isEqualTo(new Resources(6, 2, 8L << 30, Map.of("tpu", 4.0)));
    assertThat(List.of(gpu.resources().describe())).containsExactly("cpus=6, gpus=2, memory=8GiB, tpu=4");
  }
}
