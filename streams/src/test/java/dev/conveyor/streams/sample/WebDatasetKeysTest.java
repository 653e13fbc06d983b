package dev.conveyor.streams.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class WebDatasetKeysTest {

  @ParameterizedTest
  @CsvSource({
      "000001.jpg, 000001, jpg",
      "000001.seg.jpg, 000001, seg.jpg",
      "a/b/000001.jpg, a/b/000001, jpg",
      "./000001.json, 000001, json",
      "dir.v2/000001.jpg, dir.v2/000001, jpg"})
  void theKeyIsThePathUpToTheFirstDotOfTheBasename(String path, String key, String ext) {
    assertThat(WebDatasetKeys.split(path, new StringBuilder())).contains(new WebDatasetKeys.Split(key, ext));
  }

  @ParameterizedTest
  @ValueSource(strings = {"README", "a/b/noext", "/abs/1.jpg", "../1.jpg", "a/../../1.jpg", ".hidden", "x."})
  void namesWithNoUsableKeyOrEscapingPathsAreRefusedWithAReason(String path) {
    StringBuilder why = new StringBuilder();
    assertThat(WebDatasetKeys.split(path, why)).isEqualTo(Optional.empty());
    assertThat(why).isNotEmpty();
  }
}
