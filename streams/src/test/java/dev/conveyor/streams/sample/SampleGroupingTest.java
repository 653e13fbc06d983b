package dev.conveyor.streams.sample;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.store.ShardReadException;
import dev.conveyor.streams.tar.TarParser;
import dev.conveyor.streams.tar.TarRecord;
import dev.conveyor.streams.testing.StreamTestKit;
import dev.conveyor.streams.testing.Tars;
import java.net.URI;
import java.util.Arrays;
import java.util.List;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class SampleGroupingTest {
  static final StreamTestKit kit = new StreamTestKit();

  @AfterAll
  static void stop() {
    kit.close();
  }

  static List<ShardRecord> group(byte[] tar) {
    return kit.collect(Tars.chunked(tar, 1000).via(TarParser.flow(1 << 20)).via(SampleGrouping.flow("s")));
  }

  static List<String> keys(List<ShardRecord> records) {
    return records.stream().filter(r -> r instanceof RawSample).map(r -> ((RawSample) r).key()).toList();
  }

  static List<DeadLetter> deadLetters(List<ShardRecord> records) {
    return records.stream().filter(r -> r instanceof DeadLetter).map(DeadLetter.class::cast).toList();
  }

  @Test
  void consecutiveMembersWithOneKeyFormOneSampleInArchiveOrder() {
    List<ShardRecord> r = group(Tars.builder().file("1.jpg", "a").file("1.json", "b").file("2.jpg", "c").bytes());
    assertThat(r).containsExactly(
        new RawSample("s", "1", List.of(new Member("jpg", ByteString.fromString("a")), new Member("json", ByteString.fromString("b")))),
        new RawSample("s", "2", List.of(new Member("jpg", ByteString.fromString("c")))));
  }

  @Test
  void aKeyThatReappearsAfterOtherKeysIsReportedNotMerged() {
    byte[] tar = Tars.builder().file("1.jpg", "a").file("2.jpg", "b").file("1.json", "late").file("3.jpg", "c").bytes();
    List<ShardRecord> r = group(tar);
    assertThat(keys(r)).containsExactly("1", "2", "3");
    assertThat(((RawSample) r.get(0)).members()).hasSize(1);
    assertThat(deadLetters(r)).singleElement().satisfies(d -> {
      assertThat(d.key()).isEqualTo("1");
      assertThat(d.reason()).contains("not adjacent");
    });
  }

  @Test
  void namesWithoutADotAndEscapingPathsAreSkippedAndCounted() {
    byte[] tar = Tars.builder().file("README", "x").file("../evil.jpg", "y").file("1.jpg", "a").file("x/../../up.jpg", "z")
        .file("2\n.jpg", "a newline").bytes();
    List<ShardRecord> r = group(tar);
    assertThat(keys(r)).containsExactly("1");
    assertThat(deadLetters(r)).extracting(DeadLetter::key).containsExactly("README", "../evil.jpg", "x/../../up.jpg",
        "2\\u000a.jpg");
    assertThat(deadLetters(r).get(0).reason()).contains("no extension");
    assertThat(deadLetters(r).get(1).reason()).contains("unsafe path");
    assertThat(deadLetters(r).get(3).reason()).contains("unsafe member name: holds the control character U+000A");
  }

  @Test
  void aDuplicateExtensionInOneSampleKeepsTheFirstAndReportsTheSecond() {
    List<ShardRecord> r = group(Tars.builder().file("1.jpg", "first").file("1.jpg", "second").bytes());
    assertThat(((RawSample) r.get(1)).member("jpg").orElseThrow().data().utf8String()).isEqualTo("first");
    assertThat(deadLetters(r)).singleElement().extracting(DeadLetter::reason).asString().contains("duplicate member .jpg");
  }

  @Test
  void aShardTruncatedAtAHeaderBoundaryIsReportedWithTheSampleItCut() {
    byte[] tar = Tars.builder().file("1.jpg", new byte[512]).file("1.json", new byte[512]).file("2.jpg", new byte[512]).bytes();
    byte[] cut = Arrays.copyOf(tar, 2 * 1024); // ends after 1.json: sample 1 may be missing members
    List<ShardRecord> r = group(cut);
    assertThat(keys(r)).isEmpty();
    assertThat(deadLetters(r)).singleElement().satisfies(d -> {
      assertThat(d.key()).isEqualTo("1");
      assertThat(d.reason()).contains("truncated at a header boundary");
    });
  }

  @Test
  void aShardCutInsideTheNextSampleDeliversTheWholeSampleBeforeIt() {
    byte[] tar = Tars.builder().file("1.jpg", new byte[512]).file("1.json", new byte[512]).file("2.jpg", new byte[512]).bytes();
    byte[] cut = Arrays.copyOf(tar, 2 * 1024 + 512 + 100); // inside 2.jpg's data
    List<ShardRecord> r = group(cut);
    assertThat(keys(r)).containsExactly("1");
    assertThat(deadLetters(r)).singleElement().satisfies(d -> {
      assertThat(d.key()).isEqualTo("2");
      assertThat(d.reason()).contains("truncated mid-member '2.jpg'");
    });
  }

  @Test
  void aReadFailureBecomesOneDeadLetterNamingTheReasonAndTheStreamCompletes() {
    URI shard = URI.create("s3://b/missing.tar");
    List<ShardRecord> r = kit.collect(Source.<TarRecord>failed(new ShardReadException(shard, "not found (HTTP 404 NoSuchKey)", null))
        .via(SampleGrouping.flow(shard.toString())));
    assertThat(r).containsExactly(new DeadLetter("s3://b/missing.tar", "*", "not found (HTTP 404 NoSuchKey)"));
  }

  @Test
  void skippedTarMembersBecomeDeadLetters() {
    List<ShardRecord> r = group(Tars.builder().symlink("1.jpg", "x").file("2.jpg", "b").bytes());
    assertThat(deadLetters(r)).singleElement().extracting(DeadLetter::key).isEqualTo("1.jpg");
    assertThat(keys(r)).containsExactly("2");
  }
}
