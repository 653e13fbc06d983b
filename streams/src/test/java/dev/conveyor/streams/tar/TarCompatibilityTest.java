package dev.conveyor.streams.tar;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.SampleGrouping;
import dev.conveyor.streams.sample.ShardRecord;
import dev.conveyor.streams.testing.StreamTestKit;
import dev.conveyor.streams.testing.Tars;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The same files packed by GNU tar and by Python's tarfile, each in GNU and PAX formats
 * (fixtures made by src/test/resources/tar/make-fixtures.sh), give the same samples.
 */
class TarCompatibilityTest {
  static final StreamTestKit kit = new StreamTestKit();

  @AfterAll
  static void stop() {
    kit.close();
  }

  static List<ShardRecord> samples(String fixture, int chunk) throws IOException {
    byte[] bytes;
    try (InputStream in = TarCompatibilityTest.class.getResourceAsStream("/tar/" + fixture)) {
      bytes = in.readAllBytes();
    }
    return kit.collect(Tars.chunked(bytes, chunk).via(TarParser.flow(1 << 20))
        .via(SampleGrouping.flow("shard")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"gnu-tar-pax.tar", "python-pax.tar", "python-gnu.tar"})
  void everyWriterAndFormatGivesTheSameSamplesAsGnuTarGnuFormat(String fixture) throws IOException {
    assertThat(samples(fixture, 777)).isEqualTo(samples("gnu-tar-gnu.tar", 512));
  }

  @ParameterizedTest
  @ValueSource(strings = {"gnu-tar-gnu.tar", "gnu-tar-pax.tar", "python-pax.tar", "python-gnu.tar"})
  void longNamesDirectoriesMultiDotNamesAndEmptyMembersAreGroupedByTheWebDatasetRule(String fixture) throws IOException {
    List<ShardRecord> records = samples(fixture, 4096);
    assertThat(records).noneMatch(r -> r instanceof DeadLetter);
    List<RawSample> s = records.stream().map(RawSample.class::cast).toList();
    assertThat(s).extracting(RawSample::key).containsExactly(
        "000001", "000002", "a/b/000003", "long/" + "d".repeat(60) + "/" + "e".repeat(60) + "/000004", "000005");
    assertThat(s.get(1).members()).extracting(m -> m.ext()).containsExactly("seg.jpg", "json");
    assertThat(s.get(2).member("jpg").orElseThrow().data().size()).isEqualTo(3000);
    assertThat(s.get(3).member("txt").orElseThrow().data().utf8String()).isEqualTo("text in a very long path\n");
    assertThat(s.get(4).member("txt").orElseThrow().data().size()).isZero();
    assertThat(s.get(4).member("cls").orElseThrow().data().utf8String()).isEqualTo("5\n");
  }
}
