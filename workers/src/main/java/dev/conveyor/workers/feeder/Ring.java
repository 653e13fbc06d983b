package dev.conveyor.workers.feeder;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.SinkShape;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;

/**
 * A prefetch ring between a stream and one consumer thread: the stream fills it up to
 * {@code depth} elements and then waits; the consumer takes from it without going through the
 * stream's machinery, and wakes the stream only when the ring has drained to half (so a
 * consumer slower than the stream pays for a wake-up once every depth/2 elements, not on every
 * one). The stream's end and failure travel through the ring after its elements.
 */
final class Ring<T> {
  private static final Object END = new Object();

  private record Failure(Throwable cause) {}

  private final int depth;
  private final ArrayBlockingQueue<Object> queue;
  private volatile boolean streamWaiting;
  private volatile AsyncCallback<NotUsed> wake;

  Ring(int depth) {
    this.depth = depth;
    this.queue = new ArrayBlockingQueue<>(depth + 1); // + the end or failure marker
  }

  /** The sink that fills this ring. Materialize it once. */
  Sink<T, NotUsed> sink() {
    return Sink.fromGraph(new Filler());
  }

  /**
   * The next element, waiting up to {@code timeoutNanos}; null at the end of the stream;
   * throws the stream's failure. {@code Timeout} when nothing came in time.
   */
  @SuppressWarnings("unchecked")
  T take(long timeoutNanos) throws InterruptedException, java.util.concurrent.TimeoutException {
    wakeIfLow();
    Object o = queue.poll(timeoutNanos, TimeUnit.NANOSECONDS);
    if (o == null) {
      throw new java.util.concurrent.TimeoutException("no element within " + timeoutNanos / 1_000_000 + " ms");
    }
    if (o == END) {
      queue.offer(END); // stays ended for later calls
      return null;
    }
    if (o instanceof Failure f) {
      queue.offer(f);
      throw new IllegalStateException("the rank's stream failed: " + f.cause().getMessage(), f.cause());
    }
    wakeIfLow();
    return (T) o;
  }

  /** Elements waiting in the ring now (with the end marker, once the stream ended). */
  int size() {
    return queue.size();
  }

  private void wakeIfLow() {
    AsyncCallback<NotUsed> w = wake;
    if (streamWaiting && w != null && queue.size() <= depth / 2) {
      streamWaiting = false;
      w.invoke(NotUsed.getInstance());
    }
  }

  private final class Filler extends GraphStage<SinkShape<T>> {
    private final Inlet<T> in = Inlet.create("Ring.in");

    @Override
    public SinkShape<T> shape() {
      return SinkShape.of(in);
    }

    @Override
    public GraphStageLogic createLogic(Attributes attrs) {
      return new GraphStageLogic(shape()) {
        {
          setHandler(in, new AbstractInHandler() {
            @Override
            public void onPush() {
              queue.add(grab(in));
              askIfRoom();
            }

            @Override
            public void onUpstreamFinish() {
              queue.add(END);
              completeStage();
            }

            @Override
            public void onUpstreamFailure(Throwable t) {
              queue.add(new Failure(t));
              failStage(t);
            }
          });
        }

        @Override
        public void preStart() {
          wake = createAsyncCallback(x -> askIfRoom());
          pull(in);
        }

        private void askIfRoom() {
          if (isClosed(in) || hasBeenPulled(in)) {
            return;
          }
          if (queue.size() < depth) {
            pull(in);
          } else {
            streamWaiting = true;
            // the consumer may have taken in between: look again, so that the wake-up is not missed
            if (queue.size() < depth) {
              streamWaiting = false;
              pull(in);
            }
          }
        }
      };
    }
  }
}
