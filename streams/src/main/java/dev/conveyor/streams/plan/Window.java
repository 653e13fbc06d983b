package dev.conveyor.streams.plan;

/**
 * The unit a rank reads and shuffles: the samples at global offsets {@code [start, end)} of
 * {@code epoch}, which lie in a few consecutive shards of that epoch's order (at most the
 * recipe's window-shards, the first and last maybe in part). Its sample order is a pure
 * function of the recipe and the window (see {@link WindowShuffle}).
 */
public record Window(int epoch, long start, long end) {
  public long size() {
    return end - start;
  }
}
