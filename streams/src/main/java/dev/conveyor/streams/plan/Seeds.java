package dev.conveyor.streams.plan;

import java.util.SplittableRandom;

/**
 * Seeds derived from a root seed and a path of integers (epoch, shard, sample, ...), so every
 * random choice in Conveyor is a pure function of the recipe. Mixing is SplitMix64's
 * finalizer, applied per component, so nearby paths give unrelated streams.
 */
public final class Seeds {
  private Seeds() {}

  public static long derive(long root, long... path) {
    long h = mix(root ^ 0x9E3779B97F4A7C15L);
    for (long p : path) {
      h = mix(h + 0x9E3779B97F4A7C15L + p);
    }
    return h;
  }

  public static SplittableRandom random(long root, long... path) {
    return new SplittableRandom(derive(root, path));
  }

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
