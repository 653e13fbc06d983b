package dev.conveyor.streams.tar;

import static java.util.Objects.requireNonNull;

import org.apache.pekko.util.ByteString;

/** What the tar parser emits for each archive member it reaches. */
public sealed interface TarRecord permits TarRecord.File, TarRecord.Skipped {

  /** The member's path inside the archive, after PAX and GNU long-name resolution. */
  String path();

  /**
   * A regular file and its whole content. {@code start} is where its first header block
   * begins (a PAX or long-name header's, if it has one) and {@code end} where its last block
   * ends, as byte offsets in the archive; -1 when not known.
   */
  record File(String path, ByteString data, long start, long end) implements TarRecord {
    public File {
      requireNonNull(path, "path is null");
      requireNonNull(data, "data is null");
    }

    public File(String path, ByteString data) {
      this(path, data, -1, -1);
    }
  }

  /** A member that carries no sample data (a link, a device, one over the size limit), with why. */
  record Skipped(String path, String reason) implements TarRecord {
    public Skipped {
      requireNonNull(path, "path is null");
      requireNonNull(reason, "reason is null");
    }
  }
}
