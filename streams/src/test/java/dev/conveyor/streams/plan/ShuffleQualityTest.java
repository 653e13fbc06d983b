package dev.conveyor.streams.plan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ShuffleQualityTest {

  @Test
  void theStatisticIsZeroAndOneForNoShuffleAndNearAThirdAndZeroForAFullOne() {
    long[] identity = new long[10_000];
    for (int i = 0; i < identity.length; i++) {
      identity[i] = i;
    }
    assertThat(ShuffleQuality.of(identity)).isEqualTo(new ShuffleQuality(0, 1));
    long[] full = ShuffleQuality.webDataset(new int[] {10_000}, 10_000, 1);
    ShuffleQuality q = ShuffleQuality.of(full);
    assertThat(q.meanDisplacement()).isBetween(0.32, 0.345);
    assertThat(Math.abs(q.correlation())).isLessThan(0.03);
  }

  @Test
  void conveyorMixesMoreThanShardShufflePlusAThousandSampleBufferOnTheSameRecipe() {
    Recipe r = ShuffleQuality.uniformRecipe(200, 500, 5, new Recipe.Shuffle(true, 8, 1000));
    int[] counts = ShuffleQuality.counts(r);
    long[] ours = ShuffleQuality.conveyor(r, 0);
    assertThat(Arrays.stream(ours).sorted().toArray()).isEqualTo(java.util.stream.LongStream.range(0, 100_000).toArray());
    ShuffleQuality conveyor = ShuffleQuality.of(ours);
    ShuffleQuality wds = ShuffleQuality.of(ShuffleQuality.webDataset(counts, 1000, 5));
    // both shuffle shards globally, so the displacement is high for both; within the stream,
    // Conveyor interleaves eight shards before its buffer, so neighbours are less related
    assertThat(conveyor.meanDisplacement()).isGreaterThan(0.3);
    assertThat(wds.meanDisplacement()).isGreaterThan(0.3);
    double oursSame = ShuffleQuality.sameShardNeighbours(ours, counts);
    double wdsSame = ShuffleQuality.sameShardNeighbours(ShuffleQuality.webDataset(counts, 1000, 5), counts);
    assertThat(oursSame).isLessThan(wdsSame);
  }
}
