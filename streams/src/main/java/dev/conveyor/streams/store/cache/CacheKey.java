package dev.conveyor.streams.store.cache;

import dev.conveyor.streams.store.ObjectStat;
import dev.conveyor.streams.store.ShardCheck;
import java.util.Optional;

/**
 * A cache entry's name, by content rather than by location: the object's identity — its
 * sha256 from the manifest ({@code sha256:HEX}), else its ETag and size ({@code etag:TAG:SIZE})
 * — and the byte range held. Two jobs or tenants reading the same bytes under different URIs
 * share one entry; an object rewritten in place gets a new identity, so a stale entry is never
 * served. Ordered (the plan-aware policy breaks ties by key).
 */
public record CacheKey(String object, long offset, long length) implements Comparable<CacheKey> {
  public CacheKey {
    if (object.isEmpty() || offset < 0 || length < 0) {
      throw new IllegalArgumentException("cache key needs an identity and a range, got " + object + " @" + offset
          + "+" + length);
    }
  }

  /** The whole object, when its manifest check gives a sha256 and a size. */
  public static Optional<CacheKey> whole(ShardCheck check) {
    return check.sha256().isEmpty() || check.bytes() < 0 ? Optional.empty()
        : Optional.of(new CacheKey("sha256:" + check.sha256(), 0, check.bytes()));
  }

  /** The whole object as the store describes it (its ETag and size). */
  public static CacheKey whole(ObjectStat stat) {
    return new CacheKey("etag:" + stat.etag().replace("\"", "") + ":" + stat.size(), 0, stat.size());
  }

  /** The text form, {@code IDENTITY@OFFSET+LENGTH}, as written in entry files and peer requests. */
  @Override
  public String toString() {
    return object + "@" + offset + "+" + length;
  }

  /** Reads {@link #toString()}'s form back. */
  public static CacheKey parse(String text) {
    int at = text.lastIndexOf('@');
    int plus = text.lastIndexOf('+');
    if (at <= 0 || plus < at) {
      throw new IllegalArgumentException("not a cache key (IDENTITY@OFFSET+LENGTH): \"" + text + "\"");
    }
    try {
      return new CacheKey(text.substring(0, at), Long.parseLong(text.substring(at + 1, plus)),
          Long.parseLong(text.substring(plus + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a cache key (IDENTITY@OFFSET+LENGTH): \"" + text + "\"", e);
    }
  }

  @Override
  public int compareTo(CacheKey o) {
    int c = object.compareTo(o.object);
    if (c != 0) {
      return c;
    }
    c = Long.compare(offset, o.offset);
    return c != 0 ? c : Long.compare(length, o.length);
  }
}
