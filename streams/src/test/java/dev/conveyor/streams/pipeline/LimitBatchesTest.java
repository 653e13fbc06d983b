package dev.conveyor.streams.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.batch.Skipped;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.testing.StreamTestKit;
import java.util.List;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class LimitBatchesTest {
  static final StreamTestKit kit = new StreamTestKit();

  @AfterAll
  static void stop() {
    kit.close();
  }

  static final List<RankEvent> EVENTS = List.of(
      new RawBatch(0, 0, 0, 0, List.of()),
      new Skipped(0, 0, 1, new DeadLetter("s", "k", "r")),
      new RawBatch(0, 0, 1, 1, List.of()),
      new Skipped(0, 0, 2, new DeadLetter("s", "k2", "r")),
      new RawBatch(0, 0, 2, 2, List.of()));

  @Test
  void limitBatchesStopsAfterTheNthBatchAndDropsWhatCameAfterIt() {
    assertThat(kit.collect(Source.from(EVENTS).via(RankPipeline.limitBatches(2)))).isEqualTo(EVENTS.subList(0, 3));
    assertThat(kit.collect(Source.from(EVENTS).via(RankPipeline.limitBatches(0)))).isEqualTo(EVENTS);
  }

  @Test
  void aLimitFlowCanBeMaterializedTwiceWithoutSharingItsCount() {
    Flow<RankEvent, RankEvent, ?> limit = RankPipeline.limitBatches(1);
    assertThat(kit.collect(Source.from(EVENTS).via(limit))).containsExactly(EVENTS.get(0));
    assertThat(kit.collect(Source.from(EVENTS).via(limit))).containsExactly(EVENTS.get(0));
  }

}
