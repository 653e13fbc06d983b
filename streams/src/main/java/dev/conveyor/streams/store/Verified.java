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

  private static final class Stage extends GraphStage<FlowShape<ByteString, ByteString>> {
    private final URI shard;
    private final ShardCheck check;
    private final ReaderMetrics metrics;
    private final Inlet<ByteString> in = Inlet.create("Verified.in");
    private final Outlet<ByteString> out = Outlet.create("Verified.out");

    Stage(URI shard, ShardCheck check, ReaderMetrics metrics) {
      this.shard = shard;
      this.check = check;
      this.metrics = metrics;
    }

    @Override
    public FlowShape<ByteString, ByteString> shape() {
      return FlowShape.of(in, out);
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
