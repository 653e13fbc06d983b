package dev.conveyor.cli;

import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.S3Settings;
import dev.conveyor.streams.store.S3ShardStore;
import dev.conveyor.tools.s3.EmbeddedS3;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import dev.conveyor.streams.manifest.Manifest;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** An embedded S3 server on 127.0.0.1 holding a generated dataset under s3://data/train, for CLI tests. */
final class S3Dataset implements AutoCloseable {
  final EmbeddedS3 s3;
  final Manifest manifest;
  final String shards;

  S3Dataset(Path dir, int images, int videos, long shardBytes) throws Exception {
    s3 = EmbeddedS3.start(dir.resolve("s3"), 0);
    S3Settings settings = s3.settings(S3Settings.fromConfig(ConfigFactory.defaultReference()));
    try (S3ShardStore store = new S3ShardStore(settings)) {
      store.ensureBucket("data").toCompletableFuture().join();
      manifest = new DatasetGenerator(store, dir.resolve("scratch"), 2)
          .generate(new DatasetSpec(images, videos, shardBytes, 7), URI.create("s3://data/train"), n -> { });
    }
    shards = "s3://data/train/part-{000000..%06d}.tar".formatted(manifest.shards().size() - 1);
  }

  /** {@code conveyor run} against this server over these shards, with {@code flags}. */
  CliResult run(String... flags) {
    List<String> args = new ArrayList<>(List.of("--shards", shards));
    args.addAll(List.of(flags));
    return CliResult.runAgainst(s3, "run", args);
  }

  @Override
  public void close() {
    s3.close();
  }
}
