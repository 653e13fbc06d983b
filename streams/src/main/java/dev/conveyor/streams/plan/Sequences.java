package dev.conveyor.streams.plan;

import java.util.ArrayList;
import java.util.List;

/** Operations on sequences of window slices: the remainder after a prefix, and sub-ranges. */
final class Sequences {
  private Sequences() {}

  static long length(List<WindowSlice> seq) {
    long n = 0;
    for (WindowSlice s : seq) {
      n += s.size();
    }
    return n;
  }

  /** {@code seq} without its first {@code n} positions. */
  static List<WindowSlice> drop(List<WindowSlice> seq, long n) {
    return cut(seq, n, Long.MAX_VALUE);
  }

  /** Positions {@code [from, from + n)} of {@code seq}, as slices. */
  static List<WindowSlice> cut(List<WindowSlice> seq, long from, long n) {
    List<WindowSlice> out = new ArrayList<>();
    long pos = 0;
    long end = n == Long.MAX_VALUE ? Long.MAX_VALUE : from + n;
    for (WindowSlice s : seq) {
      long sEnd = pos + s.size();
      long a = Math.max(from, pos);
      long b = Math.min(end, sEnd);
      if (a < b) {
        out.add(new WindowSlice(s.window(), s.from() + (a - pos), s.from() + (b - pos)));
      }
      pos = sEnd;
      if (pos >= end) {
        break;
      }
    }
    return out;
  }
}
