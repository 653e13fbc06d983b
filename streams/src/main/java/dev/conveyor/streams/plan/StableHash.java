package dev.conveyor.streams.plan;

import java.nio.charset.StandardCharsets;

/** A 64-bit FNV-1a hash of a string's UTF-8 bytes: the same on every JVM, unlike {@code String.hashCode} by contract. */
public final class StableHash {
  private StableHash() {}

  public static long of(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return h;
  }
}
