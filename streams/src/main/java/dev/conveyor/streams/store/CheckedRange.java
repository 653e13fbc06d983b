package dev.conveyor.streams.store;

import java.net.URI;
import org.apache.pekko.NotUsed;
import org.apache.pekko.japi.pf.PFBuilder;
import org.apache.pekko.stream.Graph;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A range of an indexed shard streamed from a store and checked sample by sample
 * ({@link Verified#range}); at the first sample that does not match its index the range is read
 * again from that sample, so the samples before it are not read twice and the stream goes on
 * as if nothing happened. A transfer error gives other bytes each time and heals; a wrong object
 * gives the same ones: the same sample with the same checksum twice ends the stream with the
 * failure, as do {@value #ATTEMPTS} reads in a row that did not get past the same sample. Each
 * read again is counted as a retry of cause {@link ReaderMetrics.Cause#CORRUPT}.
 */
public final class CheckedRange {
  private static final Logger LOG = LoggerFactory.getLogger(CheckedRange.class);

  /** Reads of a range in a row that may stop at the same sample. */
  static final int ATTEMPTS = 4;

  private CheckedRange() {}

  /** The bytes of {@code range} of {@code shard} from {@code store}, every sample whole and matching its index. */
  public static Source<ByteString, NotUsed> read(ShardStore store, URI shard, ShardIndex.Range range) {
    return attempt(store, shard, range, null, 1);
  }

  /**
   * One read of {@code range}; {@code last}: where and how the previous read of it stopped
   * (null: none), {@code tries}: reads in a row that stopped at {@code last}'s sample.
   */
  private static Source<ByteString, NotUsed> attempt(ShardStore store, URI shard, ShardIndex.Range range,
                                                     BadSample last, int tries) {
    return store.read(shard, range.offset(), range.length())
        .via(Verified.range(shard, range, store.metrics()))
        .recoverWithRetries(1, new PFBuilder<Throwable, Graph<SourceShape<ByteString>, NotUsed>>()
            .match(ShardReadException.class, e -> e.getCause() instanceof BadSample, e -> {
              BadSample bad = (BadSample) e.getCause();
              int inARow = last != null && last.sample() == bad.sample() ? tries + 1 : 1;
              if (bad.sameAs(last)) {
                store.metrics().integrityFailure();
                return Source.failed(new ShardReadException(shard, e.reason() + " (read again: the same bytes, so the"
                    + " object is not the one indexed)", null, true));
              }
              if (inARow >= ATTEMPTS) {
                store.metrics().integrityFailure();
                return Source.failed(new ShardReadException(shard, e.reason() + " (" + ATTEMPTS
                    + " reads in a row stopped at this sample)", null, true));
              }
              store.metrics().retry(ReaderMetrics.Cause.CORRUPT);
              LOG.warn("{}: reading again from sample #{}: {}", shard, bad.sample(), e.reason());
              return attempt(store, shard, range.rest(bad.sample()), bad, inARow);
            })
            .build());
  }

  /**
   * Where a checked range stopped: sample {@code sample} of the shard arrived with checksum
   * {@code crc32c}, or ({@code whole} false) did not arrive whole. The cause of the
   * {@link ShardReadException} that {@link Verified#range} fails with.
   */
  static final class BadSample extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int sample;
    private final boolean whole;
    private final int crc32c;

    BadSample(int sample, boolean whole, int crc32c) {
      super("sample #" + sample + (whole ? " crc32c " + Integer.toUnsignedString(crc32c) : " cut short"), null,
          false, false);
      this.sample = sample;
      this.whole = whole;
      this.crc32c = crc32c;
    }

    int sample() {
      return sample;
    }

    /** The same sample stopped the same way: with the same checksum, or cut short. */
    boolean sameAs(BadSample other) {
      return other != null && other.sample == sample && other.whole == whole && other.crc32c == crc32c;
    }
  }
}
