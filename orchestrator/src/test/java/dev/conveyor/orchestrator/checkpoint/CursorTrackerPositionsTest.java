package dev.conveyor.orchestrator.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.batch.SourceCounts;
import dev.conveyor.streams.cursor.Cursor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** With full batches the cursor records each rank's plan positions beside its count, and never moves them back. */
class CursorTrackerPositionsTest {
  static final Cursor START = Cursor.start("fp", 2);

  static RawBatch batch(int epoch, int rank, long index, long end, long... ends) {
    return new RawBatch(epoch, rank, index, index, List.of(), 0, SourceCounts.NONE, end, 0, ends, new long[ends.length]);
  }

  @Test
  void aProcessServingOneRankRecordsEveryRanksPositionsFromTheReleasedBatch() {
    CursorTracker t = new CursorTracker(START, true);
    t.delivered(batch(0, 1, 0, 9, 5, 9));
    t.delivered(batch(0, 1, 1, 30, 14, 30));
    Cursor c = t.cursor();
    assertThat(c.current().batches()).containsExactly(2, 2);
    assertThat(c.current().positions()).containsExactly(14, 30);
    assertThat(c.encode()).startsWith("cv2.");
    assertThat(Cursor.decode(c.encode())).isEqualTo(c);
  }

  @Test
  void ranksReportingTheirOwnPositionsAreRecordedEachAndALateReportMovesNothingBack() {
    CursorTracker t = new CursorTracker(START, false);
    t.delivered(0, 0, 0, 12, 0);
    t.delivered(1, 0, 0, 7, 3); // 3 outputs of the sample at 7 (a flatMap's) delivered too
    t.delivered(0, 0, 1, 20, 0);
    t.delivered(0, 0, 0, 12, 0); // late, twice
    assertThat(t.cursor().current().batches()).containsExactly(2, 1);
    assertThat(t.cursor().current().positions()).containsExactly(20, 7);
    assertThat(t.cursor().current().offsets()).containsExactly(0, 3);
    assertThat(Cursor.decode(t.cursor().encode())).isEqualTo(t.cursor());
    // a resumed tracker starts from the cursor's positions
    CursorTracker resumed = new CursorTracker(t.cursor(), false);
    resumed.delivered(1, 0, 1, 16, 0);
    assertThat(resumed.cursor().current().positions()).containsExactly(20, 16);
    assertThat(resumed.cursor().current().offsets()).isEmpty();
  }

  @Test
  void fixedBatchesKeepACv1CursorWithoutPositions() {
    CursorTracker t = new CursorTracker(START, false);
    t.delivered(0, 0, 0);
    t.delivered(1, 0, 0, -1, 0);
    assertThat(t.cursor().current().hasPositions()).isFalse();
    assertThat(t.cursor().encode()).startsWith("cv1.");
  }
}
