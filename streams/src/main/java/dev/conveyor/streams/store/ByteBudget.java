package dev.conveyor.streams.store;

import java.util.concurrent.atomic.AtomicLong;

/** Bytes that may be held at once; taken without waiting (a reader that gets none goes slower, never stops). */
final class ByteBudget {
  private final long limit;
  private final AtomicLong used = new AtomicLong();

  ByteBudget(long limit) {
    this.limit = limit;
  }

  boolean tryTake(long n) {
    while (true) {
      long u = used.get();
      if (u + n > limit) {
        return false;
      }
      if (used.compareAndSet(u, u + n)) {
        return true;
      }
    }
  }

  void give(long n) {
    used.addAndGet(-n);
  }
}
