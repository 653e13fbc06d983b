package dev.conveyor.workers.feeder;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ring deepens for a trainer that waits on a pipeline that keeps up on average, and only then. */
class RingDepthTest {
  @TempDir
  Path dir;

  @Test
  void theRingDeepensWhenTheWaitsAreBurstsAndStaysWhenThePipelineIsTheSlower() throws Exception {
    try (ShmRing ring = ShmRing.create(dir, "ring", 8, 4096)) {
      ring.depth(2);
      RingDepth depth = new RingDepth("test", ring);
      depth.handed(1, 0, 0);
      Thread.sleep(50);
      depth.handed(10, 0.02, 0); // not a whole window yet: nothing decided
      assertThat(ring.depth()).isEqualTo(2);
      depth.handed(17, 0.02, 1_000_000); // waited 40 % of the window; the pipeline took 0.06 ms a batch: bursts
      assertThat(ring.depth()).isEqualTo(4);
      Thread.sleep(50);
      depth.handed(33, 0.02, 1_000_000); // no wait in this window
      assertThat(ring.depth()).isEqualTo(4);
      Thread.sleep(50);
      depth.handed(49, 0.06, 2_000_000_000L); // waits, but the pipeline took 125 ms a batch: slower than the trainer
      assertThat(ring.depth()).isEqualTo(4);
      double stall = 0.06;
      for (long handed = 65; handed <= 113; handed += 16) { // bursts again: 10 ms waited in each 50 ms window
        Thread.sleep(50);
        stall += 0.01;
        depth.handed(handed, stall, 2_000_000_000L);
      }
      assertThat(ring.depth()).isEqualTo(8); // doubled twice more, to the ring's slots, and no further
    }
  }
}
