package dev.conveyor.streams.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/** Builds tar archives in memory for tests, member by member, with commons-compress. */
public final class Tars {
  private final List<Object[]> members = new ArrayList<>();

  public static Tars builder() {
    return new Tars();
  }

  public Tars file(String path, String content) {
    return file(path, content.getBytes(StandardCharsets.UTF_8));
  }

  public Tars file(String path, byte[] content) {
    members.add(new Object[] {path, content, TarArchiveEntry.LF_NORMAL});
    return this;
  }

  public Tars symlink(String path, String target) {
    members.add(new Object[] {path, target, TarArchiveEntry.LF_SYMLINK});
    return this;
  }

  public Tars dir(String path) {
    members.add(new Object[] {path.endsWith("/") ? path : path + "/", null, TarArchiveEntry.LF_DIR});
    return this;
  }

  public byte[] bytes() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      for (Object[] m : members) {
        byte type = (byte) m[2];
        TarArchiveEntry e = new TarArchiveEntry((String) m[0], type);
        if (type == TarArchiveEntry.LF_NORMAL) {
          byte[] data = (byte[]) m[1];
          e.setSize(data.length);
          tar.putArchiveEntry(e);
          tar.write(data);
        } else {
          if (type == TarArchiveEntry.LF_SYMLINK) {
            e.setLinkName((String) m[1]);
          }
          tar.putArchiveEntry(e);
        }
        tar.closeArchiveEntry();
      }
      tar.finish();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** {@code bytes} as a stream of chunks of at most {@code chunk} bytes. */
  public static Source<ByteString, org.apache.pekko.NotUsed> chunked(byte[] bytes, int chunk) {
    List<ByteString> parts = new ArrayList<>();
    for (int i = 0; i < bytes.length; i += chunk) {
      parts.add(ByteString.fromArray(bytes, i, Math.min(chunk, bytes.length - i)));
    }
    return Source.from(parts);
  }
}
