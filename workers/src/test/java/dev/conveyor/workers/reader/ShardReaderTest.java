package dev.conveyor.workers.reader;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.Member;
import dev.conveyor.streams.sample.RawSample;
import java.util.List;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

/**
 * A sample too large for one message between nodes goes as a dead letter that says so; others
 * go as they are, a group of them cut into runs that each fit one message.
 */
class ShardReaderTest {
  static ReadEvent.Slot slot(int bytes) {
    return slot(3, bytes);
  }

  static ReadEvent.Slot slot(long position, int bytes) {
    return new ReadEvent.Slot(position, new RawSample("s3://b/part-000001.tar", "k" + position,
        List.of(new Member("jpg", ByteString.fromArray(new byte[bytes])))));
  }

  @Test
  void aGroupIsCutIntoRunsThatEachFitOneMessageInOrder() {
    ReadEvent report = new ReadEvent.Report(new DeadLetter("s3://b/part-000001.tar", "*", "a stray member"));
    List<ReadEvent> group = List.of(slot(0, 400), slot(1, 500), report, slot(2, 200), slot(3, 1001), slot(4, 900),
        slot(5, 100));
    List<List<ReadEvent>> runs = ShardReader.messages(group, 1000);
    // 400+500 (+ the report, which weighs nothing) | 200 + the dead letter of 1001 (weighs nothing) | 900+100
    assertThat(runs).extracting(List::size).containsExactly(3, 2, 2);
    assertThat(runs).allSatisfy(run -> assertThat(run.stream().mapToLong(ShardReader::messageBytes).sum())
        .isLessThanOrEqualTo(1000));
    List<ReadEvent> joined = runs.stream().flatMap(List::stream).toList();
    assertThat(joined).hasSize(group.size());
    for (int i = 0; i < group.size(); i++) {
      if (i == 4) {
        assertThat(((ReadEvent.Slot) joined.get(i)).record()).isInstanceOf(DeadLetter.class);
      } else {
        assertThat(joined.get(i)).isSameAs(group.get(i));
      }
    }
  }

  @Test
  void aSampleLargerThanAMessageMayCarryBecomesADeadLetterInItsSlot() {
    ReadEvent small = slot(1000);
    assertThat(ShardReader.fits(small, 1000)).isSameAs(small);
    ReadEvent.Slot big = (ReadEvent.Slot) ShardReader.fits(slot(1001), 1000);
    assertThat(big.position()).isEqualTo(3);
    assertThat(big.record()).isInstanceOf(DeadLetter.class);
    assertThat(((DeadLetter) big.record()).reason()).contains("1001 bytes").contains("(1000)");
    assertThat(((DeadLetter) big.record()).key()).isEqualTo("k3");
  }
}
