package dev.conveyor.workers.feeder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.streams.json.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared-memory ring: batches come out in order and intact through more batches than
 * slots, a batch larger than a slot is refused before anything is written, a reader that does
 * not release holds the writer back, and the Python package's reader reads what the writer
 * wrote, without a copy, from a file already removed.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ShmRingTest {
  @TempDir
  Path dir;

  /** Batch {@code n}: 2 x 8 x 8 x 3 pseudo-random bytes, two int64 labels, keys and cursor named by n. */
  static ShmRing.Batch batch(int n) {
    byte[] rgb = new byte[2 * 8 * 8 * 3];
    new SplittableRandom(n).nextBytes(rgb);
    ByteBuffer labels = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(n).putLong(-n);
    return new ShmRing.Batch("cursor-" + n, List.of("k" + n + "a", "k" + n + "b"), List.of(
        new ShmRing.Field("images", "uint8", new int[] {2, 8, 8, 3}, ByteBuffer.wrap(rgb)),
        new ShmRing.Field("label", "int64", new int[] {2}, labels.flip())));
  }

  static String sha(ByteBuffer b) throws Exception {
    MessageDigest d = MessageDigest.getInstance("SHA-256");
    d.update(b.duplicate());
    return HexFormat.of().formatHex(d.digest());
  }

  /** A reader in Java, as the Python one reads: the next batch's header and its first field's bytes, then release. */
  static final class Reader {
    final MappedByteBuffer map;
    final int slots;
    final long slotSize;
    long read;
    boolean holding;

    Reader(Path file) throws IOException {
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        map = ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size());
      }
      map.order(ByteOrder.LITTLE_ENDIAN);
      slots = map.getInt(12);
      slotSize = map.getLong(16);
    }

    boolean ready() {
      return map.getLong(ShmRing.WRITE_SEQ) > read;
    }

    JsonNode header() {
      int base = (int) (ShmRing.HEADER_BYTES + map.getInt(ShmRing.TABLE + (int) (read % 1024) * 4) * slotSize);
      assertThat(map.getLong(base)).as("the slot's batch number").isEqualTo(read);
      byte[] h = new byte[map.getInt(base + 8)];
      map.get(base + ShmRing.SLOT_PREFIX, h);
      return Json.parse(new String(h, StandardCharsets.UTF_8));
    }

    ByteBuffer field(JsonNode header, int i) {
      int base = (int) (ShmRing.HEADER_BYTES + map.getInt(ShmRing.TABLE + (int) (read % 1024) * 4) * slotSize);
      JsonNode f = header.path("fields").get(i);
      return map.slice(base + f.path("offset").asInt(), f.path("length").asInt());
    }

    void release() {
      read++;
      map.putLong(ShmRing.READ_SEQ, read);
    }

    /** Says it has mapped the ring, as the Python reader does. */
    Reader attach() {
      map.putInt(ShmRing.ATTACHED, 1);
      return this;
    }

    /**
     * As the Python reader hands batches out: gives back the batch it holds, waits for the next,
     * and counts it handed; false once the writer ended and every batch was taken.
     */
    boolean handOut() throws InterruptedException {
      if (holding) {
        release();
        holding = false;
      }
      while (!ready()) {
        if (map.getInt(ShmRing.STATE) != 0 && !ready()) {
          return false;
        }
        Thread.sleep(1);
      }
      holding = true;
      map.putLong(ShmRing.HANDED_SEQ, read + 1);
      return true;
    }

    long published() {
      return map.getLong(ShmRing.WRITE_SEQ);
    }
  }

  /** Debian's python3 running {@code script} on {@code ring} with this repository's package on its path. */
  static Process python(String script, Path ring) throws IOException {
    Path python = Path.of("/usr/bin/python3");
    assertThat(python).as("Debian's python3 (.ci/run installs python3-numpy)").exists();
    ProcessBuilder pb = new ProcessBuilder(python.toString(), "-c", script, ring.toString());
    pb.environment().put("PYTHONPATH", Path.of("..", "python").toAbsolutePath().normalize().toString());
    return pb.redirectErrorStream(true).start();
  }

  @Test
  void batchesComeOutInOrderAndIntactThroughMoreBatchesThanSlots() throws Exception {
    try (ShmRing ring = ShmRing.create(dir, "ring", 3, 4096)) {
      Reader reader = new Reader(ring.file());
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        try {
          for (int n = 0; n < 10; n++) {
            ring.publish(batch(n), Duration.ofSeconds(30));
          }
          ring.end();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      for (int n = 0; n < 10; n++) {
        while (!reader.ready()) {
          Thread.onSpinWait();
        }
        JsonNode h = reader.header();
        assertThat(h.path("cursor").asText()).isEqualTo("cursor-" + n);
        assertThat(h.path("keys").toString()).isEqualTo("[\"k" + n + "a\",\"k" + n + "b\"]");
        assertThat(sha(reader.field(h, 0))).isEqualTo(sha(batch(n).fields().get(0).parts().get(0)));
        assertThat(reader.field(h, 1).order(ByteOrder.LITTLE_ENDIAN).getLong(8)).isEqualTo(-n);
        reader.release();
      }
      writer.get(30, TimeUnit.SECONDS);
      assertThat(ring.published()).isEqualTo(10);
      assertThat(ring.released()).isEqualTo(10);
    }
  }

  @Test
  void aBatchLargerThanASlotIsRefusedBeforeAnythingIsWritten() throws Exception {
    try (ShmRing ring = ShmRing.create(dir, "ring", 2, 4096)) {
      ShmRing.Batch big = new ShmRing.Batch("c", List.of("k"), List.of(
          new ShmRing.Field("images", "uint8", new int[] {1, 64, 64, 3}, ByteBuffer.allocate(64 * 64 * 3))));
      assertThatThrownBy(() -> ring.publish(big, Duration.ofSeconds(1)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("does not fit a ring slot of 4,096 bytes");
      assertThat(ring.published()).isZero();
      ShmRing.Batch wrongShape = new ShmRing.Batch("c", List.of("k"), List.of(
          new ShmRing.Field("label", "int64", new int[] {3}, ByteBuffer.allocate(16))));
      assertThatThrownBy(() -> ring.publish(wrongShape, Duration.ofSeconds(1))).hasMessageContaining("is not its 16 bytes");
    }
  }

  @Test
  void aShallowRingHoldsTheWriterAtItsDepthAndDeepensWhileRunning() throws Exception {
    try (ShmRing ring = ShmRing.create(dir, "ring", 4, 4096)) {
      ring.depth(2);
      new Reader(ring.file());
      ring.publish(batch(0), Duration.ofSeconds(1));
      ring.publish(batch(1), Duration.ofSeconds(1));
      assertThatThrownBy(() -> ring.publish(batch(2), Duration.ofMillis(100)))
          .isInstanceOf(TimeoutException.class).hasMessageContaining("2 slots in use are full");
      ring.depth(3);
      ring.publish(batch(2), Duration.ofSeconds(1)); // the third slot, with nothing released
      assertThat(ring.published()).isEqualTo(3);
      assertThat(slotOf(ring, 2)).isEqualTo(2);
      assertThatThrownBy(() -> ring.depth(5)).hasMessageContaining("cannot run 5 ahead");
    }
  }

  @Test
  void aRingUsesNoMoreSlotsThanItsDepthSoItsMemoryFollowsTheDepth() throws Exception {
    try (ShmRing ring = ShmRing.create(dir, "ring", 8, 4096)) {
      ring.depth(2);
      Reader reader = new Reader(ring.file());
      java.util.Set<Integer> used = new java.util.TreeSet<>();
      for (int n = 0; n < 20; n++) {
        ring.publish(batch(n), Duration.ofSeconds(1)); // the reader holds one batch: two in use at once
        used.add(slotOf(ring, n));
        if (n > 0) {
          assertThat(reader.header().path("cursor").asText()).isEqualTo("cursor-" + (n - 1));
          reader.release();
        }
      }
      assertThat(used).containsExactly(0, 1); // 20 batches through 2 of the 8 slots
      long size = Files.size(ring.file());
      assertThat(size).isEqualTo(ShmRing.HEADER_BYTES + 8 * 4096L);
    }
  }

  private static int slotOf(ShmRing ring, long batch) throws IOException {
    try (FileChannel ch = FileChannel.open(ring.file(), StandardOpenOption.READ)) {
      return ch.map(FileChannel.MapMode.READ_ONLY, 0, ShmRing.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN)
          .getInt(ShmRing.TABLE + (int) (batch % 1024) * 4);
    }
  }

  @Test
  void aReaderThatDoesNotReleaseHoldsTheWriterBack() throws Exception {
    try (ShmRing ring = ShmRing.create(dir, "ring", 2, 4096)) {
      Reader reader = new Reader(ring.file());
      ring.publish(batch(0), Duration.ofSeconds(1));
      ring.publish(batch(1), Duration.ofSeconds(1));
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> ring.publish(batch(2), Duration.ofMillis(300)))
          .isInstanceOf(TimeoutException.class).hasMessageContaining("2 slots in use are full");
      assertThat((System.nanoTime() - t0) / 1e6).isGreaterThanOrEqualTo(300);
      assertThat(ring.published()).isEqualTo(2);
      CompletableFuture<Void> third = CompletableFuture.runAsync(() -> {
        try {
          ring.publish(batch(2), Duration.ofSeconds(30));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      Thread.sleep(200);
      assertThat(third).isNotDone(); // still held back
      reader.release();
      third.get(10, TimeUnit.SECONDS);
      assertThat(ring.published()).isEqualTo(3);
    }
  }

  @Test
  void theRingRefusesSizesItCannotHoldSayingWhy() {
    assertThatThrownBy(() -> ShmRing.create(dir, "r", 0, 4096)).hasMessageContaining("a ring has 1 to 1024 slots, got 0");
    assertThatThrownBy(() -> ShmRing.create(dir, "r", 1025, 4096)).hasMessageContaining("a ring has 1 to 1024 slots");
    assertThatThrownBy(() -> ShmRing.create(dir, "r", 2, 5000)).hasMessageContaining("multiple of 64");
    assertThatThrownBy(() -> ShmRing.create(dir, "r", 1024, 4L << 20)).hasMessageContaining("use fewer or smaller slots");
  }

  @Test
  void thePythonReaderReadsEveryBatchWithoutACopyFromAFileAlreadyRemoved() throws Exception {
    String script = String.join("\n",
        "import hashlib, json, sys",
        "from conveyor._ring import Ring",
        "ring = Ring(sys.argv[1])",
        "print('attached', flush=True)",
        "while True:",
        "    b = ring.next(timeout=30)",
        "    if b is None:",
        "        break",
        "    img = b.fields['images']",
        "    assert img.base is not None and not img.flags['OWNDATA'], 'a copy'",
        "    print(json.dumps({'cursor': b.cursor, 'keys': b.keys, 'shape': list(img.shape),",
        "        'sha': hashlib.sha256(img.tobytes()).hexdigest(), 'labels': b.fields['label'].tolist()}), flush=True)",
        "    del img, b",
        "ring.close()",
        "print('end', flush=True)");
    try (ShmRing ring = ShmRing.create(dir, "ring", 2, 4096)) {
      Process p = python(script, ring.file());
      var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      assertThat(out.readLine()).isEqualTo("attached");
      assertThat(ring.readerAttached()).isTrue();
      ring.unlink(); // both sides have it mapped: nothing is left behind, whoever dies
      assertThat(Files.exists(ring.file())).isFalse();
      for (int n = 0; n < 7; n++) { // more batches than slots: the reader releases as it goes
        ring.publish(batch(n), Duration.ofSeconds(30));
      }
      ring.end();
      List<String> lines = new ArrayList<>();
      for (String l = out.readLine(); l != null && !l.equals("end"); l = out.readLine()) {
        lines.add(l);
      }
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(String.join("\n", lines)).isZero();
      assertThat(lines).hasSize(7);
      for (int n = 0; n < 7; n++) {
        JsonNode j = Json.parse(lines.get(n));
        assertThat(j.path("cursor").asText()).isEqualTo("cursor-" + n);
        assertThat(j.path("keys").toString()).isEqualTo("[\"k" + n + "a\",\"k" + n + "b\"]");
        assertThat(j.path("shape").toString()).isEqualTo("[2,8,8,3]");
        assertThat(j.path("sha").asText()).isEqualTo(sha(batch(n).fields().get(0).parts().get(0)));
        assertThat(j.path("labels").toString()).isEqualTo("[" + n + "," + (-n) + "]");
      }
    }
  }

  @Test
  void aFailedStreamReachesThePythonReaderAsItsReason() throws Exception {
    String script = String.join("\n",
        "import sys",
        "from conveyor._ring import Ring, RingFailed",
        "ring = Ring(sys.argv[1])",
        "b = ring.next(timeout=30)",
        "print(b.cursor, flush=True)",
        "del b",
        "try:",
        "    ring.next(timeout=30)",
        "except RingFailed as e:",
        "    print('failed:', e, flush=True)");
    try (ShmRing ring = ShmRing.create(dir, "ring", 2, 4096)) {
      ring.publish(batch(0), Duration.ofSeconds(1));
      ring.fail("shard s3://b/x.tar: access denied");
      Process p = python(script, ring.file());
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(out).isEqualTo("cursor-0\nfailed: shard s3://b/x.tar: access denied\n");
    }
  }
}
