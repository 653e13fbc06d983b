package dev.conveyor.orchestrator.checkpoint;

import dev.conveyor.config.JobSettings;
import dev.conveyor.config.SettingsException;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.store.ShardReadException;
import dev.conveyor.streams.store.ShardStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;

/**
 * Where a job's cursors live: a directory, local ({@code file://}) or in S3 ({@code s3://}),
 * written through a {@link ShardStore} (so S3 uses the job's S3 client). Every save writes
 * {@code cursor-EPOCH-STEP.cv} and replaces {@code latest.cursor}; a local write goes to a
 * temporary file and is renamed into place, an S3 PUT replaces the object whole. The last
 * {@code keep} numbered cursors are kept. Reading checks the cursor's CRC (in {@link Cursor#decode}).
 */
public final class CursorStore {
  static final String LATEST = "latest.cursor";
  /** What a resume says when it falls back from a damaged {@code latest.cursor} (simulations look for it). */
  public static final String FELL_BACK = "resuming from the previous good cursor";
  private static final String KEY = JobSettings.PATH + ".checkpoint-dir";
  private static final long TIMEOUT_S = 60;

  private final URI dir;
  private final ShardStore store;
  private final int keep;
  private final Deque<URI> kept = new ArrayDeque<>();

  public CursorStore(URI dir, ShardStore store, int keep) {
    this.dir = dir;
    this.store = store;
    this.keep = keep;
  }

  /** The cursors in the directory {@code setting} names ({@link #parse}), read and written through {@code files}. */
  public static CursorStore at(String setting, ShardStore files, int keep) {
    return new CursorStore(parse(setting), files, keep);
  }

  /** The directory a {@code checkpoint-dir} setting names: a path, {@code file:///dir} or {@code s3://bucket/prefix}. */
  public static URI parse(String setting) {
    try {
      if (setting.startsWith("s3://") || setting.startsWith("file:")) {
        URI u = URI.create(setting.endsWith("/") ? setting : setting + "/");
        if ("s3".equals(u.getScheme()) && (u.getHost() == null || u.getHost().isEmpty())) {
          throw new IllegalArgumentException("no bucket");
        }
        return u;
      }
      String u = Path.of(setting).toAbsolutePath().toUri().toString();
      return URI.create(u.endsWith("/") ? u : u + "/");
    } catch (IllegalArgumentException e) {
      throw new SettingsException(KEY, "must be a directory, file:///dir or s3://bucket/prefix, got \"" + setting + "\"");
    }
  }

  public void save(Cursor cursor, long step) {
    Path tmp = null;
    try {
      tmp = Files.createTempFile("conveyor-cursor-", ".cv");
      Files.writeString(tmp, cursor.encode() + "\n", StandardCharsets.UTF_8);
      URI numbered = dir.resolve(String.format(Locale.ROOT, "cursor-%06d-%012d.cv", cursor.epoch(), step));
      store.write(numbered, tmp).toCompletableFuture().get(TIMEOUT_S, TimeUnit.SECONDS);
      store.write(dir.resolve(LATEST), tmp).toCompletableFuture().get(TIMEOUT_S, TimeUnit.SECONDS);
      if (!numbered.equals(kept.peekLast())) {
        kept.addLast(numbered);
      }
      while (kept.size() > keep) {
        store.delete(kept.removeFirst()).toCompletableFuture().get(TIMEOUT_S, TimeUnit.SECONDS);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save the cursor: " + e.getMessage(), e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot save the cursor in " + dir + ": " + e.getCause(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while saving the cursor", e);
    } finally {
      if (tmp != null) {
        tmp.toFile().delete();
      }
    }
  }

  /** A numbered cursor's name: epoch and step zero-padded, so that names sort as the cursors do. */
  private static final java.util.regex.Pattern NUMBERED = java.util.regex.Pattern.compile("cursor-\\d{6}-\\d{12}\\.cv");

  /**
   * Takes over what a restarted run left in the directory — its numbered cursors, oldest first,
   * so that keeping the last {@code keep} goes on counting them — and returns the newest cursor
   * that reads back whole: {@code latest.cursor}, or when that is missing or damaged the newest
   * numbered cursor whose checksum holds; empty when there is none. Lists the directory once.
   */
  public Optional<Cursor> adoptExisting(Materializer mat) {
    List<URI> numbered = numbered();
    kept.addAll(numbered);
    List<URI> candidates = new ArrayList<>();
    candidates.add(dir.resolve(LATEST));
    for (int i = numbered.size() - 1; i >= 0; i--) {
      candidates.add(numbered.get(i));
    }
    for (URI u : candidates) {
      try {
        return Optional.of(Cursor.decode(read(u, mat)));
      } catch (ExecutionException | TimeoutException | IllegalArgumentException e) {
        // missing, unreadable or damaged: try the next older one
      }
    }
    return Optional.empty();
  }

  private List<URI> numbered() {
    try {
      List<URI> all = store.list(dir).toCompletableFuture().get(TIMEOUT_S, TimeUnit.SECONDS);
      List<URI> out = new ArrayList<>();
      for (URI u : all) {
        String path = u.getPath();
        if (NUMBERED.matcher(path.substring(path.lastIndexOf('/') + 1)).matches()) {
          out.add(u);
        }
      }
      out.sort(java.util.Comparator.comparing(URI::toString));
      return out;
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot list the cursors in " + dir + ": " + e.getCause(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while listing " + dir, e);
    }
  }

  /**
   * What {@link #latest} reads, or empty when the directory holds no cursor at all (neither
   * {@code latest.cursor} nor a numbered one): a job that has not saved one yet. Cursors that are
   * there but all unreadable fail as in {@link #latest}: a run never silently starts over.
   */
  public Optional<String> newest(Materializer mat, Consumer<String> progress) {
    List<URI> all;
    try {
      all = store.list(dir).toCompletableFuture().get(TIMEOUT_S, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new SettingsException(KEY, "cannot list the cursors in " + dir + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while listing " + dir, e);
    }
    boolean any = all.stream().map(URI::getPath).map(p -> p.substring(p.lastIndexOf('/') + 1))
        .anyMatch(name -> name.equals(LATEST) || NUMBERED.matcher(name).matches());
    return any ? Optional.of(latest(mat, progress)) : Optional.empty();
  }

  /**
   * The token in {@code latest.cursor}; when that is missing, cut short or garbled (its checksum
   * fails), the newest numbered cursor that reads back whole — and {@code progress} is told which,
   * and why. Fails naming the key when there is none.
   */
  public String latest(Materializer mat, Consumer<String> progress) {
    URI latest = dir.resolve(LATEST);
    String why;
    try {
      String token = read(latest, mat);
      Cursor.decode(token);
      return token;
    } catch (ExecutionException e) {
      why = e.getCause() instanceof ShardReadException r ? r.reason() : String.valueOf(e.getCause());
    } catch (TimeoutException e) {
      throw new SettingsException(KEY, "reading " + latest + " took longer than " + TIMEOUT_S + " s");
    } catch (IllegalArgumentException e) {
      why = "damaged: " + e.getMessage();
    }
    List<URI> numbered = numbered();
    for (int i = numbered.size() - 1; i >= 0; i--) {
      URI u = numbered.get(i);
      try {
        String token = read(u, mat);
        Cursor.decode(token);
        String name = u.getPath().substring(u.getPath().lastIndexOf('/') + 1);
        progress.accept(LATEST + " is unreadable (" + why + "): " + FELL_BACK + ", " + name);
        return token;
      } catch (ExecutionException | TimeoutException | IllegalArgumentException e) {
        // missing, unreadable or damaged too: try the next older one
      }
    }
    throw new SettingsException(KEY, "has no readable " + LATEST + " (" + latest + ": " + why + ") and no older cursor"
        + " that reads back whole: nothing to resume from");
  }

  private String read(URI u, Materializer mat) throws ExecutionException, TimeoutException {
    try {
      return store.read(u).runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), mat)
          .toCompletableFuture().get(TIMEOUT_S, TimeUnit.SECONDS).utf8String().trim();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading " + u, e);
    }
  }
}
