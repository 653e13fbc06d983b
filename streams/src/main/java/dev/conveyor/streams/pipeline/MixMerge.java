package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.plan.Mix;
import dev.conveyor.streams.plan.MixedReads;
import dev.conveyor.streams.plan.RankSegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.NotUsed;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A mixed segment's batches from its sources' events: each source's events (numbered from the
 * start of its sequence) are cut into the {@link Mix.Schedule}'s share of every batch, the
 * shares of one batch are taken together, source by source, and their slots renumbered as the
 * batch's positions — {@code [k*B, (k+1)*B)}, the first from the segment's first slot — so that
 * the batcher cuts them as it cuts any segment's. A source that gives more samples than its shares fails the stream, saying so; one that
 * gives fewer ends the merge, and the batcher fails it, counting the positions that came.
 */
final class MixMerge {
  private MixMerge() {}

  /** The events of {@code seg}'s batches, in plan order, from {@code sources}' events (one stream per source). */
  static Source<ReadEvent, NotUsed> merge(RankSegment seg, List<Source<ReadEvent, NotUsed>> sources) {
    MixedReads m = seg.mixed().orElseThrow();
    List<Source<List<ReadEvent>, ?>> shares = new ArrayList<>(sources.size());
    for (int s = 0; s < sources.size(); s++) {
      int source = s;
      shares.add(sources.get(s)
          .statefulMap(() -> new Shares(m, source, seg), (c, e) -> Pair.create(c, c.add(e)),
              c -> Optional.of(c.finish()))
          .mapConcat(l -> l));
    }
    return Source.zipN(shares).zipWithIndex().mapConcat(p -> {
      long k = m.firstBatch() + p.second();
      long position = p.second() == 0 ? m.firstSlot() : k * seg.batch(); // the first batch's share may have begun
      List<ReadEvent> batch = new ArrayList<>(seg.batch());
      for (List<ReadEvent> share : p.first()) {
        for (ReadEvent e : share) {
          batch.add(e instanceof ReadEvent.Slot slot ? new ReadEvent.Slot(position++, slot.record()) : e);
        }
      }
      return batch;
    });
  }

  /** One source's events cut into its share of each batch, from the segment's first batch to its last. */
  private static final class Shares {
    private final Mix.Schedule schedule;
    private final int source;
    private final long steps;
    private final String where;
    private long k;
    private int need;
    private int slots;
    private List<ReadEvent> current = new ArrayList<>();

    Shares(MixedReads m, int source, RankSegment seg) {
      this.schedule = m.schedule();
      this.source = source;
      this.steps = seg.steps();
      this.where = "epoch " + seg.epoch() + ", rank " + seg.rank() + " of " + seg.world() + ": ";
      this.k = m.firstBatch();
      // a segment that starts inside a batch (full batches) reads the rest of that batch's share
      this.need = k < steps ? schedule.next()[source] - (int) m.firstShareTaken(source) : 0;
    }

    /** The shares {@code e} completes (and the empty ones after them). */
    List<List<ReadEvent>> add(ReadEvent e) {
      List<List<ReadEvent>> out = new ArrayList<>(1);
      full(out);
      if (k >= steps && e instanceof ReadEvent.Slot) {
        throw new IllegalStateException(where + "source " + source + " gave more samples than its shares of " + steps + " batches");
      }
      current.add(e);
      if (e instanceof ReadEvent.Slot) {
        slots++;
      }
      full(out);
      return out;
    }

    /**
     * The rest of the shares, once the source's events have ended (or the batches were cancelled,
     * the stream stopped at max-steps). A source that ended short leaves its last share
     * unfinished: the merge ends there, and the batcher says how many positions came.
     */
    List<List<ReadEvent>> finish() {
      List<List<ReadEvent>> out = new ArrayList<>();
      full(out);
      if (k >= steps && !current.isEmpty() && !out.isEmpty()) {
        out.get(out.size() - 1).addAll(current); // reports after the last share: with the last batch
      }
      return out;
    }

    /** Emits the current share while it is full (an empty share is full at once). */
    private void full(List<List<ReadEvent>> out) {
      while (k < steps && slots == need) {
        out.add(current);
        current = new ArrayList<>();
        slots = 0;
        k++;
        need = k < steps ? schedule.next()[source] : 0;
      }
    }
  }
}
