package dev.conveyor.streams.plan;

/**
 * The unit a rank reads and shuffles: the samples at global offsets {@code [start, end)} of
 * {@code epoch}, which lie in a few consecutive shards of that epoch's order (at most the
 * recipe's window-shards, the first and last maybe in part). In a mix, the offsets are those of
 * source {@code source}'s pass {@code pass} through its own shards (both 0 otherwise). Its
 * sample order is a pure function of the recipe and the window (see {@link WindowShuffle}).
 */
public record Window(int epoch, int source, int pass, long start, long end) {
  /** A window of a recipe that mixes nothing (source 0, its only pass). */
  public Window(int epoch, long start, long end) {
    this(epoch, 0, 0, start, end);
  }

  public long size() {
    return end - start;
  }
}
