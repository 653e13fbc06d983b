package dev.conveyor.cli;

import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import java.nio.file.Path;

/** Synthetic datasets for tests, made by {@code datagen}'s generator. */
public final class Datasets {
  private Datasets() {}

  /** {@code spec}'s dataset in {@code dir}/{@code name} (scratch beside it); the URI of its {@code shards.json}. */
  public static String generate(Path dir, String name, DatasetSpec spec) throws Exception {
    new DatasetGenerator(new FileShardStore(), dir.resolve(name + "-scratch"), 2)
        .generate(spec, dir.resolve(name).toUri(), n -> { });
    return dir.resolve(name).resolve("shards.json").toUri().toString();
  }
}
