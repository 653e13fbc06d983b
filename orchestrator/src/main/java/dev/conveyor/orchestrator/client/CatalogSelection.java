package dev.conveyor.orchestrator.client;

import dev.conveyor.config.Selection;
import dev.conveyor.config.SettingsException;
import dev.conveyor.streams.catalog.Catalog;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.manifest.ShardInfo;
import dev.conveyor.streams.plan.SelectedShardSet;
import dev.conveyor.streams.plan.ShardSet;
import dev.conveyor.streams.store.ShardStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.pekko.stream.IOResult;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.FileIO;

/**
 * A recipe's shards narrowed to the samples a catalog's query chose: the dataset's
 * {@code catalog.parquet} (beside its {@code shards.json}) read through the job's own store,
 * checked to be of the manifest's corpus version (and of the one the job names, if it names
 * one), queried, and each shard listed with the numbers of its chosen samples. Every problem is
 * a {@link SettingsException} naming the setting ({@code where} or {@code corpus-version}).
 */
final class CatalogSelection {
  private CatalogSelection() {}

  /** What a query chose, beside the shards it narrowed: for the run's first lines and {@code conveyor recipe}. */
  record Chosen(ShardSet shards, String version, long chosen, long rows, long bytes) {}

  /**
   * {@code set} (the shards of the dataset {@code manifest} at {@code manifestUri} lists, each
   * with its sample count) narrowed to what {@code selection} chooses; {@code at} is the
   * settings' path ({@code conveyor.job} or a source's).
   */
  static Chosen choose(Selection selection, String at, ShardSet set, URI manifestUri, Manifest manifest,
                       ShardStore store, Materializer mat, Consumer<String> notice) {
    String version = Catalog.corpusVersion(manifest.toJson());
    if (!selection.corpusVersion().isEmpty() && !selection.corpusVersion().equals(version)) {
      throw new SettingsException(at + ".corpus-version", "is " + selection.corpusVersion() + ", but the dataset at "
          + manifestUri + " is of corpus version " + version + " now: its shards.json changed since");
    }
    URI catalogUri = Manifest.child(dir(manifestUri), Catalog.FILE_NAME);
    Path file = null;
    Path other = null;
    try {
      file = Files.createTempFile("conveyor-catalog-", ".parquet");
      fetch(catalogUri, file, store, mat, at + ".where");
      String joined = "";
      if (!selection.catalog().isEmpty()) {
        URI theirs = URI.create(selection.catalog());
        if (!manifestUri.getScheme().equals(theirs.getScheme())) {
          throw new SettingsException(at + ".catalog", "must be on the shards' store (" + manifestUri.getScheme()
              + "://), got " + selection.catalog());
        }
        other = Files.createTempFile("conveyor-their-catalog-", ".parquet");
        fetch(theirs, other, store, mat, at + ".catalog");
        joined = " joined with " + selection.catalog() + " " + sha256(other);
      }
      try (Catalog catalog = other == null ? Catalog.open(file) : Catalog.joined(file, other)) {
        String its = catalog.version().orElse("(none)");
        if (!its.equals(version)) {
          throw new SettingsException(at + ".where", "the catalog " + catalogUri + " is of corpus version " + its
              + ", but its shards.json is of " + version + ": the dataset changed since its catalog was written"
              + " (conveyor index --in " + dir(manifestUri) + " writes it again)");
        }
        Catalog.Chosen chosen = catalog.choose(selection.where());
        if (chosen.chosen() == 0) {
          throw new SettingsException(at + ".where", "\"" + selection.where() + "\" chooses none of the catalog's "
              + chosen.rows() + " samples");
        }
        ShardSet narrowed = narrow(set, chosen, manifest, dir(manifestUri), catalogUri, at,
            "where \"" + selection.where() + "\" over corpus version " + version + ", catalog " + sha256(file) + joined
                + "; ");
        notice.accept("recipe: where " + selection.where() + " chose " + chosen.chosen() + " of " + chosen.rows()
            + " samples in " + narrowed.size() + " shard(s) (corpus version " + version.substring(0, 12) + ")");
        return new Chosen(narrowed, version, chosen.chosen(), chosen.rows(), chosen.bytes());
      }
    } catch (Catalog.CatalogException e) {
      throw new SettingsException(at + ".where", e.getMessage());
    } catch (IOException e) {
      throw new UncheckedIOException("could not read the catalog " + catalogUri + ": " + e.getMessage(), e);
    } finally {
      delete(file);
      delete(other);
    }
  }

  /** The shards of {@code set} the query chose any samples of, each with their numbers, checked against the manifest. */
  private static ShardSet narrow(ShardSet set, Catalog.Chosen chosen, Manifest manifest, URI dir, URI catalogUri,
                                 String at, String selection) {
    Map<String, ShardInfo> listed = manifest.byName();
    String base = dir.toString();
    List<String> names = new ArrayList<>();
    List<int[]> picks = new ArrayList<>();
    List<Integer> held = new ArrayList<>();
    for (int i = 0; i < set.size(); i++) {
      String uri = set.name(i);
      String name = uri.startsWith(base) ? uri.substring(base.length()) : uri.substring(uri.lastIndexOf('/') + 1);
      int[] samples = chosen.samples().get(name);
      if (samples == null) {
        continue;
      }
      ShardInfo info = listed.get(name);
      int last = samples[samples.length - 1];
      if (last >= set.count(i)) {
        throw new SettingsException(at + ".where", "the catalog " + catalogUri + " lists sample " + last + " of " + name
            + ", which holds " + set.count(i) + " samples: the catalog does not describe these shards");
      }
      long end = chosen.ends().getOrDefault(name, 0L);
      if (info != null && info.bytes() >= 0 && end > info.bytes()) {
        throw new SettingsException(at + ".where", "the catalog " + catalogUri + " places a sample of " + name
            + " up to byte " + end + ", past its " + info.bytes() + " bytes: the catalog does not describe these shards");
      }
      if (info != null && !info.indexed()) {
        throw new SettingsException(at + ".where", name + " has no per-sample index, so its chosen samples cannot be"
            + " read alone: conveyor index --in " + dir + " writes one");
      }
      names.add(uri);
      picks.add(samples);
      held.add(set.count(i));
    }
    if (names.isEmpty()) {
      throw new SettingsException(at + ".where", "chooses samples only of shards the job does not read");
    }
    try {
      return new SelectedShardSet(names, picks.toArray(int[][]::new), held.stream().mapToInt(Integer::intValue)
          .toArray(), selection);
    } catch (IllegalArgumentException e) { // a sample listed twice
      throw new SettingsException(at + ".where", "the catalog " + catalogUri + " does not describe these shards: "
          + e.getMessage());
    }
  }

  private static void delete(Path temporary) {
    if (temporary != null) {
      try {
        Files.deleteIfExists(temporary);
      } catch (IOException ignored) {
        // a temporary file
      }
    }
  }

  /** Copies {@code catalog} to {@code file} through {@code store}; a failure names the setting {@code key}. */
  private static void fetch(URI catalog, Path file, ShardStore store, Materializer mat, String key) throws IOException {
    try {
      IOResult r = store.read(catalog).runWith(FileIO.toPath(file), mat).toCompletableFuture().get(10, TimeUnit.MINUTES);
      if (r.count() == 0) {
        throw new SettingsException(key, "the catalog " + catalog + " is empty");
      }
    } catch (ExecutionException e) {
      throw new SettingsException(key, "needs the catalog " + catalog + ", which cannot be read ("
          + e.getCause().getMessage() + ")" + (catalog.getPath().endsWith("/" + Catalog.FILE_NAME)
          ? ": conveyor index --in " + dir(catalog) + " writes one" : ""));
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IOException("reading the catalog " + catalog + " took over 10 minutes", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while reading the catalog " + catalog, e);
    }
  }

  /** The catalog's version: the sha256 of its bytes. */
  static String sha256(Path file) throws IOException {
    java.security.MessageDigest sha = dev.conveyor.streams.store.ShardCheck.newSha256();
    try (var in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        sha.update(buf, 0, n);
      }
    }
    return java.util.HexFormat.of().formatHex(sha.digest());
  }

  /** The folder {@code file} lies in, with its trailing slash. */
  static URI dir(URI file) {
    String s = file.toString();
    return URI.create(s.substring(0, s.lastIndexOf('/') + 1));
  }
}
