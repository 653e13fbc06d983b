package dev.conveyor.workers.feeder;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.streams.json.Json;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * The writer's side of a ring of batch slots in a memory-mapped file, shared with one trainer
 * process that maps the same file (the Python package's reader). One writer thread, one
 * reader; the two synchronize only through two sequence numbers in the header: the writer
 * fills a free slot with batch {@code w}, notes the slot in the header's table at {@code w %
 * 1024}, and then publishes {@code w + 1} with release ordering; the reader acquires it, hands
 * the slot's batch out, and releases the slot by publishing its own count. A full ring holds the
 * writer back (back-pressure; memory is the file's, fixed). The writer uses only {@link #depth}
 * of the file's slots — it runs at most that many batches ahead, and reuses a slot as soon as
 * it is released — so the rest of the file is never written and takes no memory (a file in
 * /dev/shm takes memory only for the pages written): a ring starts shallow and deepens while it
 * runs, and its memory follows.
 *
 * <p>Layout, little-endian ({@link #FORMAT}; docs/formats.md, "The ring"):
 * <pre>
 *    0  magic "CVYRING1"          8  version u32 = 1      12  slots u32
 *   16  slot size u64             24  state u32 (0 open, 1 ended, 2 failed)
 *   28  reader attached u32 (the reader sets 1 once it has mapped the file)
 *   64  write sequence u64 (batches published)       128  read sequence u64 (slots released)
 *  192  failure message length u32, then its UTF-8 bytes (at most 3,900)
 * 4096  slot table: 1,024 u32, the slot holding batch w at 4096 + (w % 1024) * 4
 * 8192  slot 0; slot i at 8192 + i * slot size, each:
 *        0  sequence u64 (the batch's number)   8  header length u32
 *       12  header, UTF-8 JSON: {"cursor": ..., "keys": [...], "meta": {...},
 *                                  "fields": [{"name", "dtype", "shape", "offset", "length"}]}
 *        field data at the offsets given (from the slot's start), each aligned to 64 bytes
 * </pre>
 */
public final class ShmRing implements AutoCloseable {
  public static final String FORMAT = "CVYRING1";
  public static final int VERSION = 1;
  static final int HEADER_BYTES = 8192;
  static final int TABLE = 4096;
  static final int MAX_SLOTS = 1024;
  static final int STATE = 24;
  static final int ATTACHED = 28;
  static final int WRITE_SEQ = 64;
  static final int READ_SEQ = 128;
  static final int HANDED_SEQ = 136;
  static final int STALL_NANOS = 144;
  static final int MESSAGE = 192;
  static final int MAX_MESSAGE = 3900;
  static final int SLOT_PREFIX = 12;
  private static final int ALIGN = 64;
  static final long MAX_FILE = Integer.MAX_VALUE; // one mapping

  private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle INTS = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

  /**
   * One field of a batch: a tensor ({@code dtype} as numpy spells it, e.g. "uint8", and its
   * shape) whose bytes are {@code parts} one after the other (written to the slot without
   * gathering them first).
   */
  public record Field(String name, String dtype, int[] shape, List<ByteBuffer> parts) {
    public Field {
      parts = List.copyOf(parts);
    }

    public Field(String name, String dtype, int[] shape, ByteBuffer data) {
      this(name, dtype, shape, List.of(data));
    }

    public long length() {
      long n = 0;
      for (ByteBuffer b : parts) {
        n += b.remaining();
      }
      return n;
    }
  }

  /**
   * What a slot holds: the batch's fields, its samples' keys, the cursor after it, and what else
   * the reader is told about it ({@code meta}, a JSON object: epoch, step, texts...).
   */
  public record Batch(String cursor, List<String> keys, List<Field> fields, ObjectNode meta) {
    public Batch(String cursor, List<String> keys, List<Field> fields) {
      this(cursor, keys, fields, Json.object());
    }
  }

  private final Path file;
  private final int slots;
  private final long slotSize;
  private final FileChannel channel;
  private final MappedByteBuffer map;
  private long written; // batches published
  private volatile int depth; // slots the writer may fill ahead of the reader
  private int opened; // slots used so far (0 to opened - 1)
  private long reclaimed; // batches whose slots went back to the free list
  private final java.util.ArrayDeque<Integer> free = new java.util.ArrayDeque<>();
  private boolean removed;

  private ShmRing(Path file, int slots, long slotSize, FileChannel channel, MappedByteBuffer map) {
    this.file = file;
    this.slots = slots;
    this.slotSize = slotSize;
    this.channel = channel;
    this.map = map;
    this.depth = slots;
  }

  /**
   * Creates the ring's file {@code name} in {@code dir} ({@code /dev/shm} on Linux) with
   * {@code slots} slots of {@code slotSize} bytes. Fails before creating anything when the
   * folder has not the room, saying how to make it fit.
   */
  public static ShmRing create(Path dir, String name, int slots, long slotSize) throws IOException {
    if (slots < 1 || slots > MAX_SLOTS) {
      throw new IllegalArgumentException("a ring has 1 to " + MAX_SLOTS + " slots, got " + slots);
    }
    if (slotSize < 4096 || slotSize % ALIGN != 0) {
      throw new IllegalArgumentException("a slot's size must be a multiple of " + ALIGN + " and at least 4096 bytes, got "
          + slotSize);
    }
    long size = HEADER_BYTES + slots * slotSize;
    if (size > MAX_FILE) {
      throw new IllegalArgumentException(String.format(Locale.ROOT, "a ring of %d slots of %,d bytes is %,d bytes; at"
          + " most %,d fit one mapping: use fewer or smaller slots", slots, slotSize, size, MAX_FILE));
    }
    long free = Files.getFileStore(dir).getUsableSpace();
    if (size > free) {
      throw new IllegalStateException(String.format(Locale.ROOT, "the ring needs %,d bytes (%d slots of %,d) but %s has"
          + " %,d free: use fewer slots or smaller batches, or give the container more shared memory (docker run"
          + " --shm-size=%dm, or a memory-backed emptyDir on Kubernetes)", size, slots, slotSize, dir, free,
          (size >> 20) + 64));
    }
    Path file = dir.resolve(name);
    FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_WRITE, 0, size);
      map.order(ByteOrder.LITTLE_ENDIAN);
      map.put(0, FORMAT.getBytes(StandardCharsets.US_ASCII));
      map.putInt(8, VERSION);
      map.putInt(12, slots);
      map.putLong(16, slotSize);
      LONGS.setRelease(map, READ_SEQ, 0L);
      LONGS.setRelease(map, WRITE_SEQ, 0L);
      INTS.setRelease(map, STATE, 0);
      return new ShmRing(file, slots, slotSize, ch, map);
    } catch (IOException | RuntimeException e) {
      ch.close();
      Files.deleteIfExists(file);
      throw e;
    }
  }

  public Path file() {
    return file;
  }

  public int slots() {
    return slots;
  }

  public long slotSize() {
    return slotSize;
  }

  /** Slots the writer fills ahead of the reader at most (at most {@link #slots}). */
  public int depth() {
    return depth;
  }

  /** Lets the writer run {@code d} batches ahead, using that many slots (1 to {@link #slots}). */
  public void depth(int d) {
    if (d < 1 || d > slots) {
      throw new IllegalArgumentException("a ring of " + slots + " slots cannot run " + d + " ahead");
    }
    depth = d;
  }

  /** Batches the reader has handed to its caller (its current one included). */
  public long handed() {
    return (long) LONGS.getAcquire(map, HANDED_SEQ);
  }

  /** Time the reader has waited for a published batch, in seconds (its stall, measured where it happens). */
  public double readerStallSeconds() {
    return (long) LONGS.getAcquire(map, STALL_NANOS) / 1e9;
  }

  /** Whether the reader has mapped the file (then it can be removed: both sides hold the memory). */
  public boolean readerAttached() {
    return (int) INTS.getAcquire(map, ATTACHED) == 1;
  }

  /** Removes the file's name; both sides keep their mappings, and nothing is left behind if either dies. */
  public void unlink() throws IOException {
    if (!removed) {
      Files.deleteIfExists(file);
      removed = true;
    }
  }

  /** Batches the reader has released. */
  public long released() {
    return (long) LONGS.getAcquire(map, READ_SEQ);
  }

  public long published() {
    return written;
  }

  /**
   * Writes {@code batch} into the next slot and publishes it, waiting for the reader to release
   * a slot while the ring is full — at most {@code timeout}.
   *
   * @throws IllegalArgumentException when the batch cannot fit a slot (nothing is written)
   * @throws TimeoutException         when no slot came free in time
   */
  public void publish(Batch batch, Duration timeout) throws TimeoutException, InterruptedException {
    Layout layout = layout(batch);
    if (layout.end() > slotSize) {
      throw new IllegalArgumentException(String.format(Locale.ROOT, "a batch of %,d bytes does not fit a ring slot of"
          + " %,d bytes: give the ring larger slots", layout.end(), slotSize));
    }
    awaitFreeSlot(timeout);
    int slot = free.isEmpty() ? opened++ : free.poll();
    int base = Math.toIntExact(HEADER_BYTES + slot * slotSize);
    map.putLong(base, written);
    map.putInt(base + 8, layout.header().length);
    map.put(base + SLOT_PREFIX, layout.header());
    for (int i = 0; i < batch.fields().size(); i++) {
      int at = Math.toIntExact(base + layout.offsets()[i]);
      for (ByteBuffer src : batch.fields().get(i).parts()) {
        map.put(at, src, src.position(), src.remaining());
        at += src.remaining();
      }
    }
    map.putInt(TABLE + (int) (written % MAX_SLOTS) * 4, slot);
    written++;
    LONGS.setRelease(map, WRITE_SEQ, written);
  }

  private void awaitFreeSlot(Duration timeout) throws TimeoutException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long park = 1_000; // ns, doubling to 1 ms: a reader that keeps up is met at once, an idle one costs little
    while (!slotFree()) {
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("the trainer has not taken a batch for " + timeout.toSeconds() + " s (the ring's "
            + depth + " slots in use are full)");
      }
      LockSupport.parkNanos(park);
      park = Math.min(park * 2, 1_000_000);
    }
  }

  /** Whether a slot is free: the released ones go back to the free list first. */
  private boolean slotFree() {
    long read = (long) LONGS.getAcquire(map, READ_SEQ);
    for (; reclaimed < read; reclaimed++) {
      free.add(map.getInt(TABLE + (int) (reclaimed % MAX_SLOTS) * 4));
    }
    return written - read < depth && (!free.isEmpty() || opened < depth);
  }

  /** A slot's header (UTF-8 JSON), where each field's bytes go, and where the last one ends (the bytes it needs). */
  private record Layout(byte[] header, long[] offsets, long end) {}

  /**
   * The slot header — where each field lies, the keys, the cursor — and the fields after it.
   * The fields' offsets depend on the header's length, which depends on them: the data starts
   * past the header without offsets plus room for them (32 characters each).
   */
  private static Layout layout(Batch batch) {
    ObjectNode h = Json.object().put("cursor", batch.cursor());
    h.set("keys", Json.strings(batch.keys()));
    h.set("meta", batch.meta());
    ArrayNode fields = h.putArray("fields");
    for (Field f : batch.fields()) {
      ObjectNode o = fields.addObject().put("name", f.name()).put("dtype", f.dtype());
      ArrayNode shape = o.putArray("shape");
      long elements = 1;
      for (int d : f.shape()) {
        shape.add(d);
        elements *= d;
      }
      o.put("length", f.length());
      if (elements * itemSize(f.dtype()) != f.length()) {
        throw new IllegalArgumentException("field " + f.name() + ": shape " + java.util.Arrays.toString(f.shape())
            + " of " + f.dtype() + " is not its " + f.length() + " bytes");
      }
    }
    int n = batch.fields().size();
    long offset = align(SLOT_PREFIX + Json.compact(h).getBytes(StandardCharsets.UTF_8).length + 32L * n);
    long[] offsets = new long[n];
    for (int i = 0; i < n; i++) {
      offsets[i] = offset;
      ((ObjectNode) fields.get(i)).put("offset", offset);
      offset = align(offset + batch.fields().get(i).length());
    }
    byte[] header = Json.compact(h).getBytes(StandardCharsets.UTF_8);
    if (n > 0 && SLOT_PREFIX + header.length > offsets[0]) {
      throw new IllegalStateException("a slot's header outgrew the room kept for it");
    }
    return new Layout(header, offsets, n == 0 ? align(SLOT_PREFIX + header.length) : offset);
  }

  private static int itemSize(String dtype) {
    return switch (dtype) {
      case "uint8", "int8", "bool" -> 1;
      case "int16", "uint16", "float16" -> 2;
      case "int32", "uint32", "float32" -> 4;
      case "int64", "uint64", "float64" -> 8;
      default -> throw new IllegalArgumentException("unknown dtype " + dtype);
    };
  }

  private static long align(long n) {
    return (n + ALIGN - 1) / ALIGN * ALIGN;
  }

  /** No more batches: the reader ends its iteration after the ones published. */
  public void end() {
    INTS.setRelease(map, STATE, 1);
  }

  /** The stream failed: the reader raises {@code why} after the batches published. */
  public void fail(String why) {
    byte[] m = why.getBytes(StandardCharsets.UTF_8);
    int n = Math.min(m.length, MAX_MESSAGE);
    map.putInt(MESSAGE, n);
    map.put(MESSAGE + 4, m, 0, n);
    INTS.setRelease(map, STATE, 2);
  }

  /** Unmaps nothing (the mapping goes with the buffer) but closes the file and removes its name. */
  @Override
  public void close() throws IOException {
    try {
      channel.close();
    } finally {
      unlink();
    }
  }
}
