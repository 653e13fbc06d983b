package dev.conveyor.streams.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.cursor.Cursor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The first 100 plan entries of a fixed recipe, checked in: any change to shard ordering,
 * splitting, windowing or shuffling — even one that keeps every invariant — changes what
 * existing cursors mean, so it must be made on purpose (and this file updated with it).
 */
class GoldenPlanTest {
  static final String GOLDEN = """
      9:30 9:1 9:0 3:14 9:33 9:18 3:5 9:8 3:13 3:2
      7:0 9:36 9:37 9:10 3:0 9:2 3:18 9:28 9:4 7:3
      3:16 3:10 3:4 9:31 9:44 3:7 9:46 3:8 9:47 9:43
      9:27 9:49 9:25 9:39 9:11 9:7 9:52 3:12 7:7 9:42
      9:40 9:21 3:22 9:15 9:53 3:1 3:26 7:2 9:48 9:24
      9:26 9:64 9:55 7:5 9:6 3:19 9:13 9:63 7:6 9:19
      9:38 9:12 9:66 9:34 3:23 9:35 9:16 7:1 7:8 9:56
      9:23 9:61 3:27 9:41 9:71 3:32 9:29 9:32 7:9 9:9
      9:68 9:65 3:34 9:58 9:80 9:77 9:59 3:38 9:57 9:74
      9:79 3:33 3:28 3:6 9:50 9:5 9:14 9:81 3:31 9:20
      """;

  @Test
  void theFirstHundredEntriesOfAFixedRecipeNeverChangeByAccident() {
    List<String> names = new ArrayList<>();
    int[] counts = {37, 0, 120, 64, 5, 99, 250, 18, 77, 140};
    for (int i = 0; i < counts.length; i++) {
      names.add("s3://golden/part-" + i + ".tar");
    }
    Recipe r = new Recipe(new ShardSet(names, counts), 20261123L, 8, false, new Recipe.Shuffle(true, 3, 50), "none");
    assertThat(r.fingerprint()).isEqualTo("ace7fcec9f31d744");
    DataPlan plan = new DataPlan(r);
    RankSegment seg = plan.rank(Cursor.start(r.fingerprint(), 2).atEpoch(1, 2), 2, 0);
    assertThat(seg.steps()).isEqualTo(51);
    assertThat(seg.size()).isEqualTo(405);
    List<String> first = plan.samples(seg).subList(0, 100).stream().map(s -> s.shard() + ":" + s.index()).toList();
    assertThat(String.join(" ", first)).isEqualTo(GOLDEN.strip().replace('\n', ' '));
  }
}
