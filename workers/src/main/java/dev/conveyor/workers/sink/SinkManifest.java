package dev.conveyor.workers.sink;

import dev.conveyor.config.SinkSettings;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.manifest.ShardInfo;
import dev.conveyor.streams.store.ShardIndex;
import dev.conveyor.streams.store.ShardStore;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;

/**
 * A batch job's {@code shards.json}: its committed shards — those of its recipe whose per-sample
 * index is there — in name order (epoch, rank, first batch), each with its size, samples and
 * SHA-256 from its index. Written when the job ends, so that a training job can read the new
 * dataset as it reads any ({@code shards = "…/shards.json"}).
 */
public final class SinkManifest {
  private SinkManifest() {}

  /** Lists {@code recipeId}'s committed shards in {@code sink}'s folder and writes {@code shards.json} there. */
  public static Manifest write(ShardStore store, SinkSettings sink, String recipeId, Materializer mat) throws Exception {
    List<URI> all = store.list(URI.create(sink.to())).toCompletableFuture().get(5, TimeUnit.MINUTES);
    Set<String> names = all.stream().map(SinkManifest::name).collect(Collectors.toSet());
    List<ShardInfo> shards = new ArrayList<>();
    for (String name : names.stream().filter(n -> SinkNames.isShard(recipeId, n)).sorted().toList()) {
      if (!names.contains(name + ShardIndex.SUFFIX)) {
        continue; // written, not committed: a resumed run writes it again
      }
      ByteString json = store.read(SinkNames.child(sink, name + ShardIndex.SUFFIX))
          .runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), mat)
          .toCompletableFuture().get(5, TimeUnit.MINUTES);
      ShardIndex index = ShardIndex.parse(json.utf8String());
      shards.add(new ShardInfo(name, index.bytes(), index.samples(), index.sha256(), true));
    }
    Manifest manifest = new Manifest(shards);
    Path tmp = Files.createTempFile("shards-", ".json");
    try {
      Files.writeString(tmp, manifest.toJson());
      store.write(SinkNames.child(sink, Manifest.FILE_NAME), tmp).toCompletableFuture().get(5, TimeUnit.MINUTES);
    } finally {
      Files.deleteIfExists(tmp);
    }
    return manifest;
  }

  private static String name(URI uri) {
    String p = uri.getPath();
    return p.substring(p.lastIndexOf('/') + 1);
  }
}
