package dev.conveyor.tools.index;

import dev.conveyor.streams.catalog.CatalogRow;
import dev.conveyor.streams.catalog.CatalogWriter;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.manifest.ShardInfo;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.ShardIndexer;
import dev.conveyor.streams.sample.ShardSamples;
import dev.conveyor.streams.store.ShardCheck;
import dev.conveyor.streams.store.ShardIndex;
import dev.conveyor.tools.catalog.CatalogFiles;
import dev.conveyor.streams.store.ShardReadException;
import dev.conveyor.streams.store.ShardStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Writes the per-sample byte index of every shard of a dataset beside it
 * ({@code NAME.idx.json}, {@link ShardIndex}) and a {@code shards.json} that lists them: for a
 * dataset made elsewhere (any WebDataset tar writer) or before indexes existed. With a
 * {@code shards.json} under the folder its shards are indexed, and checked against it; without
 * one every {@code .tar} object of the folder is, and a {@code shards.json} is written (sizes,
 * sample counts, sha256). A shard that cannot be indexed ({@link ShardIndexer.Unindexable}) is
 * listed without an index and said so; readers read it whole. The catalog of the indexed
 * shards' samples is written last ({@link CatalogFiles}).
 */
public final class DatasetIndexer {
  private static final int PARALLELISM = 2;

  private final ShardStore store;
  private final Path scratch;
  private final Materializer mat;
  private final long maxMemberBytes;

  /** {@code scratch} holds one index file per shard being indexed while it is written. */
  public DatasetIndexer(ShardStore store, Path scratch, Materializer mat, long maxMemberBytes) {
    this.store = store;
    this.scratch = scratch;
    this.mat = mat;
    this.maxMemberBytes = maxMemberBytes;
  }

  /** What was done: the manifest written, and why each shard left without an index was. */
  public record Result(Manifest manifest, List<String> notIndexed) {}

  /** Progress: shards indexed so far, of how many. */
  public interface Progress {
    void shards(int done, int total);
  }

  /** Indexes the dataset under {@code base}. */
  public Result index(URI base, Consumer<String> notice, Progress progress) throws IOException, InterruptedException {
    Files.createDirectories(scratch);
    Optional<Manifest> listed = manifest(base);
    List<ShardInfo> shards = new ArrayList<>();
    if (listed.isPresent()) {
      shards.addAll(listed.get().shards());
    } else {
      List<URI> tars = await(store.list(dir(base))).stream().filter(u -> u.getPath().endsWith(".tar")).toList();
      if (tars.isEmpty()) {
        throw new IllegalArgumentException("no " + Manifest.FILE_NAME + " and no .tar shards under " + base);
      }
      notice.accept("no " + Manifest.FILE_NAME + " under " + base + ": indexing its " + tars.size()
          + " .tar objects and writing one");
      for (URI u : tars) {
        String path = u.getPath();
        shards.add(new ShardInfo(path.substring(path.lastIndexOf('/') + 1), -1, -1, ""));
      }
    }
    List<String> notIndexed = new ArrayList<>();
    int[] done = {0};
    progress.shards(0, shards.size());
    try (CatalogWriter catalog = new CatalogWriter(scratch)) {
      List<IndexedShard> out = await(Source.from(shards)
          .mapAsync(PARALLELISM, s -> indexOne(base, s, listed.isPresent()).thenApply(r -> {
            progress.shards(++done[0], shards.size());
            return r;
          }))
          .map(r -> { // in the manifest's order; the rows are not kept
            catalog.add(r.rows());
            return new IndexedShard(r.info(), r.whyNot(), List.of());
          })
          .runWith(Sink.seq(), mat));
      List<ShardInfo> written = new ArrayList<>();
      for (IndexedShard r : out) {
        written.add(r.info());
        r.whyNot().ifPresent(w -> notIndexed.add(r.info().name() + ": " + w));
      }
      Manifest m = new Manifest(written);
      Path json = Files.createTempFile(scratch, "shards-", ".json");
      try {
        Files.writeString(json, m.toJson(), StandardCharsets.UTF_8);
        await(store.write(Manifest.child(base, Manifest.FILE_NAME), json));
      } finally {
        Files.deleteIfExists(json);
      }
      CatalogFiles.publish(catalog, m, store, base, scratch);
      return new Result(m, notIndexed);
    }
  }

  /** A shard indexed (or why not) and its samples' catalog rows (none when it could not be indexed). */
  private record IndexedShard(ShardInfo info, Optional<String> whyNot, List<CatalogRow> rows) {}

  private CompletionStage<IndexedShard> indexOne(URI base, ShardInfo s, boolean listed) {
    URI uri = Manifest.child(base, s.name());
    return ShardIndexer.indexed(s.name(), () -> store.read(uri), maxMemberBytes, mat)
        .thenApply(indexed -> {
          ShardIndex idx = indexed.index();
          if (listed && (idx.bytes() != s.bytes() || !s.sha256().isEmpty() && !s.sha256().equals("-")
              && !s.sha256().equalsIgnoreCase(idx.sha256()) || idx.samples() != s.samples())) {
            throw new IllegalStateException(Manifest.FILE_NAME + " is out of date for " + s.name() + ": it lists "
                + s.bytes() + " bytes, " + s.samples() + " samples, sha256 " + s.sha256() + "; the shard has "
                + idx.bytes() + " bytes, " + idx.samples() + " samples, sha256 " + idx.sha256());
          }
          return indexed;
        })
        .thenCompose(indexed -> {
          ShardIndex idx = indexed.index();
          return write(Manifest.child(base, s.name() + ShardIndex.SUFFIX), idx.toJson())
              .thenApply(done -> new IndexedShard(new ShardInfo(s.name(), idx.bytes(), idx.samples(), idx.sha256(),
                  true), Optional.empty(), indexed.rows()));
        })
        .exceptionallyCompose(t -> {
          Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
          if (!(c instanceof ShardIndexer.Unindexable)) {
            return CompletableFuture.failedFuture(c);
          }
          if (listed) {
            return CompletableFuture.completedFuture(new IndexedShard(
                new ShardInfo(s.name(), s.bytes(), s.samples(), s.sha256()), Optional.of(c.getMessage()), List.of()));
          }
          return describe(uri, s.name()).thenApply(info -> new IndexedShard(info, Optional.of(c.getMessage()),
              List.of()));
        });
  }

  /** Size, sha256 and sample count of a shard that has no index, in one pass. */
  private CompletionStage<ShardInfo> describe(URI uri, String name) {
    MessageDigest sha = ShardCheck.newSha256();
    long[] bytes = {0};
    return ShardSamples.parse(store.read(uri).map(b -> {
          b.getByteBuffers().forEach(sha::update);
          bytes[0] += b.size();
          return b;
        }), uri, maxMemberBytes)
        .runWith(Sink.fold(0L, (n, r) -> r instanceof RawSample ? n + 1 : n), mat)
        .thenApply(n -> new ShardInfo(name, bytes[0], n, HexFormat.of().formatHex(sha.digest())));
  }

  /** Stores {@code text} as {@code target}, through a scratch file removed once stored. */
  private CompletionStage<org.apache.pekko.Done> write(URI target, String text) {
    Path f;
    try {
      f = Files.createTempFile(scratch, "index-", ".json");
      Files.writeString(f, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return store.write(target, f).whenComplete((done, err) -> {
      try {
        Files.deleteIfExists(f);
      } catch (IOException e) {
        // a scratch file left in the scratch folder, which goes with the command
      }
    });
  }

  private Optional<Manifest> manifest(URI base) throws InterruptedException {
    ByteString json;
    try {
      json = await(store.read(Manifest.child(base, Manifest.FILE_NAME))
          .runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), mat));
    } catch (ShardReadException e) {
      return Optional.empty();
    }
    return Optional.of(Manifest.parse(json.decodeString(StandardCharsets.UTF_8)));
  }

  private static URI dir(URI base) {
    String b = base.toString();
    return URI.create(b.endsWith("/") ? b : b + "/");
  }

  private static <T> T await(CompletionStage<T> f) throws InterruptedException {
    try {
      return f.toCompletableFuture().get();
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    }
  }
}
