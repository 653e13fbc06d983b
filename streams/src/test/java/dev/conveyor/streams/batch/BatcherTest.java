package dev.conveyor.streams.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.Member;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.ShardRecord;
import dev.conveyor.streams.testing.StreamTestKit;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class BatcherTest {
  static final StreamTestKit kit = new StreamTestKit();

  @AfterAll
  static void stop() {
    kit.close();
  }

  static RawSample sample(int i) {
    return new RawSample("s", "k" + i, List.of(new Member("bin", ByteString.fromString("v" + i))));
  }

  @Test
  void samplesFormFullBatchesInOrderAndTheLastShortBatchIsDelivered() {
    List<ShardRecord> in = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      in.add(sample(i));
    }
    List<RankEvent> out = kit.collect(Source.from(in).via(Batcher.flow(2, 1, 3)));
    assertThat(out).hasSize(3).allMatch(e -> e instanceof RawBatch && e.epoch() == 2 && e.rank() == 1);
    assertThat(out).extracting(RankEvent::step).containsExactly(0L, 1L, 2L);
    assertThat(((RawBatch) out.get(0)).samples()).extracting(RawSample::key).containsExactly("k0", "k1", "k2");
    assertThat(((RawBatch) out.get(2)).samples()).extracting(RawSample::key).containsExactly("k6");
  }

  @Test
  void deadLettersPassThroughAtThePlaceTheyOccurredWithTheStepOfTheBatchBeingFormed() {
    DeadLetter bad = new DeadLetter("s", "x", "broken");
    List<ShardRecord> in = List.of(sample(0), sample(1), bad, sample(2), sample(3));
    List<RankEvent> out = kit.collect(Source.from(in).via(Batcher.flow(0, 0, 2)));
    assertThat(out).hasSize(3);
    assertThat(out.get(0)).isInstanceOf(RawBatch.class);
    assertThat(out.get(1)).isEqualTo(new Skipped(0, 0, 1, bad));
    assertThat(((RawBatch) out.get(2)).samples()).extracting(RawSample::key).containsExactly("k2", "k3");
  }

  @Test
  void nothingInNothingOut() {
    assertThat(kit.collect(Source.<ShardRecord>empty().via(Batcher.flow(0, 0, 4)))).isEmpty();
  }
}
