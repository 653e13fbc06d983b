package dev.conveyor.streams.sample;

import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.streams.tar.TarParser;
import java.net.URI;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/** The records of one shard: its bytes from the store, parsed as a tar and grouped into samples. */
public final class ShardSamples {
  private ShardSamples() {}

  /**
   * Never fails: a shard that cannot be read, or stops being readable, ends with a
   * {@link DeadLetter} after the samples read before the failure.
   */
  public static Source<ShardRecord, NotUsed> read(ShardStore store, URI shard, long maxMemberBytes) {
    return parse(store.read(shard), shard, maxMemberBytes);
  }

  /** The records of {@code shard}'s bytes, from its first: parsed as a tar and grouped; never fails, as {@link #read}. */
  public static Source<ShardRecord, NotUsed> parse(Source<ByteString, NotUsed> bytes, URI shard, long maxMemberBytes) {
    return bytes
        .via(TarParser.flow(maxMemberBytes))
        .via(SampleGrouping.flow(shard.toString()));
  }

  /**
   * The records of a range of {@code shard}'s bytes that begins at a sample's first header and
   * ends at a sample's end (a {@link dev.conveyor.streams.store.ShardIndex} range). Never fails,
   * as {@link #read} does not.
   */
  public static Source<ShardRecord, NotUsed> range(Source<ByteString, NotUsed> bytes, URI shard, long maxMemberBytes) {
    return bytes
        .via(TarParser.rangeFlow(maxMemberBytes))
        .via(SampleGrouping.flow(shard.toString()));
  }

  /**
   * Of a whole shard's {@code records}, the samples a catalog's query chose ({@code chosen}: the
   * shard's sample numbers, ascending; null: every sample), with every dead letter: so that the
   * plan's sample {@code i} is the {@code i}-th record that is a sample.
   */
  public static Source<ShardRecord, NotUsed> chosen(Source<ShardRecord, NotUsed> records, int[] chosen) {
    if (chosen == null) {
      return records;
    }
    return records.statefulMapConcat(() -> {
      int[] at = {0, 0}; // the shard's sample number of the next sample; the next chosen index
      return r -> {
        if (!(r instanceof RawSample)) {
          return java.util.List.of(r);
        }
        int n = at[0]++;
        if (at[1] < chosen.length && chosen[at[1]] == n) {
          at[1]++;
          return java.util.List.of(r);
        }
        return java.util.List.of();
      };
    });
  }
}
