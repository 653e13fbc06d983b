package dev.conveyor.orchestrator.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.cursor.Cursor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * The cursor a coordinator keeps, against what the ranks really delivered: for random
 * interleavings of the ranks' deliveries, a coordinator lost at a random point and a successor
 * that goes on from a cursor saved at another random point before it (plus where each rank
 * says it is), the cursor never counts a batch that was not delivered, never loses one that
 * was (within the epoch the cursor is in), and ends where an uninterrupted run ends.
 */
class CursorTrackerProperties {
  record Delivery(int rank, int epoch, long index) {}

  /** Each rank delivers every batch of every epoch in order; the ranks interleave at random. */
  static List<Delivery> interleaved(int world, int epochs, int batches, long seed) {
    Random rnd = new Random(seed);
    int[] next = new int[world];
    List<Delivery> out = new ArrayList<>();
    int total = epochs * batches;
    while (out.size() < world * total) {
      int r = rnd.nextInt(world);
      if (next[r] < total) {
        out.add(new Delivery(r, next[r] / batches, next[r] % batches));
        next[r]++;
      }
    }
    return out;
  }

  /** Checks {@code c} against the positions {@code done} (batches delivered by each rank, over all epochs). */
  static void holds(Cursor c, int[] done, int batches, String when) {
    for (int r = 0; r < done.length; r++) {
      long at = (long) c.epoch() * batches + c.current().batches(r);
      assertThat(at).as(when + ": rank " + r + " counted only what it delivered").isLessThanOrEqualTo(done[r]);
      assertThat(at).as(when + ": rank " + r + " lost nothing it delivered in the cursor's epoch")
          .isGreaterThanOrEqualTo(Math.min(done[r], (long) (c.epoch() + 1) * batches));
    }
  }

  @Property(tries = 300)
  void aCursorTakenOverAtAnyPointNeitherCountsTooMuchNorLosesAnything(
      @ForAll @IntRange(min = 1, max = 4) int world, @ForAll @IntRange(min = 1, max = 3) int epochs,
      @ForAll @IntRange(min = 1, max = 6) int batches, @ForAll long seed, @ForAll @IntRange(min = 0, max = 1000) int lostAt,
      @ForAll @IntRange(min = 0, max = 1000) int savedAt) {
    List<Delivery> all = interleaved(world, epochs, batches, seed);
    int lost = lostAt % (all.size() + 1);
    int saved = savedAt % (lost + 1);
    Cursor start = Cursor.start("f", world);
    CursorTracker first = new CursorTracker(start, false);
    int[] done = new int[world];
    Cursor save = start;
    // what each rank's node remembers: its last batch in each epoch (NodeAgent's record)
    Map<Integer, Map<Integer, Long>> last = new HashMap<>();
    for (int i = 0; i < lost; i++) {
      if (i == saved) {
        save = first.cursor();
      }
      Delivery d = all.get(i);
      first.delivered(d.rank(), d.epoch(), d.index());
      done[d.rank()]++;
      last.computeIfAbsent(d.rank(), r -> new HashMap<>()).merge(d.epoch(), d.index(), Math::max);
      holds(first.cursor(), done, batches, "before the loss, after " + (i + 1));
    }
    if (saved == lost) {
      save = first.cursor();
    }
    // the successor: the saved cursor, then each node's positions, then the rest as it comes
    CursorTracker next = new CursorTracker(save, false);
    last.forEach((rank, epochsOf) -> epochsOf.forEach((epoch, index) -> next.delivered(rank, epoch, index)));
    holds(next.cursor(), done, batches, "right after the take-over");
    for (int i = lost; i < all.size(); i++) {
      Delivery d = all.get(i);
      next.delivered(d.rank(), d.epoch(), d.index());
      done[d.rank()]++;
      holds(next.cursor(), done, batches, "after the take-over, after " + (i + 1));
      if (i % 3 == 0) {
        next.delivered(d.rank(), d.epoch(), Math.max(0, d.index() - 1)); // a late or repeated report
        holds(next.cursor(), done, batches, "after a late report");
      }
    }
    Cursor end = start.atEpoch(epochs - 1, world);
    for (int r = 0; r < world; r++) {
      end = end.withDelivered(r, batches);
    }
    assertThat(next.cursor()).as("where an uninterrupted run ends").isEqualTo(end);
  }
}
