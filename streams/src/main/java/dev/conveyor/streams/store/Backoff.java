package dev.conveyor.streams.store;

import dev.conveyor.config.S3Settings;
import java.util.SplittableRandom;

/**
 * Exponential backoff with full jitter: before attempt {@code n} (n = 1 after the first
 * failure) sleep a uniform draw from [0, min(max-delay, base-delay x 2^(n-1))]. The draw is
 * seeded from the request (its object, byte offset and attempt), never from the clock, so a
 * rerun waits the same; different requests still spread out.
 */
final class Backoff {
  private Backoff() {}

  static long delayMillis(S3Settings.Reads r, int attempt, String object, long offset) {
    long cap = Math.min(r.maxDelayMillis(), r.baseDelayMillis() << Math.min(Math.max(attempt - 1, 0), 30));
    long seed = object.hashCode() * 0x9E3779B97F4A7C15L + offset * 31 + attempt;
    return new SplittableRandom(seed).nextLong(cap + 1);
  }
}
