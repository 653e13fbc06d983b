package dev.conveyor.streams.plan;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The sample order inside a window, as a machine that both the planner (with sample indices)
 * and the reader (with real samples) run: the window's shard tasks are interleaved at random
 * (each step takes the next sample of a task chosen with probability proportional to what it
 * has left, so every interleaving is equally likely and each task keeps its own order), and
 * the interleaved stream passes through a seeded shuffle buffer of {@code buffer} samples.
 * The random choices depend only on the seed and the task sizes, never on when samples arrive.
 *
 * <p>Use: while {@link #needsInput()}, {@link #chooseTask()} names the task whose next sample
 * must be {@link #offer offered}; an offer may return a sample to emit. Then
 * {@link #drainOne()} until {@link #isEmpty()}.
 */
public final class WindowShuffle<T> {
  private final long[] remaining;
  private long total;
  private final SplittableRandom interleave;
  private final SplittableRandom pick;
  private final int capacity;
  private final boolean shuffle;
  private final List<T> buffer;
  private int next; // first non-exhausted task, when not shuffling

  public WindowShuffle(int[] taskSizes, long seed, int bufferSamples, boolean shuffle) {
    this.remaining = new long[taskSizes.length];
    for (int i = 0; i < taskSizes.length; i++) {
      remaining[i] = taskSizes[i];
      total += taskSizes[i];
    }
    this.shuffle = shuffle;
    this.capacity = shuffle ? bufferSamples : 0;
    this.interleave = new SplittableRandom(Seeds.derive(seed, 1));
    this.pick = new SplittableRandom(Seeds.derive(seed, 2));
    this.buffer = new ArrayList<>(Math.min(capacity, 1 << 16));
  }

  public boolean needsInput() {
    return total > 0;
  }

  /** The task whose next sample must be offered now. */
  public int chooseTask() {
    if (total == 0) {
      throw new IllegalStateException("no input left");
    }
    int task;
    if (shuffle) {
      long r = interleave.nextLong(total);
      task = 0;
      while (r >= remaining[task]) {
        r -= remaining[task];
        task++;
      }
    } else {
      while (remaining[next] == 0) {
        next++;
      }
      task = next;
    }
    remaining[task]--;
    total--;
    return task;
  }

  /** Takes the sample asked for; returns the sample to emit now, or null while the buffer fills. */
  public T offer(T sample) {
    if (buffer.size() < capacity) {
      buffer.add(sample);
      return null;
    }
    if (capacity == 0) {
      return sample;
    }
    int j = pick.nextInt(capacity);
    T out = buffer.get(j);
    buffer.set(j, sample);
    return out;
  }

  public boolean isEmpty() {
    return buffer.isEmpty();
  }

  /** After the input is exhausted: the next sample to emit. */
  public T drainOne() {
    int j = pick.nextInt(buffer.size());
    T out = buffer.get(j);
    T last = buffer.remove(buffer.size() - 1);
    if (j < buffer.size()) {
      buffer.set(j, last);
    }
    return out;
  }
}
