package dev.conveyor.streams.sample;

import java.util.Optional;

/**
 * The WebDataset naming rule: a member's key is its path up to the first dot of the basename,
 * and its extension is the rest ({@code a/b/000001.seg.jpg} is key {@code a/b/000001}, extension
 * {@code seg.jpg}). Paths that could escape a directory, and names with no usable key or
 * extension, are refused with a reason.
 */
public final class WebDatasetKeys {
  private WebDatasetKeys() {}

  /** A member name split by the rule. */
  public record Split(String key, String ext) {}

  /** Splits {@code path}, or returns why the member cannot belong to a sample. */
  public static Optional<Split> split(String path, StringBuilder whyNot) {
    String p = path;
    while (p.startsWith("./")) {
      p = p.substring(2);
    }
    if (p.startsWith("/") || p.equals("..") || p.startsWith("../") || p.contains("/../") || p.endsWith("/..")) {
      whyNot.append("unsafe path (absolute or with ..): skipped");
      return Optional.empty();
    }
    int slash = p.lastIndexOf('/');
    String base = p.substring(slash + 1);
    int dot = base.indexOf('.');
    if (dot < 0) {
      whyNot.append("member name has no extension (no dot in the basename): skipped");
      return Optional.empty();
    }
    if (dot == 0) {
      whyNot.append("member name has an empty key (basename starts with a dot): skipped");
      return Optional.empty();
    }
    if (dot == base.length() - 1) {
      whyNot.append("member name has an empty extension (basename ends with a dot): skipped");
      return Optional.empty();
    }
    return Optional.of(new Split(p.substring(0, slash + 1) + base.substring(0, dot), base.substring(dot + 1)));
  }
}
