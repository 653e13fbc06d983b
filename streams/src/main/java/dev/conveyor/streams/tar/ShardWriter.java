package dev.conveyor.streams.tar;

import dev.conveyor.streams.manifest.ShardInfo;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Writes one tar shard to a local file with reproducible headers (fixed time, owner 0, mode
 * 0644, POSIX long names), counting its samples and hashing its bytes as they are written.
 */
public final class ShardWriter implements AutoCloseable {
  private static final Instant MTIME = Instant.parse("2024-01-01T00:00:00Z");

  private final String name;
  private final Path file;
  private final MessageDigest sha;
  private final TarArchiveOutputStream tar;
  private long samples;

  public ShardWriter(String name, Path file) throws IOException {
    this.name = name;
    this.file = file;
    try {
      this.sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
    OutputStream out = new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16), sha);
    this.tar = new TarArchiveOutputStream(out, "UTF-8");
    tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
  }

  /** Appends one member; call once per member, members of one sample consecutively. */
  public void member(String path, byte[] data) throws IOException {
    tar.putArchiveEntry(entry(path, data.length));
    tar.write(data);
    tar.closeArchiveEntry();
  }

  /** Appends {@code file} as one member, streamed; it must hold exactly {@code size} bytes. */
  public void member(String path, Path file, long size) throws IOException {
    tar.putArchiveEntry(entry(path, size));
    long copied = Files.copy(file, tar);
    if (copied != size) {
      throw new IOException(file + " holds " + copied + " bytes, not the " + size + " it held when listed");
    }
    tar.closeArchiveEntry();
  }

  private static TarArchiveEntry entry(String path, long size) {
    TarArchiveEntry e = new TarArchiveEntry(path, true); // the name as given: no leading-slash or drive stripping
    e.setSize(size);
    e.setModTime(MTIME.toEpochMilli());
    e.setIds(0, 0);
    e.setNames("", "");
    e.setMode(0100644);
    return e;
  }

  public void endSample() {
    samples++;
  }

  public long samples() {
    return samples;
  }

  /** Bytes written so far (headers and data, before the end-of-archive blocks). */
  public long bytesWritten() {
    return tar.getBytesWritten();
  }

  public Path file() {
    return file;
  }

  /** Finishes the archive and returns its manifest entry. */
  public ShardInfo finish() throws IOException {
    tar.finish();
    tar.close();
    return new ShardInfo(name, Files.size(file), samples, HexFormat.of().formatHex(sha.digest()));
  }

  @Override
  public void close() throws IOException {
    tar.close();
  }
}
