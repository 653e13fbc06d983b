package dev.conveyor.orchestrator.client;

import dev.conveyor.config.JobSettings;
import dev.conveyor.config.SettingsException;
import dev.conveyor.streams.plan.ShardList;
import dev.conveyor.streams.store.ShardReadException;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.streams.manifest.Manifest;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;

/** Finds and reads the job's {@code shards.json}, per {@code conveyor.job.manifest}. */
final class ManifestLoader {
  private static final long MAX_MANIFEST_BYTES = 512L * 1024 * 1024;
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private ManifestLoader() {}

  static Optional<Manifest> load(String setting, ShardList shards, ShardStore store, Materializer mat) {
    String key = JobSettings.PATH + ".manifest";
    if (setting.equals("none") || setting.isEmpty()) {
      return Optional.empty();
    }
    boolean auto = setting.equals("auto");
    URI uri;
    if (auto) {
      String first = shards.shards().get(0).toString();
      uri = URI.create(first.substring(0, first.lastIndexOf('/') + 1) + Manifest.FILE_NAME);
    } else {
      uri = URI.create(setting);
      if (!shards.scheme().equals(uri.getScheme())) {
        throw new SettingsException(key, "must use the shards' scheme " + shards.scheme() + "://, got " + setting);
      }
    }
    return read(uri, store, mat, key, auto);
  }

  /**
   * Reads the manifest at {@code uri}; a failure names {@code key}. When {@code optional}, an
   * unreadable manifest means none.
   */
  static Optional<Manifest> read(URI uri, ShardStore store, Materializer mat, String key, boolean optional) {
    String json;
    try {
      ByteString bytes = store.read(uri)
          .limitWeighted(MAX_MANIFEST_BYTES, b -> (long) b.size())
          .runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), mat)
          .toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      json = bytes.decodeString(StandardCharsets.UTF_8);
    } catch (ExecutionException e) {
      if (optional) {
        return Optional.empty(); // no manifest beside the shards: nothing to compare against
      }
      String why = e.getCause() instanceof ShardReadException r ? r.reason() : String.valueOf(e.getCause());
      throw new SettingsException(key, "cannot read " + uri + ": " + why);
    } catch (TimeoutException e) {
      throw new SettingsException(key, "reading " + uri + " took longer than " + TIMEOUT.toSeconds() + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading " + uri, e);
    }
    try {
      return Optional.of(Manifest.parse(json));
    } catch (IllegalArgumentException e) {
      throw new SettingsException(key, uri + " is " + e.getMessage() + " (set manifest = \"none\" to run without it)");
    }
  }
}
