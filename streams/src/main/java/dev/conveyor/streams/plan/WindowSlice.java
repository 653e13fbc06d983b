package dev.conveyor.streams.plan;

/**
 * Positions {@code [from, to)} of a window's sample order: what one rank delivers from that
 * window (all of it, or the part left after a resume or taken by an elastic re-split).
 */
public record WindowSlice(Window window, long from, long to) {
  public WindowSlice {
    if (from < 0 || to < from || to > window.size()) {
      throw new IllegalArgumentException("slice [" + from + ", " + to + ") outside window of " + window.size());
    }
  }

  public long size() {
    return to - from;
  }
}
