package dev.conveyor.streams.decode;

import dev.conveyor.config.DecodeSettings;
import java.util.SplittableRandom;

/** Which frames of an {@code n}-frame clip a sample takes, in increasing order. */
final class FrameSampling {
  private FrameSampling() {}

  static int[] choose(DecodeSettings.Video v, int n, SplittableRandom rnd) {
    int t = v.frames();
    int[] idx = new int[t];
    if (n <= 0) {
      for (int i = 0; i < t; i++) {
        idx[i] = i; // length unknown: the first frames, as many as the clip has
      }
      return idx;
    }
    if (n < t) {
      int[] all = new int[n];
      for (int i = 0; i < n; i++) {
        all[i] = i; // every frame; the decoder pads with the last one, or skips the clip
      }
      return all;
    }
    if (v.sampling() == DecodeSettings.Sampling.UNIFORM) {
      for (int i = 0; i < t; i++) {
        idx[i] = (int) Math.min(n - 1, (long) ((i + 0.5) * n / t)); // centre of each of t equal parts
      }
      return idx;
    }
    int span = (t - 1) * v.stride() + 1;
    int start = n > span ? rnd.nextInt(n - span + 1) : 0;
    for (int i = 0; i < t; i++) {
      idx[i] = start + i * v.stride(); // may pass the end of a short clip: the decoder pads or skips
    }
    return idx;
  }
}
