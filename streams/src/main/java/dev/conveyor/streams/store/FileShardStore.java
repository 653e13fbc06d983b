package dev.conveyor.streams.store;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.ActorAttributes;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/** Shards on a local or mounted file system, {@code file:///dir/part-000000.tar}. */
public final class FileShardStore implements ShardStore {
  /** Read size: large enough for sequential throughput, small enough to keep buffers modest. */
  private static final int CHUNK = 256 * 1024;

  private final ReaderMetrics metrics = new ReaderMetrics();

  @Override
  public Source<ByteString, NotUsed> read(URI shard) {
    return read(shard, 0, Long.MAX_VALUE);
  }

  @Override
  public Source<ByteString, NotUsed> read(URI shard, long offset, long length) {
    Path path = path(shard);
    return Source.<ByteString, RangeReader>unfoldResource(
            () -> new RangeReader(shard, path, offset, length, metrics),
            RangeReader::next,
            RangeReader::close)
        .withAttributes(ActorAttributes.dispatcher("pekko.stream.materializer.blocking-io-dispatcher"));
  }

  @Override
  public CompletionStage<ObjectStat> stat(URI object) {
    Path p = path(object);
    try {
      // not a content hash: the file's own identity (where it is, its size, when it last changed)
      String where = java.util.HexFormat.of().formatHex(ShardCheck.newSha256().digest(
          p.toAbsolutePath().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)), 0, 12);
      return CompletableFuture.completedFuture(new ObjectStat(Files.size(p),
          where + "-" + Files.size(p) + "-" + Files.getLastModifiedTime(p).to(java.util.concurrent.TimeUnit.NANOSECONDS)));
    } catch (IOException e) {
      return CompletableFuture.failedFuture(new ShardReadException(object, "cannot stat: " + e, e));
    }
  }

  @Override
  public CompletionStage<Done> write(URI target, Path from) {
    Path to = path(target);
    try {
      Files.createDirectories(to.toAbsolutePath().getParent());
      Path tmp = to.resolveSibling(to.getFileName() + ".part");
      Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
      readable(tmp); // a copy keeps its source's mode, and a temporary file's is the owner's alone
      Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return CompletableFuture.completedFuture(Done.getInstance());
    } catch (IOException e) {
      return CompletableFuture.failedFuture(new ShardReadException(target, "cannot write: " + e, e));
    }
  }

  /** {@code f} readable by everyone, written by its owner (rw-r--r--), where the file system has POSIX modes. */
  private static void readable(Path f) throws IOException {
    if (f.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    }
  }

  @Override
  public CompletionStage<Done> delete(URI target) {
    try {
      Files.deleteIfExists(path(target));
      return CompletableFuture.completedFuture(Done.getInstance());
    } catch (IOException e) {
      return CompletableFuture.failedFuture(new ShardReadException(target, "cannot delete: " + e, e));
    }
  }

  @Override
  public CompletionStage<java.util.List<URI>> list(URI dir) {
    Path d = path(dir);
    if (!Files.isDirectory(d)) {
      return CompletableFuture.completedFuture(java.util.List.of());
    }
    try (java.util.stream.Stream<Path> files = Files.list(d)) {
      return CompletableFuture.completedFuture(files.filter(Files::isRegularFile).sorted().map(Path::toUri).toList());
    } catch (IOException e) {
      return CompletableFuture.failedFuture(new ShardReadException(dir, "cannot list: " + e.getMessage(), e));
    }
  }

  @Override
  public ReaderMetrics metrics() {
    return metrics;
  }

  @Override
  public void close() {
    // nothing is held open between reads
  }

  static Path path(URI shard) {
    if (!"file".equals(shard.getScheme())) {
      throw new IllegalArgumentException("not a file:// URI: " + shard);
    }
    return Path.of(shard);
  }

  /**
   * A byte range of one file, one per materialized read. The file is opened by the first read,
   * not on creation, so that a missing file fails the stream like any read error instead of
   * failing the stage's start (which Pekko logs with a stack trace).
   */
  private static final class RangeReader {
    private final URI shard;
    private final Path path;
    private final long offset;
    private final ReaderMetrics metrics;
    private FileChannel channel;
    private long remaining;

    RangeReader(URI shard, Path path, long offset, long length, ReaderMetrics metrics) {
      this.shard = shard;
      this.metrics = metrics;
      this.path = path;
      this.offset = offset;
      this.remaining = length;
    }

    private FileChannel channel() {
      if (channel == null) {
        try {
          metrics.request();
          channel = FileChannel.open(path, StandardOpenOption.READ);
          channel.position(offset);
        } catch (NoSuchFileException e) {
          throw new ShardReadException(shard, "not found (no such file)", e);
        } catch (AccessDeniedException e) {
          throw new ShardReadException(shard, "access denied (file permissions)", e);
        } catch (IOException e) {
          throw new ShardReadException(shard, "cannot open: " + e.getMessage(), e);
        }
      }
      return channel;
    }

    Optional<ByteString> next() {
      FileChannel ch = channel();
      if (remaining <= 0) {
        return Optional.empty();
      }
      ByteBuffer bb = ByteBuffer.allocate((int) Math.min(CHUNK, remaining));
      try {
        int n = ch.read(bb);
        if (n < 0) {
          return Optional.empty();
        }
        remaining -= n;
        metrics.bytes(n);
        // the buffer is never touched again, so the ByteString may wrap it without a copy
        return Optional.of(ByteString.fromArrayUnsafe(bb.array(), 0, n));
      } catch (IOException e) {
        throw new ShardReadException(shard, "read failed: " + e.getMessage(), e);
      }
    }

    void close() throws IOException {
      if (channel != null) {
        channel.close();
      }
    }
  }
}
