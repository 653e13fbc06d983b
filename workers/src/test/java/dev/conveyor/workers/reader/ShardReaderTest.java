package dev.conveyor.workers.reader;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.Member;
import dev.conveyor.streams.sample.RawSample;
import java.util.List;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

/** A sample too large for one message between nodes goes as a dead letter that says so; others go as they are. */
class ShardReaderTest {
  static ReadEvent.Slot slot(int bytes) {
    return new ReadEvent.Slot(3, new RawSample("s3://b/part-000001.tar", "k1",
        List.of(new Member("jpg", ByteString.fromArray(new byte[bytes])))));
  }

  @Test
  void aSampleLargerThanAMessageMayCarryBecomesADeadLetterInItsSlot() {
    ReadEvent small = slot(1000);
    assertThat(ShardReader.fits(small, 1000)).isSameAs(small);
    ReadEvent.Slot big = (ReadEvent.Slot) ShardReader.fits(slot(1001), 1000);
    assertThat(big.position()).isEqualTo(3);
    assertThat(big.record()).isInstanceOf(DeadLetter.class);
    assertThat(((DeadLetter) big.record()).reason()).contains("1001 bytes").contains("(1000)");
    assertThat(((DeadLetter) big.record()).key()).isEqualTo("k1");
  }
}
