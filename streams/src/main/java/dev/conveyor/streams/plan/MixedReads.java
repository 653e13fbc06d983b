package dev.conveyor.streams.plan;

import java.util.ArrayList;
import java.util.List;

/**
 * What one rank reads of each source of a mix in one segment: {@code sequences.get(s)} is the
 * whole of source {@code s}'s share for the segment's batches, in order, from the segment's first
 * batch; delivery starts at batch {@code firstBatch}, so each source's reading starts where the
 * batches before it left it ({@link Mix#taken}). Batch {@code k} takes the next
 * {@link Mix.Schedule} counts of every source, source by source.
 */
public record MixedReads(Mix mix, int batch, long firstBatch, List<List<WindowSlice>> sequences) {
  public MixedReads {
    List<List<WindowSlice>> copy = new ArrayList<>(sequences.size());
    sequences.forEach(s -> copy.add(List.copyOf(s)));
    sequences = List.copyOf(copy);
  }

  /** The batches' composition from batch {@code firstBatch} on. */
  public Mix.Schedule schedule() {
    Mix.Schedule s = mix.schedule(batch);
    s.advanceTo(firstBatch);
    return s;
  }

  /** Samples of source {@code s} the batches before {@code firstBatch} took: where its reading starts. */
  public long firstPosition(int s) {
    return mix.taken(batch, firstBatch)[s];
  }

  /** What is left to read of source {@code s}. */
  public List<WindowSlice> toRead(int s) {
    return Sequences.drop(sequences.get(s), firstPosition(s));
  }
}
