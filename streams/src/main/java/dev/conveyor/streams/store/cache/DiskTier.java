package dev.conveyor.streams.store.cache;

import dev.conveyor.streams.store.ShardCheck;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.pekko.util.ByteString;

/**
 * A node's cache entries on its local disk, one file each: a header (magic, the key, the sha256
 * and length of the bytes) and the bytes. A file is written under a temporary name and renamed,
 * so a reader never sees half of one; a torn or altered file fails its checksum on read and is
 * deleted, never served. Knows nothing of budgets or policies ({@link NodeCache} decides what
 * is kept). Thread-safe: files are written once and only read or deleted after.
 */
public final class DiskTier {
  private static final byte[] MAGIC = "CVYCACH1".getBytes(StandardCharsets.US_ASCII);
  private static final String SUFFIX = ".entry";
  private static final String TEMP = ".tmp-";

  private final Path dir;

  /** An entry found on disk at start: its key and its bytes. */
  public record Found(CacheKey key, long bytes) {}

  /** An entry read back: its bytes, or why there are none ({@code missing} or a checksum failure). */
  public record Lookup(ByteString bytes, String problem) {
    public boolean ok() {
      return bytes != null;
    }
  }

  public DiskTier(Path dir) {
    this.dir = dir;
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new IllegalArgumentException("cache folder " + dir + " cannot be created: " + e.getMessage(), e);
    }
  }

  public Path dir() {
    return dir;
  }

  /**
   * The entries already in the folder (a node restarted with its cache), by their headers;
   * temporary files of writes cut short and files that are not entries are deleted.
   */
  public List<Found> scan() {
    List<Found> found = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        if (!name.endsWith(SUFFIX)) {
          if (name.startsWith(TEMP)) {
            Files.deleteIfExists(f);
          }
          continue;
        }
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
          Header h = Header.read(ch);
          if (h != null && ch.size() == h.dataOffset + h.length && file(h.key).equals(f)) {
            found.add(new Found(h.key, h.length));
            continue;
          }
        } catch (IOException | IllegalArgumentException e) {
          // not an entry: dropped below
        }
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cache folder " + dir + " cannot be read: " + e.getMessage(), e);
    }
    found.sort(java.util.Comparator.comparing(Found::key));
    return found;
  }

  /** Stores {@code bytes} as {@code key}: a temporary file, then an atomic rename. */
  public void write(CacheKey key, ByteString bytes) throws IOException {
    MessageDigest sha = ShardCheck.newSha256();
    for (ByteBuffer b : bytes.getByteBuffers()) {
      sha.update(b);
    }
    byte[] k = key.toString().getBytes(StandardCharsets.UTF_8);
    ByteBuffer head = ByteBuffer.allocate(MAGIC.length + 4 + k.length + 32 + 8);
    head.put(MAGIC).putInt(k.length).put(k).put(sha.digest()).putLong(bytes.size()).flip();
    Path tmp = Files.createTempFile(dir, TEMP, "");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      while (head.hasRemaining()) {
        ch.write(head);
      }
      for (ByteBuffer b : bytes.getByteBuffers()) {
        while (b.hasRemaining()) {
          ch.write(b);
        }
      }
      Files.move(tmp, file(key), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** {@code key}'s bytes, checked against the sha256 written with them; a bad file is deleted. */
  public Lookup read(CacheKey key) {
    Path f = file(key);
    String problem;
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      Header h = Header.read(ch);
      if (h == null || !h.key.equals(key)) {
        problem = "its header is not this entry's";
      } else if (ch.size() != h.dataOffset + h.length) {
        problem = "it holds " + (ch.size() - h.dataOffset) + " bytes where its header says " + h.length;
      } else {
        ByteBuffer data = ByteBuffer.allocate((int) h.length);
        while (data.hasRemaining() && ch.read(data, h.dataOffset + data.position()) >= 0) {
          // read to the end
        }
        data.flip();
        byte[] got = ShardCheck.newSha256().digest(data.array());
        if (MessageDigest.isEqual(got, h.sha256)) {
          return new Lookup(ByteString.fromArrayUnsafe(data.array()), null);
        }
        problem = "its bytes fail their sha256";
      }
    } catch (NoSuchFileException e) {
      return new Lookup(null, "missing");
    } catch (IOException | IllegalArgumentException e) {
      problem = "it cannot be read (" + e.getMessage() + ")";
    }
    delete(key);
    return new Lookup(null, problem);
  }

  /** Removes {@code key}'s file; removing what is not there succeeds. */
  public void delete(CacheKey key) {
    try {
      Files.deleteIfExists(file(key));
    } catch (IOException e) {
      // a file that cannot be deleted is overwritten by the next write of its key, and fails its checksum before
    }
  }

  /** Where {@code key}'s entry lives: a hash of the key, so any identity makes a safe file name. */
  public Path file(CacheKey key) {
    byte[] h = ShardCheck.newSha256().digest(key.toString().getBytes(StandardCharsets.UTF_8));
    return dir.resolve(HexFormat.of().formatHex(h, 0, 20) + SUFFIX);
  }

  private record Header(CacheKey key, byte[] sha256, long length, long dataOffset) {
    static Header read(FileChannel ch) throws IOException {
      ByteBuffer fixed = ByteBuffer.allocate(MAGIC.length + 4);
      if (ch.read(fixed, 0) < fixed.capacity()) {
        return null;
      }
      fixed.flip();
      byte[] magic = new byte[MAGIC.length];
      fixed.get(magic);
      int keyLength = fixed.getInt();
      if (!java.util.Arrays.equals(magic, MAGIC) || keyLength <= 0 || keyLength > 4096) {
        return null;
      }
      ByteBuffer rest = ByteBuffer.allocate(keyLength + 32 + 8);
      if (ch.read(rest, fixed.capacity()) < rest.capacity()) {
        return null;
      }
      rest.flip();
      byte[] k = new byte[keyLength];
      rest.get(k);
      byte[] sha = new byte[32];
      rest.get(sha);
      long length = rest.getLong();
      if (length < 0 || length > Integer.MAX_VALUE - 16) {
        return null;
      }
      return new Header(CacheKey.parse(new String(k, StandardCharsets.UTF_8)), sha, length,
          fixed.capacity() + rest.capacity());
    }
  }
}
