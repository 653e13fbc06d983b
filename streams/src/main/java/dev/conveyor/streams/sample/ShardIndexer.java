package dev.conveyor.streams.sample;

import dev.conveyor.streams.catalog.CatalogRow;
import dev.conveyor.streams.store.RangeDigest;
import dev.conveyor.streams.store.ShardCheck;
import dev.conveyor.streams.store.ShardIndex;
import dev.conveyor.streams.tar.TarRecord;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Builds a shard's {@link ShardIndex} in two passes over its bytes: the tar parser finds where
 * each sample's first member begins (the WebDataset rule groups members into samples, as a
 * reader does), then the samples' CRC32C, the size and the sha256 are computed.
 *
 * <p>Only a shard whose every member belongs to a sample as a whole read would group it is
 * indexed: one with a stray or skipped member, a key that comes back after other keys or a
 * duplicate extension — which a reader of a range could group differently — fails with
 * {@link Unindexable}, and is read whole as before.
 */
public final class ShardIndexer {
  private ShardIndexer() {}

  /** Why a shard gets no index. */
  public static final class Unindexable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unindexable(String why) {
      super(why);
    }
  }

  /** A shard's index and its samples' rows of the dataset's catalog. */
  public record Indexed(ShardIndex index, List<CatalogRow> rows) {}

  /** Indexes shard {@code name}; {@code bytes} gives its bytes from the first, once per pass. */
  public static CompletionStage<ShardIndex> index(String name, Supplier<Source<ByteString, NotUsed>> bytes,
                                                  long maxMemberBytes, Materializer mat) {
    return indexed(name, bytes, maxMemberBytes, mat).thenApply(Indexed::index);
  }

  /** Indexes shard {@code name} as {@link #index} does, listing its samples for the catalog too. */
  public static CompletionStage<Indexed> indexed(String name, Supplier<Source<ByteString, NotUsed>> bytes,
                                                 long maxMemberBytes, Materializer mat) {
    return bytes.get().via(dev.conveyor.streams.tar.TarParser.flow(maxMemberBytes))
        .runWith(Sink.fold(new Starts(), Starts::add), mat)
        .thenCompose(starts -> {
          long[] bounds = starts.bounds();
          RangeDigest crc = new RangeDigest(bounds, null);
          MessageDigest sha = ShardCheck.newSha256();
          return bytes.get().runWith(Sink.fold(0L, (n, b) -> {
            crc.update(b);
            for (java.nio.ByteBuffer bb : b.getByteBuffers()) {
              sha.update(bb);
            }
            return n + b.size();
          }), mat).thenApply(size -> new Indexed(new ShardIndex(name, size, HexFormat.of().formatHex(sha.digest()),
              bounds, crc.checksums()), starts.rows(name)));
        });
  }

  /** Where each sample begins, by the WebDataset rule, and where the last one ends; each one's members and fields. */
  private static final class Starts {
    private final List<Long> starts = new ArrayList<>();
    private final List<String> sampleKeys = new ArrayList<>();
    private final List<Map<String, Long>> members = new ArrayList<>();
    private final List<Map<String, Object>> fields = new ArrayList<>();
    private final Set<String> keys = new HashSet<>();
    private final Set<String> extensions = new HashSet<>();
    private String key;
    private long end;

    Starts add(TarRecord r) {
      if (r instanceof TarRecord.Skipped s) {
        throw new Unindexable("member " + s.path() + " is skipped by readers (" + s.reason() + ")");
      }
      TarRecord.File f = (TarRecord.File) r;
      StringBuilder whyNot = new StringBuilder();
      var split = WebDatasetKeys.split(f.path(), whyNot).orElseThrow(
          () -> new Unindexable("member " + f.path() + " belongs to no sample (" + whyNot + ")"));
      if (!split.key().equals(key)) {
        key = split.key();
        if (!keys.add(key)) {
          throw new Unindexable("key " + key + " appears again after other keys");
        }
        extensions.clear();
        starts.add(starts.isEmpty() ? 0 : f.start()); // what precedes the first member (directories) goes with it
        sampleKeys.add(key);
        members.add(new LinkedHashMap<>());
        fields.add(Map.of());
      }
      if (!extensions.add(split.ext())) {
        throw new Unindexable("sample " + key + " has two ." + split.ext() + " members");
      }
      members.get(members.size() - 1).put(split.ext(), (long) f.data().size());
      if (split.ext().equals("json")) {
        fields.set(fields.size() - 1, CatalogRow.fields(f.data().toArray()));
      }
      end = f.end();
      return this;
    }

    List<CatalogRow> rows(String shard) {
      long[] b = bounds();
      List<CatalogRow> out = new ArrayList<>(sampleKeys.size());
      for (int i = 0; i < sampleKeys.size(); i++) {
        out.add(new CatalogRow(sampleKeys.get(i), shard, i, b[i], b[i + 1] - b[i], members.get(i), fields.get(i)));
      }
      return out;
    }

    long[] bounds() {
      long[] b = new long[starts.size() + 1];
      for (int i = 0; i < starts.size(); i++) {
        b[i] = starts.get(i);
      }
      b[starts.size()] = end;
      return b;
    }
  }
}
