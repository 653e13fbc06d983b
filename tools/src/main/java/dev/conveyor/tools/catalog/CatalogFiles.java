package dev.conveyor.tools.catalog;

import dev.conveyor.streams.catalog.Catalog;
import dev.conveyor.streams.catalog.CatalogWriter;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.store.ShardStore;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The catalog that {@code datagen}, {@code pack} and {@code index} write beside the
 * {@code shards.json} they write: {@value Catalog#FILE_NAME}, naming the manifest's corpus version.
 */
public final class CatalogFiles {
  private CatalogFiles() {}

  /** Writes {@code rows}' catalog of the dataset {@code manifest} lists under {@code base} through {@code store}. */
  public static void publish(CatalogWriter rows, Manifest manifest, ShardStore store, URI base, Path scratch)
      throws IOException {
    Path file = scratch.resolve("catalog-" + System.nanoTime() + ".parquet");
    try {
      rows.finish(file, Catalog.corpusVersion(manifest.toJson()));
      store.write(Manifest.child(base, Catalog.FILE_NAME), file).toCompletableFuture().join();
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
