package dev.conveyor.workers.feeder;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.json.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A rank's trainer in another process: a thread that takes the rank's batches from its
 * {@link RankFeeder} and writes them into a {@link ShmRing} that the trainer maps. A batch
 * counts as delivered — reported to the feeder, which moves the cursor — when the trainer's
 * reader hands it to its caller, not when it is written, so the cursor a node saves matches the
 * one the trainer saves; skips are reported in their place between the batches.
 *
 * <p>The ring's file is made when the first batch is ready (its size sets the slot size unless
 * one is configured), announced, and removed as soon as the reader has mapped it. Its depth —
 * how far the writer runs ahead, and so the slots it uses — starts at {@link Settings#minDepth}
 * and follows the trainer's waits ({@link RingDepth}), up to the slots the byte budget holds.
 */
public final class RingTrainer {
  private static final Logger LOG = LoggerFactory.getLogger(RingTrainer.class);
  private static final long MIN_SLOT = 1L << 20;

  /**
   * Where rings go ({@code dir}), a slot's size (0: twice the first batch's), the bytes a ring may
   * take (0: a quarter of the folder's free space, at most 1 GiB, at least the starting depth's
   * slots), the depth it starts at, how long the trainer has to map the ring once announced, and
   * how long it may take no batch.
   */
  public record Settings(Path dir, long slotSize, long budgetBytes, int minDepth, Duration attachTimeout,
                         Duration patience) {
    public Settings {
      if (minDepth < 1) {
        throw new IllegalArgumentException("a ring's depth must be at least 1, got " + minDepth);
      }
    }

    /** /dev/shm where it exists, else the temp folder. */
    public static Path defaultDir() {
      Path shm = Path.of("/dev/shm");
      return Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
    }
  }

  private record Pending(boolean batch, Runnable report) {}

  /** What a trainer needs to map a ring: its file and geometry. */
  public record Announced(int rank, Path file, int slots, long slotSize, int depth) {
    /** The announcement as a trainer reads it: {@code ring: {"path": ..., "rank": ..., ...}}. */
    public String line() {
      return "ring: " + Json.compact(Json.object().put("path", file.toString()).put("rank", rank).put("slots", slots)
          .put("slot_size", slotSize).put("depth", depth));
    }
  }

  private final Settings settings;
  private final int rank;
  private final String name;
  private final RankFeeder feeder;
  private final Function<RawBatch, String> cursorAfter;
  private final Consumer<Announced> announce;
  private final BooleanSupplier readerAlive;
  private final TrainerHold hold;
  private final List<String> sources; // a mix's, by name in order (empty otherwise)
  /** Reports of what was written and not yet handed to the trainer, in order (they hold no batch). */
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  private volatile ShmRing ring;
  private long announcedNanos;
  private long reported; // batches reported as delivered
  private long handedAtFirst = -1;
  private long firstNanos;
  private double stallAtFirst;
  private long produceNanos; // the writer's time waiting for the pipeline's batches and laying them out
  private RingDepth depth;

  private RingTrainer(Settings settings, int rank, String name, RankFeeder feeder, Function<RawBatch, String> cursorAfter,
                      Consumer<Announced> announce, BooleanSupplier readerAlive, TrainerHold hold, List<String> sources) {
    this.settings = settings;
    this.hold = hold;
    this.sources = List.copyOf(sources);
    this.rank = rank;
    this.name = name;
    this.feeder = feeder;
    this.cursorAfter = cursorAfter;
    this.announce = announce;
    this.readerAlive = readerAlive;
  }

  /**
   * Starts rank {@code rank}'s writer, a daemon thread named {@code name}: batches from
   * {@code feeder}, each with {@code cursorAfter} it, into a ring announced to
   * {@code announce}; at the end it calls {@code ended} with the reason it failed, or empty
   * when the trainer had every batch. The trainer counts as gone when {@code readerAlive} says so.
   */
  public static RingTrainer start(Settings settings, String name, int rank, RankFeeder feeder,
                                  Function<RawBatch, String> cursorAfter, Consumer<Announced> announce,
                                  BooleanSupplier readerAlive, Consumer<Optional<String>> ended) {
    return start(settings, name, rank, feeder, cursorAfter, announce, readerAlive, ended, new TrainerHold(), List.of());
  }

  /**
   * As above, taking no batch past {@code hold} (a simulation's: the fault timed at a batch
   * strikes there), each slot saying what each of a mix's {@code sources} (by name) gave its batch.
   */
  public static RingTrainer start(Settings settings, String name, int rank, RankFeeder feeder,
                                  Function<RawBatch, String> cursorAfter, Consumer<Announced> announce,
                                  BooleanSupplier readerAlive, Consumer<Optional<String>> ended, TrainerHold hold,
                                  List<String> sources) {
    RingTrainer t = new RingTrainer(settings, rank, name, feeder, cursorAfter, announce, readerAlive, hold, sources);
    Thread th = new Thread(() -> ended.accept(t.run()), name);
    th.setDaemon(true);
    th.start();
    return t;
  }

  /** The trainer's wait for batches so far, in seconds, measured by its reader (from its second batch). */
  public double stallSeconds() {
    ShmRing r = ring;
    return r == null || handedAtFirst < 0 ? 0 : Math.max(0, r.readerStallSeconds() - stallAtFirst);
  }

  /** {@link #stallSeconds} ÷ wall time since the trainer had its first batch. */
  public double stall() {
    double wall = handedAtFirst < 0 ? 0 : (System.nanoTime() - firstNanos) / 1e9;
    return wall <= 0 ? 0 : Math.min(1, stallSeconds() / wall);
  }

  /** Batches written and not yet handed to the trainer: the ring's use. */
  public int ready() {
    ShmRing r = ring;
    return r == null ? 0 : (int) (r.published() - r.handed());
  }

  private Optional<String> run() {
    try {
      while (true) {
        awaitHold();
        long t0 = System.nanoTime();
        Optional<RankEvent> e = feeder.take(settings.patience());
        if (e.isEmpty() || !(e.get() instanceof RawBatch)) {
          hold.unreserve(); // the hold counts batches
        }
        if (e.isEmpty()) {
          break;
        }
        pending.add(new Pending(e.get() instanceof RawBatch, feeder.reportOf(e.get())));
        if (e.get() instanceof RawBatch b) {
          ShmRing.Batch slot = RingBatches.of(b, cursorAfter.apply(b), sources);
          if (ring == null) {
            open(slot);
          }
          produceNanos += System.nanoTime() - t0; // waiting for the pipeline and laying the batch out
          publish(slot);
          RingBatches.recycle(b);
        }
        reportHanded();
      }
      if (ring == null) {
        open(new ShmRing.Batch("", java.util.List.of(), java.util.List.of())); // no batch at all: the trainer still ends
      }
      ring.end();
      awaitHanded(ring.published());
      pending.forEach(p -> p.report().run()); // skips after the last batch
      pending.clear();
      return Optional.empty();
    } catch (IllegalStateException e) {
      String why = String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
      failRing(why);
      return Optional.of(why);
    } catch (TimeoutException | IllegalArgumentException | UncheckedIOException e) {
      failRing(e.getMessage());
      return Optional.of(e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failRing("the node stopped the rank");
      return Optional.of("interrupted");
    } finally {
      closeRing();
    }
  }

  /** Waits while the node's trainers are held, reporting meanwhile what the trainer takes from the ring. */
  private void awaitHold() throws InterruptedException {
    while (!hold.tryReserve(50)) {
      reportHanded();
      checkReader();
    }
  }

  /** Publishes {@code slot}, reporting what the trainer takes meanwhile; waits at most the patience. */
  private void publish(ShmRing.Batch slot) throws TimeoutException, InterruptedException {
    long deadline = System.nanoTime() + settings.patience().toNanos();
    while (true) {
      try {
        ring.publish(slot, Duration.ofMillis(50));
        return;
      } catch (TimeoutException full) {
        reportHanded();
        checkReader();
        if (System.nanoTime() > deadline) {
          throw tookNone();
        }
      }
    }
  }

  private void awaitHanded(long n) throws TimeoutException, InterruptedException {
    long deadline = System.nanoTime() + settings.patience().toNanos();
    while (ring.handed() < n) {
      reportHanded();
      checkReader();
      if (System.nanoTime() > deadline) {
        throw tookNone();
      }
      LockSupport.parkNanos(1_000_000);
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
    }
    reportHanded();
  }

  private TimeoutException tookNone() {
    return new TimeoutException("the trainer of rank " + rank + " took no batch for " + settings.patience().toSeconds()
        + " s");
  }

  private void checkReader() {
    if (!readerAlive.getAsBoolean()) {
      throw new IllegalStateException("the trainer of rank " + rank + " is gone");
    }
  }

  /** Reports the batches (and the skips before them) the trainer has been handed since the last call. */
  private void reportHanded() {
    if (ring == null) {
      return;
    }
    if (!ring.readerAttached()) {
      if (System.nanoTime() - announcedNanos > settings.attachTimeout().toNanos()) {
        throw new IllegalStateException("no trainer mapped the ring " + ring.file() + " within "
            + settings.attachTimeout().toSeconds() + " s");
      }
      return;
    }
    try {
      ring.unlink(); // both sides hold the memory now: a crash of either leaves nothing behind
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    long handed = ring.handed();
    while (reported < handed && !pending.isEmpty()) {
      Pending p = pending.poll();
      p.report().run();
      if (p.batch()) {
        reported++;
        if (handedAtFirst < 0) {
          handedAtFirst = reported;
          firstNanos = System.nanoTime();
          stallAtFirst = ring.readerStallSeconds();
        }
      }
    }
    if (handedAtFirst >= 0) {
      depth.handed(reported, stallSeconds(), produceNanos);
    }
  }

  private void open(ShmRing.Batch first) {
    try {
      long slot = settings.slotSize() > 0 ? settings.slotSize() : Math.max(MIN_SLOT, align(2 * bytes(first) + 65_536));
      long free = Files.getFileStore(settings.dir()).getUsableSpace();
      // by default a quarter of the free space, at most 1 GiB, and at least what the starting depth needs
      long budget = settings.budgetBytes() > 0 ? settings.budgetBytes()
          : Math.max(Math.min(1L << 30, free / 4), ShmRing.HEADER_BYTES + settings.minDepth() * slot);
      if (budget > free) {
        throw new IllegalArgumentException(String.format(Locale.ROOT, "the ring may take %,d bytes"
            + " (conveyor.node.trainer-ring.bytes) but %s has %,d free: lower it (0 takes a quarter of the free space),"
            + " or give the container more shared memory (docker run --shm-size=%dm, or a memory-backed emptyDir on"
            + " Kubernetes)", budget, settings.dir(), free, (budget >> 20) + 64));
      }
      long usable = Math.min(budget, ShmRing.MAX_FILE) - ShmRing.HEADER_BYTES;
      if (usable / slot < settings.minDepth()) {
        throw new IllegalArgumentException(String.format(Locale.ROOT, "a ring of %,d bytes holds fewer than %d"
            + " slots of %,d bytes: raise conveyor.node.trainer-ring.bytes (or give the folder %s more room), or lower"
            + " the batch size", budget, settings.minDepth(), slot, settings.dir()));
      }
      int slots = (int) Math.min(ShmRing.MAX_SLOTS, usable / slot);
      String file = "conveyor-ring-" + ProcessHandle.current().pid() + "-rank" + rank + "-" + System.nanoTime() % 1_000_000;
      ShmRing r = ShmRing.create(settings.dir(), file, slots, slot);
      r.depth(Math.min(settings.minDepth(), slots));
      ring = r;
      depth = new RingDepth(name, r);
      announcedNanos = System.nanoTime();
      LOG.info(String.format(Locale.ROOT, "%s: ring %s of %d slots x %,d bytes (budget %,d bytes of %,d free), depth %d"
          + " to start", name, r.file(), slots, slot, budget, free, r.depth()));
      announce.accept(new Announced(rank, r.file(), slots, slot, r.depth()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make the ring in " + settings.dir() + ": " + e.getMessage(), e);
    } catch (IllegalStateException e) {
      throw new IllegalArgumentException(e.getMessage(), e); // no room: a configuration to fix, not a stream failure
    }
  }

  private static long bytes(ShmRing.Batch b) {
    return b.fields().stream().mapToLong(ShmRing.Field::length).sum();
  }

  private static long align(long n) {
    return (n + 4095) / 4096 * 4096;
  }

  private void failRing(String why) {
    ShmRing r = ring;
    if (r != null) {
      r.fail(why);
    }
  }

  private void closeRing() {
    ShmRing r = ring;
    if (r != null) {
      try {
        r.close();
      } catch (IOException e) {
        LOG.warn("{}: closing the ring {}: {}", name, r.file(), e.getMessage());
      }
    }
  }
}
