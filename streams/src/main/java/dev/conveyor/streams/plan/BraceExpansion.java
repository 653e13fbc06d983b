package dev.conveyor.streams.plan;

import java.util.ArrayList;
import java.util.List;

/**
 * Expands shard patterns the way shells and WebDataset do: {@code {000000..000015}} is a
 * numeric range (zero-padded to the width of its bounds) and {@code {a,b}} a list of
 * alternatives; several braces multiply, left to right. Braces do not nest.
 */
public final class BraceExpansion {
  /** More names than this is almost certainly a typo in a range. */
  static final long MAX_NAMES = 10_000_000;

  private BraceExpansion() {}

  /** All names {@code pattern} stands for, in order; a pattern without braces is itself. */
  public static List<String> expand(String pattern) {
    List<String> out = new ArrayList<>();
    out.add("");
    int i = 0;
    while (i < pattern.length()) {
      int open = pattern.indexOf('{', i);
      int close = pattern.indexOf('}', i);
      if (open < 0) {
        if (close >= 0) {
          throw new IllegalArgumentException("unbalanced '}' at position " + close + " in \"" + pattern + "\"");
        }
        out = append(out, List.of(pattern.substring(i)), pattern);
        break;
      }
      if (close >= 0 && close < open) {
        throw new IllegalArgumentException("unbalanced '}' at position " + close + " in \"" + pattern + "\"");
      }
      int end = pattern.indexOf('}', open);
      if (end < 0) {
        throw new IllegalArgumentException("unclosed '{' at position " + open + " in \"" + pattern + "\"");
      }
      String body = pattern.substring(open + 1, end);
      if (body.indexOf('{') >= 0) {
        throw new IllegalArgumentException("nested braces are not supported in \"" + pattern + "\"");
      }
      out = append(out, List.of(pattern.substring(i, open)), pattern);
      out = append(out, alternatives(body, pattern), pattern);
      i = end + 1;
    }
    return out;
  }

  private static List<String> alternatives(String body, String pattern) {
    int dots = body.indexOf("..");
    if (dots >= 0 && body.indexOf(',') < 0) {
      return range(body.substring(0, dots), body.substring(dots + 2), pattern);
    }
    List<String> alts = List.of(body.split(",", -1));
    if (alts.size() < 2) {
      throw new IllegalArgumentException("\"{" + body + "}\" in \"" + pattern + "\" is neither a range {a..b} nor a list {a,b}");
    }
    return alts;
  }

  private static List<String> range(String from, String to, String pattern) {
    long a;
    long b;
    try {
      a = Long.parseLong(from);
      b = Long.parseLong(to);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("range {" + from + ".." + to + "} in \"" + pattern + "\" needs whole numbers");
    }
    if (b < a) {
      throw new IllegalArgumentException("range {" + from + ".." + to + "} in \"" + pattern + "\" runs backwards");
    }
    if (b - a + 1 > MAX_NAMES) {
      throw new IllegalArgumentException("range {" + from + ".." + to + "} in \"" + pattern + "\" has more than " + MAX_NAMES + " names");
    }
    int width = (from.startsWith("0") && from.length() > 1) || (to.startsWith("0") && to.length() > 1)
        ? Math.max(from.length(), to.length()) : 0;
    List<String> out = new ArrayList<>((int) (b - a + 1));
    for (long v = a; v <= b; v++) {
      String s = Long.toString(v);
      out.add(s.length() < width ? "0".repeat(width - s.length()) + s : s);
    }
    return out;
  }

  private static List<String> append(List<String> prefixes, List<String> suffixes, String pattern) {
    if ((long) prefixes.size() * suffixes.size() > MAX_NAMES) {
      throw new IllegalArgumentException("\"" + pattern + "\" expands to more than " + MAX_NAMES + " names");
    }
    List<String> out = new ArrayList<>(prefixes.size() * suffixes.size());
    for (String p : prefixes) {
      for (String s : suffixes) {
        out.add(p + s);
      }
    }
    return out;
  }
}
