package dev.conveyor.tools.datagen;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.catalog.CatalogWriter;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.manifest.ShardInfo;
import dev.conveyor.streams.plan.Seeds;
import dev.conveyor.streams.sample.ShardIndexer;
import dev.conveyor.streams.store.ShardIndex;
import dev.conveyor.tools.catalog.CatalogFiles;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.streams.tar.ShardWriter;
import dev.conveyor.tools.Failures;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.FileIO;

/**
 * Generates a synthetic WebDataset: shards {@code part-000000.tar}, ... of samples
 * {@code KEY.jpg|KEY.mp4} + {@code KEY.json}, each with its per-sample byte index
 * {@code part-000000.tar.idx.json} ({@link ShardIndex}), {@code shards.json} and the catalog
 * {@code catalog.parquet} ({@link CatalogFiles}), written through a {@link ShardStore}. Samples are encoded in parallel but written in key order, and each
 * depends only on (seed, index): the same spec gives the same bytes.
 */
public final class DatasetGenerator {
  private final ShardStore store;
  private final Path scratch;
  private final int threads;

  /** {@code scratch} holds one shard (and one clip per thread) at a time while it is written. */
  public DatasetGenerator(ShardStore store, Path scratch, int threads) {
    this.store = store;
    this.scratch = scratch;
    this.threads = Math.max(1, threads);
  }

  /** Writes the dataset under {@code base} (an {@code s3://bucket/prefix} or {@code file:///dir}). */
  public Manifest generate(DatasetSpec spec, URI base, LongConsumer onSample) throws IOException, InterruptedException {
    return generate(spec, base, Integer.MAX_VALUE, onSample);
  }

  /** The same, with at most {@code samplesPerShard} samples in a shard (besides the size bound). */
  public Manifest generate(DatasetSpec spec, URI base, int samplesPerShard, LongConsumer onSample)
      throws IOException, InterruptedException {
    Files.createDirectories(scratch);
    List<ShardInfo> shards = new ArrayList<>();
    CatalogWriter catalog = new CatalogWriter(scratch);
    ActorSystem system = ActorSystem.create("conveyor-datagen", ConfigFactory.parseString("pekko.loglevel = WARNING")
        .withFallback(ConfigFactory.load()));
    Materializer mat = Materializer.matFromSystem(system);
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "conveyor-datagen");
      t.setDaemon(true);
      return t;
    });
    try {
      ArrayDeque<Future<Sample>> window = new ArrayDeque<>();
      int next = 0;
      ShardWriter writer = null;
      for (int i = 0; i < spec.samples(); i++) {
        while (next < spec.samples() && window.size() < 2 * threads) {
          int idx = next++;
          window.add(pool.submit(() -> make(spec, idx)));
        }
        Sample s = await(window.poll());
        if (writer != null && writer.samples() > 0
            && (writer.bytesWritten() + s.size() > spec.shardBytes() || writer.samples() >= samplesPerShard)) {
          shards.add(publish(writer, base, mat, catalog));
          writer = null;
        }
        if (writer == null) {
          String name = String.format(Locale.ROOT, "part-%06d.tar", shards.size());
          writer = new ShardWriter(name, Files.createTempFile(scratch, "shard-", ".tar"));
        }
        writer.member(s.key + "." + s.ext, s.body);
        writer.member(s.key + ".json", s.json);
        writer.endSample();
        onSample.accept(i + 1);
      }
      if (writer != null) {
        shards.add(publish(writer, base, mat, catalog));
      }
      Manifest manifest = new Manifest(shards);
      Path json = Files.createTempFile(scratch, "shards-", ".json");
      try {
        Files.writeString(json, manifest.toJson(), StandardCharsets.UTF_8);
        store.write(Manifest.child(base, Manifest.FILE_NAME), json).toCompletableFuture().join();
      } finally {
        Files.deleteIfExists(json);
      }
      CatalogFiles.publish(catalog, manifest, store, base, scratch);
      return manifest;
    } finally {
      catalog.close();
      pool.shutdownNow();
      system.terminate();
    }
  }

  private ShardInfo publish(ShardWriter writer, URI base, Materializer mat, CatalogWriter catalog) throws IOException {
    ShardInfo info = writer.finish();
    Path index = Files.createTempFile(scratch, "index-", ".json");
    try {
      ShardIndexer.Indexed indexed = ShardIndexer.indexed(info.name(),
          () -> FileIO.fromPath(writer.file()).mapMaterializedValue(m -> NotUsed.getInstance()), Long.MAX_VALUE, mat)
          .toCompletableFuture().join();
      ShardIndex idx = indexed.index();
      catalog.add(indexed.rows());
      Files.writeString(index, idx.toJson(), StandardCharsets.UTF_8);
      store.write(Manifest.child(base, info.name()), writer.file()).toCompletableFuture().join();
      store.write(Manifest.child(base, info.name() + ShardIndex.SUFFIX), index).toCompletableFuture().join();
    } finally {
      Files.deleteIfExists(writer.file());
      Files.deleteIfExists(index);
    }
    return info.withIndex();
  }

  private record Sample(String key, String ext, byte[] body, byte[] json) {
    long size() {
      return body.length + json.length + 2048L; // two headers and padding, roughly
    }
  }

  private Sample make(DatasetSpec spec, int i) {
    String key = String.format(Locale.ROOT, "%06d", i);
    var rnd = Seeds.random(spec.seed(), i);
    boolean video = spec.isVideo(i);
    SyntheticMedia.Encoded e = video ? SyntheticMedia.mp4(rnd, scratch) : SyntheticMedia.jpeg(rnd);
    ObjectNode json = Json.object().put("key", key).put("caption", e.caption()).put("label", e.label())
        .put("width", e.width()).put("height", e.height()).put("frames", e.frames());
    if (video) {
      json.put("fps", (int) e.fps());
    }
    return new Sample(key, video ? "mp4" : "jpg", e.bytes(), (Json.compact(json) + "\n").getBytes(StandardCharsets.UTF_8));
  }

  private static Sample await(Future<Sample> f) throws IOException, InterruptedException {
    try {
      return f.get();
    } catch (ExecutionException e) {
      throw Failures.asIo(e.getCause(), "sample generation failed");
    }
  }
}
