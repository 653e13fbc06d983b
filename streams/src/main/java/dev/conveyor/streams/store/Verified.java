package dev.conveyor.streams.store;

import java.net.URI;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * Checks a shard's bytes against its manifest as they stream: a running size and sha256, and
 * the last chunk held back until the end is checked, so a reader never finishes the shard on
 * bytes that fail. On a mismatch the stream fails with a {@link ShardReadException} naming
 * both digests (the samples before the last chunk have gone on; {@code ReadAhead} checks
 * shards that fit its budget whole, before any byte goes on).
 */
public final class Verified {
  private Verified() {}

  public static Flow<ByteString, ByteString, NotUsed> flow(URI shard, ShardCheck check, ReaderMetrics metrics) {
    if (!check.checksSomething()) {
      return Flow.create();
    }
    return Flow.fromGraph(new Stage(shard, check, metrics));
  }

  /**
   * Checks a range of a shard sample by sample against its index ({@link RangeDigest}): a
   * sample's bytes are held until they have all arrived and matched, then go on; at the first
   * sample that does not match (or a range that ends short or runs long) the stream fails with
   * a {@link ShardReadException}, so every sample before it arrives whole and none of it does
   * ({@link CheckedRange} reads the range again from there). Holds at most one sample and one chunk.
   */
  public static Flow<ByteString, ByteString, NotUsed> range(URI shard, ShardIndex.Range range, ReaderMetrics metrics) {
    return Flow.fromGraph(new RangeStage(shard, range, metrics));
  }

  /** A stage that passes a shard's bytes on while it checks them: its ports, and where it reports. */
  private abstract static class Check extends GraphStage<FlowShape<ByteString, ByteString>> {
    final URI shard;
    final ReaderMetrics metrics;
    final Inlet<ByteString> in = Inlet.create("Verified.in");
    final Outlet<ByteString> out = Outlet.create("Verified.out");

    Check(URI shard, ReaderMetrics metrics) {
      this.shard = shard;
      this.metrics = metrics;
    }

    @Override
    public FlowShape<ByteString, ByteString> shape() {
      return FlowShape.of(in, out);
    }
  }

  private static final class RangeStage extends Check {
    private final ShardIndex.Range range;

    RangeStage(URI shard, ShardIndex.Range range, ReaderMetrics metrics) {
      super(shard, metrics);
      this.range = range;
    }

    @Override
    public GraphStageLogic createLogic(Attributes attrs) {
      return new GraphStageLogic(shape()) {
        private final RangeDigest digest = RangeDigest.of(range);
        private ByteString held = ByteString.emptyByteString(); // bytes of the sample not yet whole, unchecked
        private long heldAt = range.offset(); // where they begin

        {
          setHandler(in, new AbstractInHandler() {
            @Override
            public void onPush() {
              ByteString b = grab(in);
              int bad = digest.update(b);
              held = held.concat(b);
              // what goes on: the bytes of the samples that arrived whole and matched
              long upTo = digest.start(bad >= 0 ? bad : digest.completed());
              ByteString checked = held.take((int) (upTo - heldAt));
              held = held.drop(checked.size());
              heldAt = upTo;
              if (bad >= 0) {
                ShardReadException e = fail("sample #" + (range.from() + bad) + " does not match the shard's index: "
                    + digest.mismatch(), new CheckedRange.BadSample(range.from() + bad, true, digest.checksum(bad)));
                if (checked.isEmpty()) {
                  failStage(e);
                } else {
                  emit(out, checked, () -> failStage(e));
                }
              } else if (checked.isEmpty()) {
                pull(in);
              } else {
                push(out, checked);
              }
            }

            @Override
            public void onUpstreamFinish() {
              String wrong = digest.mismatch();
              if (wrong != null) { // cut short (the samples before went on whole), or ran long
                failStage(fail(wrong, digest.ranLong() ? null
                    : new CheckedRange.BadSample(range.from() + digest.completed(), false, 0)));
              } else {
                completeStage();
              }
            }
          });
          setHandler(out, new AbstractOutHandler() {
            @Override
            public void onPull() {
              pull(in);
            }
          });
        }

        /** {@code where}: the sample it stopped at (the bytes before went on whole), null: past the range. */
        private ShardReadException fail(String why, CheckedRange.BadSample where) {
          if (where == null) { // else counted by whoever gives up on it
            metrics.integrityFailure();
          }
          return new ShardReadException(shard, why, where, where != null);
        }
      };
    }
  }

  private static final class Stage extends Check {
    private final ShardCheck check;

    Stage(URI shard, ShardCheck check, ReaderMetrics metrics) {
      super(shard, metrics);
      this.check = check;
    }

    @Override
    public GraphStageLogic createLogic(Attributes attrs) {
      return new GraphStageLogic(shape()) {
        private final ShardCheck.Digest digest = new ShardCheck.Digest(check);
        private ByteString held;

        {
          setHandler(in, new AbstractInHandler() {
            @Override
            public void onPush() {
              ByteString b = grab(in);
              digest.update(b);
              ByteString previous = held;
              held = b;
              if (previous != null) {
                push(out, previous);
              } else {
                pull(in);
              }
            }

            @Override
            public void onUpstreamFinish() {
              String wrong = digest.mismatch(check);
              if (wrong != null) {
                metrics.integrityFailure();
                failStage(new ShardReadException(shard, "does not match its manifest: " + wrong, null));
              } else if (held == null) {
                completeStage();
              } else if (isAvailable(out)) {
                push(out, held);
                completeStage();
              } // else onPull delivers it
            }
          });
          setHandler(out, new AbstractOutHandler() {
            @Override
            public void onPull() {
              if (isClosed(in)) { // checked and passed: the held chunk is the last
                push(out, held);
                completeStage();
              } else if (!hasBeenPulled(in)) {
                pull(in);
              }
            }
          });
        }
      };
    }
  }
}
