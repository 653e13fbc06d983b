package dev.conveyor.streams.synth;

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
final class ShardWriter implements AutoCloseable {
  private static final Instant MTIME = Instant.parse("2024-01-01T00:00:00Z");

  private final String name;
  private final Path file;
  private final MessageDigest sha;
  private final TarArchiveOutputStream tar;
  private long samples;

  ShardWriter(String name, Path file) throws IOException {
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
  void member(String path, byte[] data) throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(path);
    e.setSize(data.length);
    e.setModTime(MTIME.toEpochMilli());
    e.setIds(0, 0);
    e.setNames("", "");
    e.setMode(0100644);
    tar.putArchiveEntry(e);
    tar.write(data);
    tar.closeArchiveEntry();
  }

  void endSample() {
    samples++;
  }

  long samples() {
    return samples;
  }

  /** Bytes written so far (headers and data, before the end-of-archive blocks). */
  long bytesWritten() {
    return tar.getBytesWritten();
  }

  Path file() {
    return file;
  }

  /** Finishes the archive and returns its manifest entry. */
  ShardInfo finish() throws IOException {
    tar.finish();
    tar.close();
    return new ShardInfo(name, Files.size(file), samples, HexFormat.of().formatHex(sha.digest()));
  }

  @Override
  public void close() throws IOException {
    tar.close();
  }
}
