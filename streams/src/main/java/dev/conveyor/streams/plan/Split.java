package dev.conveyor.streams.plan;

/**
 * How a sequence of {@code n} samples is shared by {@code world} ranks so that every rank gets
 * the same number of batches, {@code steps}:
 * <ul>
 *   <li>drop-last: every rank gets {@code steps * batch} samples and the last
 *       {@code dropped < world * batch} samples of the sequence are not delivered (reported);</li>
 *   <li>otherwise: every rank gets {@code steps - 1} full batches, and the
 *       {@code n - (steps - 1) * world * batch} samples left are spread as evenly as possible over
 *       the ranks' last batches, lower ranks taking one more. A last batch may thus be short,
 *       and is empty on some ranks when fewer samples than ranks are left.</li>
 * </ul>
 * Rank {@code r} takes the contiguous part starting at {@code start(r)}, of {@code size(r)} samples.
 */
record Split(long n, int world, int batch, boolean dropLast, long steps, long dropped) {

  static Split of(long n, int world, int batch, boolean dropLast) {
    long global = (long) world * batch;
    if (dropLast) {
      long steps = n / global;
      return new Split(n, world, batch, true, steps, n - steps * global);
    }
    return new Split(n, world, batch, false, (n + global - 1) / global, 0);
  }

  long size(int rank) {
    if (dropLast) {
      return steps * batch;
    }
    if (steps == 0) {
      return 0;
    }
    long full = (steps - 1) * batch;
    long rem = n - full * world;
    return full + rem / world + (rank < rem % world ? 1 : 0);
  }

  long start(int rank) {
    if (dropLast) {
      return rank * steps * batch;
    }
    if (steps == 0) {
      return 0;
    }
    long full = (steps - 1) * batch;
    long rem = n - full * world;
    return rank * full + rank * (rem / world) + Math.min(rank, rem % world);
  }
}
