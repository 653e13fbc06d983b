package dev.conveyor.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A job file's mix: its sources read with their defaults, and each mistake refused naming its key. */
class SourceSettingsTest {
  static JobSettings job(String hocon) {
    return JobSettings.fromConfig(JobSettingsTest.with(hocon));
  }

  @Test
  void sourcesAreReadWithTheirDefaultsAndTheMixBatching() {
    JobSettings j = job("""
        conveyor.job {
          sources = [ { shards = "s3://b/a-{0..3}.tar", weight = 0.7, name = web }
                      { shards = "s3://b/books/shards.json", weight = 0.3, repeat = true } ]
          mix = per-source
        }""");
    assertThat(j.mixed()).isTrue();
    assertThat(j.sources()).containsExactly(new SourceSettings("web", "s3://b/a-{0..3}.tar", 0.7, false),
        new SourceSettings("source-1", "s3://b/books/shards.json", 0.3, true));
    assertThat(j.mix()).isEqualTo(JobSettings.MixBatching.PER_SOURCE);
    assertThat(job("conveyor.job.shards = \"file:///d/x.tar\"").sources()).isEqualTo(List.of());
    assertThat(job("conveyor.job.sources = [ { shards = \"file:///a.tar\" } ]").sources().get(0).weight()).isEqualTo(1.0);
  }

  @Test
  void eachMistakeIsRefusedNamingItsKey() {
    assertThatThrownBy(() -> job("conveyor.job { shards = \"file:///x.tar\", sources = [ { shards = \"file:///a.tar\" } ] }"))
        .isInstanceOf(SettingsException.class).hasMessageContaining("conveyor.job.sources")
        .hasMessageContaining("shards or sources (a mix), not both");
    assertThatThrownBy(() -> job("conveyor.job.sources = [ { shards = \"file:///a.tar\", weight = 0 } ]"))
        .hasMessageContaining("conveyor.job.sources[0].weight").hasMessageContaining("a positive number, got 0.0");
    assertThatThrownBy(() -> job("conveyor.job.sources = [ { shards = \"file:///a.tar\" }, { shards = \"file:///b.tar\","
        + " weight = -1 } ]")).hasMessageContaining("conveyor.job.sources[1].weight");
    assertThatThrownBy(() -> job("conveyor.job.sources = [ { shards = \"file:///a.tar\", wieght = 2 } ]"))
        .hasMessageContaining("conveyor.job.sources[0].wieght").hasMessageContaining("is not a source setting");
    assertThatThrownBy(() -> job("conveyor.job.sources = [ { weight = 2 } ]"))
        .hasMessageContaining("conveyor.job.sources[0].shards").hasMessageContaining("is required");
    assertThatThrownBy(() -> job("conveyor.job.sources = [ { shards = \"file:///a.tar\", repeat = true } ]"))
        .hasMessageContaining("conveyor.job.sources").hasMessageContaining("every source repeats");
    assertThatThrownBy(() -> job("conveyor.job.sources = [ { shards = \"file:///a.tar\", name = x }, { shards ="
        + " \"file:///b.tar\", name = x } ]")).hasMessageContaining("conveyor.job.sources[1].name");
    assertThatThrownBy(() -> job("conveyor.job.sources = [ { shards = \"file:///a.tar\", weight = heavy } ]"))
        .hasMessageContaining("conveyor.job.sources[0].weight").hasMessageContaining("wrong type");
    assertThatThrownBy(() -> job("conveyor.job { sources = [ { shards = \"file:///a.tar\" } ], mix = blended }"))
        .hasMessageContaining("conveyor.job.mix");
  }

  @Test
  void aJobOrEachSourceMayChooseItsSamplesByACatalogQuery() {
    JobSettings one = job("conveyor.job { shards = \"file:///d/shards.json\", where = \" label = 3 \","
        + " corpus-version = abc }");
    assertThat(one.selection()).isEqualTo(new Selection("label = 3", "abc"));
    assertThat(one.selection().chooses()).isTrue();
    assertThat(job("conveyor.job.shards = \"file:///d/x.tar\"").selection()).isEqualTo(Selection.ALL);
    JobSettings mix = job("""
        conveyor.job.sources = [ { shards = "file:///a/shards.json", where = "width > 300" }
                                 { shards = "file:///b/shards.json" } ]""");
    assertThat(mix.sources().get(0).selection()).isEqualTo(new Selection("width > 300", ""));
    assertThat(mix.sources().get(1).selection()).isEqualTo(Selection.ALL);
    assertThat(job("conveyor.job { shards = \"file:///d/shards.json\", where = \"s > 1\", catalog = \"file:///s.parquet\" }")
        .selection()).isEqualTo(new Selection("s > 1", "", "file:///s.parquet"));
    assertThatThrownBy(() -> job("conveyor.job { shards = \"file:///d/shards.json\", catalog = \"file:///s.parquet\" }"))
        .hasMessageContaining("conveyor.job.catalog").hasMessageContaining("conveyor.job.where is not");
    assertThatThrownBy(() -> job("conveyor.job { shards = \"file:///d/shards.json\", corpus-version = abc }"))
        .hasMessageContaining("conveyor.job.corpus-version").hasMessageContaining("conveyor.job.where is not");
    assertThatThrownBy(() -> job("conveyor.job.sources = [ { shards = \"file:///a.tar\", corpus-version = v } ]"))
        .hasMessageContaining("conveyor.job.sources[0].corpus-version");
    assertThatThrownBy(() -> job("conveyor.job { where = \"a = 1\", sources = [ { shards = \"file:///a.tar\" } ] }"))
        .hasMessageContaining("conveyor.job.where").hasMessageContaining("a mix gives each source its own");
  }
}
