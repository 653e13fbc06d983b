package dev.conveyor.tools.pack;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.catalog.CatalogRow;
import dev.conveyor.streams.catalog.CatalogWriter;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.manifest.ShardInfo;
import dev.conveyor.streams.sample.ShardIndexer;
import dev.conveyor.streams.store.ShardIndex;
import dev.conveyor.tools.catalog.CatalogFiles;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.streams.tar.ShardWriter;
import dev.conveyor.tools.Failures;
import dev.conveyor.tools.pack.PackInput.Member;
import dev.conveyor.tools.pack.PackInput.Sample;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;

/**
 * Writes a {@link PackPlan}'s shards under a base URI: each shard written to scratch with
 * reproducible headers, uploaded, then read back from the store and checked — its sha256, size
 * and sample count — before its per-sample byte index is written beside it and it is recorded
 * as finished in {@value #STATE}. A rerun (after a kill, say) skips every shard recorded with
 * the same input fingerprint whose stored bytes still check out, and writes the rest, so it ends
 * with the shards one uninterrupted run writes. {@code shards.json} is written last, then the
 * catalog of every shard's samples ({@link CatalogFiles}).
 */
public final class Packer {
  /** What a rerun needs: the finished shards, with the fingerprint of their inputs. */
  public static final String STATE = "shards.pack.json";

  private final ShardStore store;
  private final Path scratch;
  private final Materializer mat;

  public Packer(ShardStore store, Path scratch, Materializer mat) {
    this.store = requireNonNull(store, "store is null");
    this.scratch = requireNonNull(scratch, "scratch is null");
    this.mat = requireNonNull(mat, "mat is null");
  }

  /** How it went: the manifest written, and how many shards were written now or found finished. */
  public record Result(Manifest manifest, int written, int skipped) {}

  /** Told of progress: samples packed (or found packed) so far. */
  public interface Progress {
    void samples(long done);
  }

  /** Packs {@code plan} under {@code base}; {@code notice} hears of shards found finished. */
  public Result pack(PackPlan plan, URI base, Consumer<String> notice, Progress progress) throws IOException {
    Files.createDirectories(scratch);
    Map<String, JsonNode> finished = readState(base, notice);
    Map<String, JsonNode> state = new LinkedHashMap<>();
    List<ShardInfo> infos = new ArrayList<>();
    int written = 0;
    int skipped = 0;
    long done = 0;
    try (CatalogWriter catalog = new CatalogWriter(scratch)) {
      for (PackPlan.Shard shard : plan.shards()) {
        Optional<Packed> packed = stillGood(base, shard, finished.get(shard.name()));
        if (packed.isPresent()) {
          skipped++;
        } else {
          packed = Optional.of(write(base, shard));
          written++;
        }
        infos.add(packed.get().info());
        catalog.add(packed.get().rows());
        state.put(shard.name(), entry(shard, packed.get().info()));
        writeJson(base, STATE, stateJson(state));
        done += shard.samples().size();
        progress.samples(done);
      }
      if (skipped > 0) {
        notice.accept(skipped + " shard(s) were finished by an earlier run (their bytes read back and checked): kept");
      }
      Manifest manifest = new Manifest(infos);
      writeJson(base, Manifest.FILE_NAME, manifest.toJson());
      CatalogFiles.publish(catalog, manifest, store, base, scratch);
      return new Result(manifest, written, skipped);
    }
  }

  /** A shard packed (or found packed): as the manifest lists it, and its samples' catalog rows. */
  private record Packed(ShardInfo info, List<CatalogRow> rows) {}

  /** Writes, uploads and checks one shard, then its index. */
  private Packed write(URI base, PackPlan.Shard shard) throws IOException {
    Path file = Files.createTempFile(scratch, "shard-", ".tar");
    try {
      ShardInfo info;
      try (ShardWriter w = new ShardWriter(shard.name(), file)) {
        for (Sample s : shard.samples()) {
          for (Member m : s.members()) {
            w.member(s.memberName(m), m.file(), m.size());
          }
          w.endSample();
        }
        info = w.finish();
      }
      URI uri = Manifest.child(base, shard.name());
      join(store.write(uri, file).toCompletableFuture());
      ShardIndexer.Indexed back = readBack(uri, shard.name());
      String wrong = differs(back.index(), info);
      if (wrong != null) {
        throw new IOException(shard.name() + " read back from " + uri + " " + wrong + ": the store did not keep what was written");
      }
      writeJson(base, shard.name() + ShardIndex.SUFFIX, back.index().toJson());
      return new Packed(info.withIndex(), back.rows());
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /** The finished shard as recorded, when its inputs are the same and its stored bytes still check out. */
  private Optional<Packed> stillGood(URI base, PackPlan.Shard shard, JsonNode recorded) {
    if (recorded == null || !shard.inputs().equals(recorded.path("inputs").asText())) {
      return Optional.empty();
    }
    ShardInfo info = new ShardInfo(shard.name(), recorded.path("bytes").asLong(), recorded.path("samples").asLong(),
        recorded.path("sha256").asText(), true);
    try {
      URI uri = Manifest.child(base, shard.name());
      ShardIndexer.Indexed back = readBack(uri, shard.name());
      if (differs(back.index(), info) != null || !exists(ShardIndex.sidecar(uri))) {
        return Optional.empty();
      }
      return Optional.of(new Packed(info, back.rows()));
    } catch (IOException | RuntimeException e) {
      return Optional.empty(); // gone or unreadable: written again
    }
  }

  /** Why {@code index} (what the store holds) is not {@code info} (what was written), or null. */
  private static String differs(ShardIndex index, ShardInfo info) {
    if (index.bytes() != info.bytes()) {
      return "holds " + index.bytes() + " bytes, not " + info.bytes();
    }
    if (!index.sha256().equals(info.sha256())) {
      return "has sha256 " + index.sha256() + ", not " + info.sha256();
    }
    if (index.samples() != info.samples()) {
      return "parses to " + index.samples() + " samples, not " + info.samples();
    }
    return null;
  }

  private ShardIndexer.Indexed readBack(URI uri, String name) throws IOException {
    return join(ShardIndexer.indexed(name, () -> store.read(uri), Long.MAX_VALUE, mat).toCompletableFuture());
  }

  private boolean exists(URI uri) {
    try {
      join(store.stat(uri).toCompletableFuture());
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private Map<String, JsonNode> readState(URI base, Consumer<String> notice) {
    Map<String, JsonNode> m = new LinkedHashMap<>();
    URI uri = Manifest.child(base, STATE);
    if (!exists(uri)) {
      return m;
    }
    try {
      ByteString bytes = join(store.read(uri).runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), mat)
          .toCompletableFuture());
      JsonNode j = Json.parseOrMissing(bytes.utf8String());
      if (!PackPlan.FORMAT.equals(j.path("format").asText())) {
        notice.accept(uri + " is not this version's (" + PackPlan.FORMAT + "): every shard is written again");
        return m;
      }
      j.path("shards").fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue()));
    } catch (IOException | RuntimeException e) {
      notice.accept(uri + " cannot be read (" + e.getMessage() + "): every shard is written again");
    }
    return m;
  }

  private static ObjectNode entry(PackPlan.Shard shard, ShardInfo info) {
    return Json.object().put("inputs", shard.inputs()).put("bytes", info.bytes()).put("samples", info.samples())
        .put("sha256", info.sha256());
  }

  private static String stateJson(Map<String, JsonNode> state) {
    ObjectNode j = Json.object().put("format", PackPlan.FORMAT);
    ObjectNode shards = j.putObject("shards");
    state.forEach(shards::set);
    return Json.pretty(j);
  }

  private void writeJson(URI base, String name, String json) throws IOException {
    Path f = Files.createTempFile(scratch, "pack-", ".json");
    try {
      Files.writeString(f, json, StandardCharsets.UTF_8);
      join(store.write(Manifest.child(base, name), f).toCompletableFuture());
    } finally {
      Files.deleteIfExists(f);
    }
  }

  private static <T> T join(java.util.concurrent.CompletableFuture<T> f) throws IOException {
    try {
      return f.join();
    } catch (CompletionException e) {
      throw Failures.asIo(e.getCause(), String.valueOf(e.getCause()));
    }
  }
}
