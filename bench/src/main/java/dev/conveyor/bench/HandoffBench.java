package dev.conveyor.bench;

import dev.conveyor.workers.feeder.RingTrainer;
import dev.conveyor.workers.feeder.ShmRing;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeoutException;

/**
 * The Java half of the hand-off benchmark ({@code python/bench/trainer_bench.py}): a ring writer
 * with nothing before it, so that the figure is the ring's alone. It announces a ring as
 * {@code conveyor feed} does ({@code ring: {...}} on stdout), and once the reader has mapped it
 * publishes {@code batches} batches of {@code batchSize} 256×256×3 images — from four different
 * buffers, so that no two in a row are the same bytes — as fast as the reader releases slots.
 */
public final class HandoffBench {
  private static final int SIDE = 256;

  private HandoffBench() {}

  public static void run(PrintWriter out, Path dir, int batches, int batchSize, int slots) throws Exception {
    int bytes = batchSize * SIDE * SIDE * 3;
    List<ByteBuffer> images = new ArrayList<>();
    SplittableRandom random = new SplittableRandom(0);
    for (int i = 0; i < 4; i++) {
      byte[] b = new byte[bytes];
      for (int j = 0; j < b.length; j += 8) {
        b[j] = (byte) random.nextInt();
      }
      images.add(ByteBuffer.wrap(b));
    }
    long slot = (bytes + 65_536L + 4095) / 4096 * 4096;
    try (ShmRing ring = ShmRing.create(dir, "conveyor-ring-handoff-" + ProcessHandle.current().pid(), slots, slot)) {
      out.println(new RingTrainer.Announced(0, ring.file(), slots, slot, slots).line());
      out.flush();
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (!ring.readerAttached()) {
        if (System.nanoTime() > deadline) {
          throw new TimeoutException("no reader mapped " + ring.file() + " within 60 s");
        }
        Thread.sleep(1);
      }
      ring.unlink();
      List<String> keys = new ArrayList<>();
      for (int i = 0; i < batchSize; i++) {
        keys.add(String.format("%06d", i));
      }
      for (int n = 0; n < batches; n++) {
        ShmRing.Field f = new ShmRing.Field("images", "uint8", new int[] {batchSize, SIDE, SIDE, 3},
            images.get(n % images.size()).duplicate());
        ring.publish(new ShmRing.Batch("", keys, List.of(f)), Duration.ofSeconds(60));
      }
      ring.end();
      deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (ring.released() < batches && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
    }
  }
}
