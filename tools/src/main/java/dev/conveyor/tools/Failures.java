package dev.conveyor.tools;

import java.io.IOException;

/** How the tools report a failure that came back through a future. */
public final class Failures {
  private Failures() {}

  /**
   * {@code cause} (what a future failed with) to throw as it is: an {@link IOException} returned,
   * a {@link RuntimeException} thrown; anything else wrapped in an IOException saying {@code what}.
   */
  public static IOException asIo(Throwable cause, String what) {
    if (cause instanceof IOException io) {
      return io;
    }
    if (cause instanceof RuntimeException r) {
      throw r;
    }
    return new IOException(what, cause);
  }
}
