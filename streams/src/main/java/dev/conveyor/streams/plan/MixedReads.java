package dev.conveyor.streams.plan;

import java.util.ArrayList;
import java.util.List;

/**
 * What one rank reads of each source of a mix in one segment: {@code sequences.get(s)} is the
 * whole of source {@code s}'s share for the segment's batches, in order, from the segment's first
 * batch. The rank's stream is the batches' shares one after another ({@link MixPositions});
 * delivery starts at its position {@code firstSlot} — a batch's first with fixed batches, any
 * with full ones — so each source's reading starts where the positions before it left it.
 */
public record MixedReads(Mix mix, int batch, long firstSlot, List<List<WindowSlice>> sequences) {
  public MixedReads {
    List<List<WindowSlice>> copy = new ArrayList<>(sequences.size());
    sequences.forEach(s -> copy.add(List.copyOf(s)));
    sequences = List.copyOf(copy);
  }

  /** The batch (the schedule's group) position {@code firstSlot} is in. */
  public long firstBatch() {
    return firstSlot / batch;
  }

  /** The batches' composition from batch {@link #firstBatch} on. */
  public Mix.Schedule schedule() {
    Mix.Schedule s = mix.schedule(batch);
    s.advanceTo(firstBatch());
    return s;
  }

  /** Each position's source, from {@code firstSlot} on. */
  public MixPositions.Walk walk() {
    return new MixPositions.Walk(mix, batch, firstSlot);
  }

  /** Samples of source {@code s} the positions before {@code firstSlot} took: where its reading starts. */
  public long firstPosition(int s) {
    return MixPositions.before(mix, batch, firstSlot)[s];
  }

  /** Samples of source {@code s} its share of batch {@link #firstBatch} gave before {@code firstSlot}. */
  public long firstShareTaken(int s) {
    return firstPosition(s) - mix.taken(batch, firstBatch())[s];
  }

  /** What is left to read of source {@code s}. */
  public List<WindowSlice> toRead(int s) {
    return Sequences.drop(sequences.get(s), firstPosition(s));
  }
}
